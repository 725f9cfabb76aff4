import { readFileSync } from 'node:fs';

import { sha256Digest } from '../digest';
import { SignatureError } from '../errors';
import { parsePolicyJson } from '../policy-json';
import type { TrustAnchor, TrustPolicy } from '../policy-types';
import { parseDockerReference } from '../reference';
import type { SignatureCandidate } from '../types';
import { verifyImageSignatures } from '../verify';

/** Signature file formats the command reads. */
export type VerifyCommandFormat =
  'cosign' | 'sigstore-bundle' | 'notation-jws' | 'notation-cose' | 'gpg';

/** Options of {@link runVerifyCommand}; every value naming a file is a path. */
export interface VerifyCommandOptions {
  /** Manifest file; its SHA-256 is the digest that the signature must name. */
  manifest: string;
  /** Signature file: base64 cosign signature, Sigstore bundle, Notary envelope or OpenPGP message. */
  signature: string;
  /** cosign simple-signing payload file (cosign format only). */
  payload?: string;
  /** Docker reference the image is verified as, for example `registry.example.com/team/app:v1`. */
  reference: string;
  format?: VerifyCommandFormat;
  /** PEM public key files (cosign, Sigstore bundles with a key hint). */
  key?: string[];
  /** OpenPGP public keyring file, armored or binary. */
  gpgKeyring?: string;
  /** PEM file of trusted root certificates for Notary signatures. */
  trustStore?: string;
  /** Sigstore trusted_root.json; needs `identity` and `issuer`. */
  trustedRoot?: string;
  /** containers policy.json; replaces the requirement built from the other trust options. */
  policy?: string;
  /** Exact certificate identity (SAN) for Sigstore keyless signatures. */
  identity?: string;
  /** Exact OIDC issuer for Sigstore keyless signatures. */
  issuer?: string;
}

/** Output streams of the command. */
export interface VerifyCommandIo {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** Exit codes: verified, not verified, usage error or unreadable input. */
export const EXIT_VERIFIED = 0;
export const EXIT_NOT_VERIFIED = 1;
export const EXIT_USAGE = 3;

class UsageError extends SignatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage-invalid', message, options);
  }
}

/**
 * Verifies one signature file offline against a manifest file, like `skopeo standalone-verify`
 * or `cosign verify-blob`, with the same functions the service uses. Prints the verdict and
 * each signature check, and returns 0 only for `verified`. A policy that accepts unsigned
 * images (`not-required`) also returns 1, because nothing was verified.
 */
export async function runVerifyCommand(
  options: VerifyCommandOptions,
  io: VerifyCommandIo,
): Promise<number> {
  let prepared: { candidate: SignatureCandidate; policy: TrustPolicy; manifest: Buffer };
  let reference;
  try {
    reference = parseDockerReference(options.reference);
    if (reference.digest !== undefined) {
      throw new UsageError(
        `--reference ${options.reference} must name a tag or only a repository, not a digest`,
      );
    }
    prepared = prepare(options, io);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}`);
    return EXIT_USAGE;
  }

  const digest = sha256Digest(prepared.manifest);
  const verdict = await verifyImageSignatures({
    digest,
    size: prepared.manifest.length,
    ...mediaTypeOf(prepared.manifest),
    manifest: prepared.manifest,
    reference: {
      registry: reference.registry,
      repository: reference.repository,
      ...(reference.tag !== undefined && { tag: reference.tag }),
    },
    candidates: [prepared.candidate],
    policy: prepared.policy,
  });

  io.stdout(`${verdict.status}: ${verdict.reason}`);
  io.stdout(`digest: ${digest}`);
  io.stdout(`policy scope: ${verdict.policyScope}`);
  for (const check of verdict.checks) {
    io.stdout(`${check.format} ${check.result} (${check.reasonCode}): ${check.reason}`);
  }
  for (const signer of verdict.signers) {
    io.stdout(
      `signer: ${[signer.identity, signer.issuer, signer.keyFingerprint].filter((part) => part !== undefined).join(' ')}`,
    );
  }
  return verdict.status === 'verified' ? EXIT_VERIFIED : EXIT_NOT_VERIFIED;
}

function prepare(options: VerifyCommandOptions, io: VerifyCommandIo) {
  const manifest = readInput(options.manifest, '--manifest');
  const signature = readInput(options.signature, '--signature');
  const payload =
    options.payload === undefined ? undefined : readInput(options.payload, '--payload');
  const format = options.format ?? detectFormat(signature, payload);
  const candidate = candidateFor(format, signature, payload, options.signature);
  const policy =
    options.policy === undefined ? policyFromOptions(options) : policyFromFile(options.policy, io);
  return { candidate, policy, manifest };
}

function readInput(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${option} file ${path} could not be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Detects the format from the first bytes; a payload file means cosign. */
function detectFormat(signature: Buffer, payload: Buffer | undefined): VerifyCommandFormat {
  if (payload !== undefined) {
    return 'cosign';
  }
  const text = signature.toString('utf8').trimStart();
  if (text.startsWith('{')) {
    if (/"mediaType"\s*:\s*"application\/vnd\.dev\.sigstore\.bundle/.test(text)) {
      return 'sigstore-bundle';
    }
    if (text.includes('"protected"') && text.includes('"signature"')) {
      return 'notation-jws';
    }
  }
  const first = signature[0] ?? 0;
  // 0xd2 is CBOR tag 18 (COSE_Sign1); an OpenPGP packet header always has bit 7 set.
  if (first === 0xd2) {
    return 'notation-cose';
  }
  if ((first & 0x80) !== 0) {
    return 'gpg';
  }
  throw new UsageError('the signature format could not be detected; pass --format');
}

function candidateFor(
  format: VerifyCommandFormat,
  signature: Buffer,
  payload: Buffer | undefined,
  source: string,
): SignatureCandidate {
  switch (format) {
    case 'cosign': {
      if (payload === undefined) {
        throw new UsageError(
          '--format cosign needs --payload, the signed simple-signing payload file',
        );
      }
      const text = signature.toString('utf8').trim();
      const signatureBase64 = /^[A-Za-z0-9+/]+={0,2}$/.test(text)
        ? text
        : signature.toString('base64');
      return { format: 'cosign', source, payload, signatureBase64 };
    }
    case 'sigstore-bundle':
      return {
        format: 'sigstore-bundle',
        source,
        bundle: signature,
        ...(payload !== undefined && { artifact: payload }),
      };
    case 'notation-jws':
      return {
        format: 'notary',
        source,
        envelope: signature,
        envelopeMediaType: 'application/jose+json',
      };
    case 'notation-cose':
      return {
        format: 'notary',
        source,
        envelope: signature,
        envelopeMediaType: 'application/cose',
      };
    case 'gpg':
      return { format: 'gpg', source, signature };
  }
}

function policyFromOptions(options: VerifyCommandOptions): TrustPolicy {
  const anchors: TrustAnchor[] = [];
  for (const path of options.key ?? []) {
    anchors.push({
      kind: 'publicKey',
      name: path,
      publicKeyPem: readInput(path, '--key').toString('utf8'),
    });
  }
  if (options.gpgKeyring !== undefined) {
    const bytes = readInput(options.gpgKeyring, '--gpg-keyring');
    const text = bytes.toString('utf8');
    anchors.push({
      kind: 'gpgKeys',
      name: options.gpgKeyring,
      keyring: text.trimStart().startsWith('-----BEGIN PGP') ? text : bytes.toString('base64'),
    });
  }
  if (options.trustStore !== undefined) {
    anchors.push({
      kind: 'x509Roots',
      name: options.trustStore,
      rootsPem: readInput(options.trustStore, '--trust-store').toString('utf8'),
    });
  }
  if (options.trustedRoot !== undefined) {
    if (options.identity === undefined || options.issuer === undefined) {
      throw new UsageError('--trusted-root needs --identity and --issuer');
    }
    anchors.push({
      kind: 'sigstore',
      name: options.trustedRoot,
      trustedRootJson: readInput(options.trustedRoot, '--trusted-root').toString('utf8'),
      identities: [{ issuer: options.issuer, subject: options.identity }],
    });
  }
  if (anchors.length === 0) {
    throw new UsageError(
      'no trust material: pass --key, --gpg-keyring, --trust-store, --trusted-root or --policy',
    );
  }
  return { default: [{ type: 'signedBy', anchors }], scopes: {} };
}

function policyFromFile(path: string, io: VerifyCommandIo): TrustPolicy {
  const text = readInput(path, '--policy').toString('utf8');
  const { policy, unsupported } = parsePolicyJson(text, (keyPath) =>
    readInput(keyPath, `key file in ${path}`),
  );
  for (const part of unsupported) {
    io.stderr(
      `warning: policy.json part not supported, treated as reject where it is a requirement: ${part}`,
    );
  }
  return policy;
}

function mediaTypeOf(manifest: Buffer): { mediaType?: string } {
  try {
    const parsed = JSON.parse(manifest.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? { mediaType: parsed.mediaType } : {};
  } catch {
    return {};
  }
}
