/**
 * Benchmark: successful signature verifications per second for each supported format, through
 * `verifyImageSignatures` with one candidate and a policy that trusts its signer, as the worker
 * calls it. The material is generated once. Each format is verified for a warm-up second, then
 * for BENCH_VERIFY_SECONDS (default 5), and one JSON line is printed per format. Run through
 * bench/run-all.sh, which pins the process to one core with `taskset -c 0`. Needs openssl, gpg
 * and skopeo.
 */
import { createPrivateKey, KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { encode, Tagged } from 'cbor';

import {
  NOTARY_PAYLOAD_MEDIA_TYPE,
  sha256Digest,
  SignatureCandidate,
  TrustAnchor,
  TrustPolicy,
  VerifyImageInput,
  verifyImageSignatures,
} from '@app/signatures';

import {
  cosignStatement,
  createLocalSigstore,
  dsseBundle,
  issueLeaf,
} from '../libs/signatures/test-fixtures/sigstore';
import {
  cosignPayload,
  createGpgSigner,
  EXTENSIONS,
  makeTempDir,
  opensslCertificate,
  opensslKey,
  opensslSign,
  skopeoStandaloneSign,
} from '../libs/signatures/test-fixtures/tools';
import { HarnessError } from '../test/support/errors';
import { notaryJwsEnvelope } from '../test/support/signing';

const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, layers: [] }),
);
const DIGEST = sha256Digest(MANIFEST);
const REFERENCE = { registry: 'registry.example.com', repository: 'team/app', tag: 'v1' };
const REPOSITORY_NAME = 'registry.example.com/team/app';
const SIGSTORE_ISSUER = 'https://issuer.example.com';
const SIGSTORE_SUBJECT = 'ci@example.com';

const DEFAULT_SECONDS = 5;
const MAX_SECONDS = 300;
const WARM_UP_SECONDS = 1;

/** A benchmark setting from the environment is not a number in its allowed range. */
class InvalidBenchmarkSettingError extends HarnessError {
  constructor(name: string, value: string, expected: string) {
    super('BENCH_SETTING_INVALID', `${name}=${JSON.stringify(value)} is invalid: ${expected}.`);
  }
}

/** A verification that the benchmark expects to succeed returned another verdict. */
class UnexpectedVerdictError extends HarnessError {
  constructor(format: string, status: string, detail: string) {
    super(
      'BENCH_VERDICT_UNEXPECTED',
      `The ${format} benchmark input was judged ${status}, expected verified: ${detail}`,
    );
  }
}

/** One format to measure: its name in the output and the input verified in the loop. */
interface VerifyCase {
  format: string;
  input: VerifyImageInput;
}

interface VerifyResult {
  benchmark: 'verify';
  format: string;
  perSecond: number;
  meanMs: number;
  verifications: number;
}

function readSeconds(): number {
  const raw = process.env.BENCH_VERIFY_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_SECONDS) {
    throw new InvalidBenchmarkSettingError(
      'BENCH_VERIFY_SECONDS',
      raw,
      `expected seconds per format, greater than 0 and at most ${MAX_SECONDS}`,
    );
  }
  return seconds;
}

/** Builds the verification input for one candidate under a policy with one signedBy requirement. */
function caseFor(
  format: string,
  candidate: SignatureCandidate,
  anchor: TrustAnchor,
  signedIdentity?: { type: 'matchRepository' },
): VerifyCase {
  const policy: TrustPolicy = {
    default: [{ type: 'reject' }],
    scopes: {
      'registry.example.com/team': [
        { type: 'signedBy', anchors: [anchor], ...(signedIdentity && { signedIdentity }) },
      ],
    },
  };
  return {
    format,
    input: {
      digest: DIGEST,
      size: MANIFEST.length,
      mediaType: MANIFEST_MEDIA_TYPE,
      manifest: MANIFEST,
      reference: REFERENCE,
      candidates: [candidate],
      policy,
    },
  };
}

/**
 * Builds cosign key-based signatures over one simple-signing payload. The payload names the
 * repository without a tag, so the policy uses matchRepository.
 */
function cosignCases(dir: string): VerifyCase[] {
  const payload = Buffer.from(cosignPayload(DIGEST, REPOSITORY_NAME));
  const keys = [
    { format: 'cosign-ecdsa-p256', spec: 'ec:P-256', mode: 'sha256' },
    { format: 'cosign-rsa-2048-pkcs1v15', spec: 'rsa:2048', mode: 'sha256' },
    { format: 'cosign-ed25519', spec: 'ed25519', mode: 'ed25519' },
  ] as const;
  return keys.map(({ format, spec, mode }) => {
    const key = opensslKey(dir, format, spec);
    const signature = opensslSign(dir, key, payload, mode);
    return caseFor(
      format,
      {
        format: 'cosign',
        source: 'bench .sig layer 0',
        payload,
        signatureBase64: signature.toString('base64'),
      },
      { kind: 'publicKey', name: format, publicKeyPem: key.publicPem, rsaPadding: 'pkcs1v15' },
      { type: 'matchRepository' },
    );
  });
}

/**
 * Builds a v0.3 Sigstore bundle with a DSSE envelope over a cosign in-toto statement. The leaf
 * comes from the local test CA, and the log entry carries a signed entry timestamp and a
 * one-leaf inclusion proof from the local Rekor-like key. No CT log is simulated, so the anchor
 * requires no SCT.
 */
function sigstoreCase(dir: string): VerifyCase {
  const sigstore = createLocalSigstore(dir);
  const leaf = issueLeaf(dir, sigstore, 'bench-leaf', {
    san: `email:${SIGSTORE_SUBJECT}`,
    issuer: SIGSTORE_ISSUER,
  });
  const bundle = dsseBundle(cosignStatement(DIGEST), { sigstore, leaf, version: '0.3' });
  return caseFor(
    'sigstore-bundle-dsse',
    { format: 'sigstore-bundle', source: 'bench referrer', bundle: Buffer.from(bundle) },
    {
      kind: 'sigstore',
      name: 'local',
      trustedRootJson: sigstore.trustedRootJson,
      identities: [{ issuer: SIGSTORE_ISSUER, subject: SIGSTORE_SUBJECT }],
      ctlogThreshold: 0,
    },
  );
}

/** Builds Notary Project JWS and COSE envelopes signed through an ECDSA P-256 three-level chain. */
async function notaryCases(dir: string): Promise<VerifyCase[]> {
  const root = opensslCertificate(dir, 'notary-root', {
    subject: '/O=Bench/CN=Bench Root',
    keySpec: 'ec:P-256',
    extensions: EXTENSIONS.ca,
    days: 365,
  });
  const intermediate = opensslCertificate(dir, 'notary-intermediate', {
    subject: '/O=Bench/CN=Bench Intermediate',
    keySpec: 'ec:P-256',
    extensions: EXTENSIONS.ca,
    issuer: root,
    days: 100,
  });
  const leaf = opensslCertificate(dir, 'notary-leaf', {
    subject: '/O=Bench/CN=Bench Signer',
    keySpec: 'ec:P-256',
    extensions: EXTENSIONS.codeSigningLeaf,
    issuer: intermediate,
    days: 30,
  });
  const key = createPrivateKey(readFileSync(leaf.key.privatePath));
  const chain = [leaf.der, intermediate.der, root.der];
  const target = { digest: DIGEST, size: MANIFEST.length, mediaType: MANIFEST_MEDIA_TYPE };
  const payload = Buffer.from(JSON.stringify({ targetArtifact: target }));
  const anchor: TrustAnchor = { kind: 'x509Roots', name: 'bench', rootsPem: root.pem };

  const jws = await notaryJwsEnvelope({ key, chain }, target);
  const cose = coseSign1Envelope(key, chain, payload);
  return [
    caseFor(
      'notary-jws',
      {
        format: 'notary',
        source: 'bench referrer',
        envelope: jws,
        envelopeMediaType: 'application/jose+json',
      },
      anchor,
    ),
    caseFor(
      'notary-cose',
      {
        format: 'notary',
        source: 'bench referrer',
        envelope: cose,
        envelopeMediaType: 'application/cose',
      },
      anchor,
    ),
  ];
}

/**
 * Signs a Notary Project payload into a tagged COSE_Sign1 envelope (RFC 9052) with ES256: the
 * algorithm, critical headers, content type and signing scheme are protected, and the
 * certificate chain is in the unprotected x5chain header (label 33).
 */
function coseSign1Envelope(key: KeyObject, chain: Buffer[], payload: Buffer): Buffer {
  const protectedHeader = encode(
    new Map<number | string, unknown>([
      [1, -7],
      [2, ['io.cncf.notary.signingScheme']],
      [3, NOTARY_PAYLOAD_MEDIA_TYPE],
      ['io.cncf.notary.signingScheme', 'notary.x509'],
      ['io.cncf.notary.signingTime', new Date()],
    ]),
  );
  const sigStructure = encode(['Signature1', protectedHeader, Buffer.alloc(0), payload]);
  const signature = sign('sha256', sigStructure, { key, dsaEncoding: 'ieee-p1363' });
  return encode(new Tagged(18, [protectedHeader, new Map([[33, chain]]), payload, signature]));
}

/** Signs the manifest with `skopeo standalone-sign` and an Ed25519 GPG subkey. */
function gpgCase(dir: string): VerifyCase {
  const signer = createGpgSigner(dir, 'bench');
  const signature = skopeoStandaloneSign(signer, dir, MANIFEST, `${REPOSITORY_NAME}:v1`);
  return caseFor(
    'gpg',
    { format: 'gpg', source: 'bench lookaside signature-1', signature },
    { kind: 'gpgKeys', name: 'bench', keyring: signer.armoredPublicKey },
  );
}

async function verifyOnce(verifyCase: VerifyCase): Promise<void> {
  const verdict = await verifyImageSignatures(verifyCase.input);
  if (verdict.status !== 'verified') {
    const checks = verdict.checks.map((check) => `${check.reasonCode}: ${check.reason}`);
    throw new UnexpectedVerdictError(
      verifyCase.format,
      verdict.status,
      [verdict.reason, ...checks].join('; '),
    );
  }
}

/** Verifies in a loop until `seconds` have passed and returns the rate of verified results. */
async function measure(verifyCase: VerifyCase, seconds: number): Promise<VerifyResult> {
  await verifyOnce(verifyCase);
  const warmUpEnd = performance.now() + WARM_UP_SECONDS * 1000;
  while (performance.now() < warmUpEnd) await verifyOnce(verifyCase);

  const started = performance.now();
  const deadline = started + seconds * 1000;
  let finished = started;
  let verifications = 0;
  while (finished < deadline) {
    await verifyOnce(verifyCase);
    verifications += 1;
    finished = performance.now();
  }
  const elapsedMs = finished - started;
  return {
    benchmark: 'verify',
    format: verifyCase.format,
    perSecond: +((verifications * 1000) / elapsedMs).toFixed(1),
    meanMs: +(elapsedMs / verifications).toFixed(4),
    verifications,
  };
}

async function main(): Promise<void> {
  const seconds = readSeconds();
  const temp = makeTempDir('bench-signatures-');
  try {
    const cases = [
      ...cosignCases(temp.dir),
      sigstoreCase(temp.dir),
      ...(await notaryCases(temp.dir)),
      gpgCase(temp.dir),
    ];
    for (const verifyCase of cases) {
      console.log(JSON.stringify(await measure(verifyCase, seconds)));
    }
  } finally {
    temp.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
