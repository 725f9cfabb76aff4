import { Command, Option } from 'commander';

import { runVerifyCommand, VerifyCommandFormat, VerifyCommandIo } from '@app/signatures';

const FORMATS: VerifyCommandFormat[] = [
  'cosign',
  'sigstore-bundle',
  'notation-jws',
  'notation-cose',
  'gpg',
];

interface VerifyFlags {
  manifest: string;
  signature: string;
  payload?: string;
  reference: string;
  format?: VerifyCommandFormat;
  key?: string[];
  gpgKeyring?: string;
  trustStore?: string;
  trustedRoot?: string;
  policy?: string;
  identity?: string;
  issuer?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Adds `verify`: offline verification of one signature file against a manifest file, with the
 * verifier the service uses. The action sets the exit code: 0 verified, 1 not verified, 3 usage
 * error or unreadable input. Commander's own usage errors reach the program's error handler.
 */
export function registerVerifyCommand(program: Command, output: VerifyCommandIo): void {
  program
    .command('verify')
    .description(
      'Verify a signature file against a manifest file offline; exit 0 verified, 1 not verified, 3 usage error or unreadable input.',
    )
    .requiredOption(
      '--manifest <file>',
      'manifest file; the signature must name its SHA-256 digest',
    )
    .requiredOption(
      '--signature <file>',
      'signature file: base64 cosign signature, Sigstore bundle, Notary envelope or OpenPGP message',
    )
    .option('--payload <file>', 'signed simple-signing payload file (cosign format)')
    .requiredOption(
      '--reference <reference>',
      'docker reference to verify the image as, e.g. registry.example.com/team/app:v1',
    )
    .addOption(
      new Option('--format <format>', 'signature format (default: detected from the file)').choices(
        FORMATS,
      ),
    )
    .option('--key <file>', 'PEM public key file; repeat the option for several keys', collect)
    .option('--gpg-keyring <file>', 'OpenPGP public keyring file, armored or binary')
    .option('--trust-store <file>', 'PEM file of trusted root certificates (Notary signatures)')
    .option('--trusted-root <file>', 'Sigstore trusted_root.json; needs --identity and --issuer')
    .option('--policy <file>', 'containers policy.json; replaces the trust options above')
    .option('--identity <san>', 'exact certificate identity (SAN) for Sigstore keyless signatures')
    .option('--issuer <url>', 'exact OIDC issuer for Sigstore keyless signatures')
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await runVerifyCommand(
        {
          manifest: flags.manifest,
          signature: flags.signature,
          payload: flags.payload,
          reference: flags.reference,
          format: flags.format,
          key: flags.key,
          gpgKeyring: flags.gpgKeyring,
          trustStore: flags.trustStore,
          trustedRoot: flags.trustedRoot,
          policy: flags.policy,
          identity: flags.identity,
          issuer: flags.issuer,
        },
        output,
      );
    });
}
