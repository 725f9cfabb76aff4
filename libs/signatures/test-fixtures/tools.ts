/**
 * Test helpers that produce real signature material with installed tools (gpg, skopeo,
 * openssl) into a temporary directory. Used by the unit specs in `beforeAll`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs a program and returns its stdout; throws with stderr on a non-zero exit. Variables in
 * `env` are set through env(1), so the child inherits the rest of the environment.
 */
export function run(
  program: string,
  args: string[],
  options: { env?: Record<string, string>; input?: Buffer | string; cwd?: string } = {},
): Buffer {
  const assignments = Object.entries(options.env ?? {}).map(([name, value]) => `${name}=${value}`);
  const [command, commandArgs] =
    assignments.length === 0 ? [program, args] : ['env', [...assignments, program, ...args]];
  return execFileSync(command, commandArgs, {
    input: options.input,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Creates a temporary directory; call the returned function to delete it. */
export function makeTempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A GPG home with one key: a certify-only ed25519 primary key and an ed25519 signing subkey. */
export interface GpgSigner {
  home: string;
  /** Uppercase fingerprint of the primary key. */
  fingerprint: string;
  /** Uppercase fingerprint of the signing subkey. */
  subkeyFingerprint: string;
  armoredPublicKey: string;
  binaryPublicKeyBase64: string;
}

/**
 * Generates a key with `gpg --batch --gen-key` and `%no-protection`. With `fakedTime`
 * (gpg's `--faked-system-time`, format 20200101T000000) the key is created at that time.
 */
export function createGpgSigner(
  dir: string,
  name: string,
  options: { expireDate?: string; fakedTime?: string } = {},
): GpgSigner {
  const home = join(dir, `gnupg-${name}`);
  mkdirSync(home, { mode: 0o700 });
  const parameters = [
    '%no-protection',
    'Key-Type: eddsa',
    'Key-Curve: ed25519',
    'Key-Usage: cert',
    'Subkey-Type: eddsa',
    'Subkey-Curve: ed25519',
    'Subkey-Usage: sign',
    `Name-Real: ${name}`,
    `Name-Email: ${name}@example.com`,
    `Expire-Date: ${options.expireDate ?? '0'}`,
    '%commit',
    '',
  ].join('\n');
  writeFileSync(join(home, 'params'), parameters);
  gpg(home, [...fakedTime(options.fakedTime), '--gen-key', join(home, 'params')]);
  const listing = gpg(home, ['--list-keys', '--with-colons']).toString();
  const fingerprints = [...listing.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map(
    (match) => match[1] ?? '',
  );
  const [fingerprint, subkeyFingerprint] = fingerprints;
  if (fingerprint === undefined || subkeyFingerprint === undefined) {
    throw new Error(`gpg created no key with a subkey in ${home}:\n${listing}`);
  }
  return {
    home,
    fingerprint,
    subkeyFingerprint,
    armoredPublicKey: gpg(home, ['--armor', '--export', fingerprint]).toString(),
    binaryPublicKeyBase64: gpg(home, ['--export', fingerprint]).toString('base64'),
  };
}

/** Runs gpg in batch mode against a home directory. */
export function gpg(home: string, args: string[], input?: Buffer | string): Buffer {
  return run('gpg', ['--batch', '--yes', '--quiet', ...args], { env: { GNUPGHOME: home }, input });
}

function fakedTime(time: string | undefined): string[] {
  return time === undefined ? [] : ['--faked-system-time', time, '--ignore-time-conflict'];
}

/** Signs a manifest with `skopeo standalone-sign` and returns the OpenPGP signature bytes. */
export function skopeoStandaloneSign(
  signer: GpgSigner,
  dir: string,
  manifest: Buffer,
  dockerReference: string,
): Buffer {
  const manifestPath = join(dir, `manifest-${Date.now()}-${Math.random()}.json`);
  const output = `${manifestPath}.sig`;
  writeFileSync(manifestPath, manifest);
  run(
    'skopeo',
    ['standalone-sign', '--output', output, manifestPath, dockerReference, signer.fingerprint],
    {
      env: { GNUPGHOME: signer.home },
    },
  );
  return readFileSync(output);
}

/** Signs arbitrary payload bytes into an OpenPGP signed message with `gpg --sign`. */
export function gpgSign(
  signer: GpgSigner,
  payload: Buffer | string,
  options: { fakedTime?: string; expire?: string } = {},
): Buffer {
  return gpg(
    signer.home,
    [
      ...fakedTime(options.fakedTime),
      ...(options.expire === undefined ? [] : ['--default-sig-expire', options.expire]),
      '--local-user',
      signer.fingerprint,
      '--sign',
    ],
    payload,
  );
}

/** Builds a GPG simple-signing payload as containers/image writes it. */
export function atomicPayload(digest: string, dockerReference: string): string {
  return JSON.stringify({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest },
      type: 'atomic container signature',
    },
    optional: { creator: 'test', timestamp: 1700000000 },
  });
}

/** Builds a cosign simple-signing payload as cosign writes it. */
export function cosignPayload(digest: string, dockerReference: string): string {
  return JSON.stringify({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': digest },
      type: 'cosign container image signature',
    },
    optional: null,
  });
}

/** Key files made by openssl: `privatePath` (PKCS#8 PEM) and `publicPem` (SPKI PEM). */
export interface OpensslKey {
  privatePath: string;
  publicPem: string;
}

/** Generates a key with `openssl genpkey`: `ec:P-256`, `ec:P-384`, `rsa:2048`, `rsa:3072` or `ed25519`. */
export function opensslKey(dir: string, name: string, spec: string): OpensslKey {
  const privatePath = join(dir, `${name}.key.pem`);
  const [kind, parameter] = spec.split(':');
  const args =
    kind === 'ec'
      ? ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${parameter}`]
      : kind === 'rsa'
        ? ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${parameter}`]
        : ['-algorithm', 'ED25519'];
  run('openssl', ['genpkey', ...args, '-out', privatePath]);
  const publicPem = run('openssl', ['pkey', '-in', privatePath, '-pubout']).toString();
  return { privatePath, publicPem };
}

/** Signs data with openssl: SHA-256 (PKCS#1 v1.5 for RSA, DER for ECDSA), PSS, or Ed25519. */
export function opensslSign(
  dir: string,
  key: OpensslKey,
  data: Buffer | string,
  mode: 'sha256' | 'pss' | 'ed25519' = 'sha256',
): Buffer {
  const dataPath = join(dir, `data-${Date.now()}-${Math.random()}`);
  writeFileSync(dataPath, data);
  if (mode === 'ed25519') {
    return run('openssl', [
      'pkeyutl',
      '-sign',
      '-rawin',
      '-inkey',
      key.privatePath,
      '-in',
      dataPath,
    ]);
  }
  const pss =
    mode === 'pss' ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] : [];
  return run('openssl', ['dgst', '-sha256', '-sign', key.privatePath, ...pss, dataPath]);
}

/** A certificate made by openssl with its key. */
export interface OpensslCertificate {
  key: OpensslKey;
  certPath: string;
  pem: string;
  der: Buffer;
}

/** Extension sets for test chains, in openssl `-extfile` syntax. */
export const EXTENSIONS = {
  ca: 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash',
  notCa:
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyCertSign\nsubjectKeyIdentifier=hash',
  codeSigningLeaf:
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning',
  serverAuthLeaf:
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth',
};

/**
 * Creates a certificate with `openssl req` and `openssl x509 -req`: self-signed without
 * `issuer`, otherwise signed by it. `days` sets the lifetime from now.
 */
export function opensslCertificate(
  dir: string,
  name: string,
  options: {
    subject: string;
    keySpec: string;
    extensions: string;
    issuer?: OpensslCertificate;
    days?: number;
  },
): OpensslCertificate {
  const key = opensslKey(dir, name, options.keySpec);
  const csrPath = join(dir, `${name}.csr`);
  const extPath = join(dir, `${name}.ext`);
  const certPath = join(dir, `${name}.pem`);
  writeFileSync(extPath, `${options.extensions}\n`);
  run('openssl', [
    'req',
    '-new',
    '-key',
    key.privatePath,
    '-subj',
    options.subject,
    '-out',
    csrPath,
  ]);
  const signer =
    options.issuer === undefined
      ? ['-signkey', key.privatePath]
      : [
          '-CA',
          options.issuer.certPath,
          '-CAkey',
          options.issuer.key.privatePath,
          '-CAcreateserial',
        ];
  run('openssl', [
    'x509',
    '-req',
    '-in',
    csrPath,
    ...signer,
    '-days',
    String(options.days ?? 30),
    '-sha256',
    '-extfile',
    extPath,
    '-out',
    certPath,
  ]);
  const pem = readFileSync(certPath, 'utf8');
  const der = run('openssl', ['x509', '-in', certPath, '-outform', 'DER']);
  return { key, certPath, pem, der };
}
