import { generateKeyPairSync, sign } from 'node:crypto';

import {
  cosignPayload,
  makeTempDir,
  opensslKey,
  OpensslKey,
  opensslSign,
} from '../test-fixtures/tools';
import { sha256Digest } from './digest';
import type { TrustPolicy } from './policy-types';
import type { CosignCandidate, LazyBlob } from './types';
import { verifyImageSignatures, VerifyImageInput } from './verify';

const manifest = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}\n',
);
const digest = sha256Digest(manifest);
const reference = { registry: 'registry.example.com', repository: 'team/app', tag: 'v1' };
const signedReference = 'registry.example.com/team/app:v1';

function policyFor(publicKeyPem: string, rsaPadding?: 'pkcs1v15' | 'pss'): TrustPolicy {
  return {
    default: [{ type: 'reject' }],
    scopes: {
      'registry.example.com/team': [
        {
          type: 'signedBy',
          anchors: [
            { kind: 'publicKey', name: 'release', publicKeyPem, ...(rsaPadding && { rsaPadding }) },
          ],
        },
      ],
    },
  };
}

function candidate(
  payload: Buffer | LazyBlob,
  signature: Buffer,
  source = 'sig layer 0',
): CosignCandidate {
  return { format: 'cosign', source, payload, signatureBase64: signature.toString('base64') };
}

function input(
  policy: TrustPolicy,
  candidates: CosignCandidate[],
  overrides: Partial<VerifyImageInput> = {},
): VerifyImageInput {
  return { digest, reference, manifest, candidates, policy, ...overrides };
}

describe('cosign key-based signatures', () => {
  const temp = makeTempDir('cosign-spec-');
  let p256: OpensslKey;
  let p384: OpensslKey;
  let rsa: OpensslKey;
  let ed25519: OpensslKey;
  let other: OpensslKey;
  const payload = Buffer.from(cosignPayload(digest, signedReference));

  beforeAll(() => {
    p256 = opensslKey(temp.dir, 'p256', 'ec:P-256');
    p384 = opensslKey(temp.dir, 'p384', 'ec:P-384');
    rsa = opensslKey(temp.dir, 'rsa', 'rsa:2048');
    ed25519 = opensslKey(temp.dir, 'ed25519', 'ed25519');
    other = opensslKey(temp.dir, 'other', 'ec:P-256');
  });
  afterAll(() => temp.cleanup());

  it.each([
    ['ECDSA P-256 DER', () => p256, 'sha256', undefined],
    ['ECDSA P-384 DER', () => p384, 'sha256', undefined],
    ['RSA PKCS#1 v1.5', () => rsa, 'sha256', undefined],
    ['RSA PSS', () => rsa, 'pss', 'pss'],
    ['Ed25519', () => ed25519, 'ed25519', undefined],
  ] as const)('verifies %s', async (_name, key, mode, padding) => {
    const signature = opensslSign(temp.dir, key(), payload, mode);
    const verdict = await verifyImageSignatures(
      input(policyFor(key().publicPem, padding), [candidate(payload, signature)]),
    );
    expect(verdict.status).toBe('verified');
    expect(verdict.policyScope).toBe('registry.example.com/team');
    expect(verdict.signers).toHaveLength(1);
    expect(verdict.signers[0]?.keyFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(verdict.checks[0]?.dockerReference).toBe(signedReference);
  });

  it('verifies a raw r||s ECDSA signature', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signature = sign('sha256', payload, { key: keys.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(signature).toHaveLength(64);
    const publicKeyPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const verdict = await verifyImageSignatures(
      input(policyFor(publicKeyPem), [candidate(payload, signature)]),
    );
    expect(verdict.status).toBe('verified');
  });

  it('rejects PSS signature under PKCS#1 v1.5 policy', async () => {
    const signature = opensslSign(temp.dir, rsa, payload, 'pss');
    const verdict = await verifyImageSignatures(
      input(policyFor(rsa.publicPem), [candidate(payload, signature)]),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('no-trusted-key');
  });

  it('marks a payload for another digest invalid', async () => {
    const otherPayload = Buffer.from(cosignPayload(`sha256:${'1'.repeat(64)}`, signedReference));
    const signature = opensslSign(temp.dir, p256, otherPayload);
    const verdict = await verifyImageSignatures(
      input(policyFor(p256.publicPem), [candidate(otherPayload, signature)]),
    );
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('digest-mismatch');
  });

  it('does not accept a signature valid for another payload', async () => {
    const otherPayload = Buffer.from(cosignPayload(`sha256:${'1'.repeat(64)}`, signedReference));
    const signatureForOther = opensslSign(temp.dir, p256, otherPayload);
    const verdict = await verifyImageSignatures(
      input(policyFor(p256.publicPem), [candidate(payload, signatureForOther)]),
    );
    expect(verdict.status).not.toBe('verified');
    expect(verdict.checks[0]?.result).toBe('untrusted');
  });

  it('reports a signature by an unknown key as untrusted', async () => {
    const signature = opensslSign(temp.dir, other, payload);
    const verdict = await verifyImageSignatures(
      input(policyFor(p256.publicPem), [candidate(payload, signature)]),
    );
    expect(verdict.status).toBe('untrusted');
  });

  it.each([
    [
      'duplicate digest key',
      `{"critical":{"identity":{"docker-reference":"${signedReference}"},"image":{"docker-manifest-digest":"sha256:${'1'.repeat(64)}","docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
      /duplicate key/,
    ],
    [
      'case-variant digest key',
      `{"critical":{"identity":{"docker-reference":"${signedReference}"},"image":{"Docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
      /unknown member "Docker-manifest-digest"/,
    ],
    [
      'unknown critical field',
      `{"critical":{"identity":{"docker-reference":"${signedReference}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature","extra":true},"optional":null}`,
      /unknown member "extra"/,
    ],
    [
      'wrong type for the digest',
      `{"critical":{"identity":{"docker-reference":"${signedReference}"},"image":{"docker-manifest-digest":1},"type":"cosign container image signature"},"optional":null}`,
      /must be a string/,
    ],
    [
      'wrong critical.type',
      `{"critical":{"identity":{"docker-reference":"${signedReference}"},"image":{"docker-manifest-digest":"${digest}"},"type":"atomic container signature"},"optional":null}`,
      /critical.type/,
    ],
    [
      'optional as a string',
      `{"critical":{"identity":{"docker-reference":"${signedReference}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":"x"}`,
      /optional must be a JSON object/,
    ],
  ])('rejects a signed payload with %s', async (_name, text, message) => {
    const strangePayload = Buffer.from(text);
    const signature = opensslSign(temp.dir, p256, strangePayload);
    const verdict = await verifyImageSignatures(
      input(policyFor(p256.publicPem), [candidate(strangePayload, signature)]),
    );
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('payload-invalid');
    expect(verdict.checks[0]?.reason).toMatch(message);
  });

  it('reports tag substitution as an identity mismatch', async () => {
    const otherTag = Buffer.from(cosignPayload(digest, 'registry.example.com/team/app:v0'));
    const signature = opensslSign(temp.dir, p256, otherTag);
    const verdict = await verifyImageSignatures(
      input(policyFor(p256.publicPem), [candidate(otherTag, signature)]),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.result).toBe('identity-mismatch');
  });

  it('accepts a repository-only identity under matchRepository', async () => {
    const repositoryOnly = Buffer.from(cosignPayload(digest, 'registry.example.com/team/app'));
    const signature = opensslSign(temp.dir, p256, repositoryOnly);
    const policy = policyFor(p256.publicPem);
    const scoped = policy.scopes['registry.example.com/team']?.[0];
    if (scoped?.type === 'signedBy') {
      scoped.signedIdentity = { type: 'matchRepository' };
    }
    const verdict = await verifyImageSignatures(
      input(policy, [candidate(repositoryOnly, signature)]),
    );
    expect(verdict.status).toBe('verified');
  });

  it('rejects a public key file with a trailing second PEM block', async () => {
    const signature = opensslSign(temp.dir, p256, payload);
    const verdict = await verifyImageSignatures(
      input(policyFor(`${p256.publicPem}${other.publicPem}`), [candidate(payload, signature)]),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.result).toBe('error');
    expect(verdict.checks[0]?.reasonCode).toBe('pem-invalid');
  });

  it('accepts a public key file with an extra blank line', async () => {
    const signature = opensslSign(temp.dir, p256, payload);
    const verdict = await verifyImageSignatures(
      input(policyFor(`${p256.publicPem}\n\n`), [candidate(payload, signature)]),
    );
    expect(verdict.status).toBe('verified');
  });

  it('marks a payload that does not match its layer digest invalid', async () => {
    const signature = opensslSign(temp.dir, p256, payload);
    const tampered = { ...candidate(payload, signature), blobDigest: `sha256:${'2'.repeat(64)}` };
    const verdict = await verifyImageSignatures(input(policyFor(p256.publicPem), [tampered]));
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('blob-digest-mismatch');
  });

  it('marks manifest bytes that do not match the digest invalid', async () => {
    const signature = opensslSign(temp.dir, p256, payload);
    const verdict = await verifyImageSignatures(
      input(policyFor(p256.publicPem), [candidate(payload, signature)], {
        manifest: Buffer.from('{}'),
      }),
    );
    expect(verdict.status).toBe('invalid');
  });
});

describe('multi-arch index and child manifests', () => {
  const temp = makeTempDir('cosign-index-');
  let key: OpensslKey;
  const child = Buffer.from(
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}}',
  );
  const childDigest = sha256Digest(child);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: childDigest,
          size: child.length,
        },
      ],
    }),
  );
  const indexDigest = sha256Digest(index);

  beforeAll(() => {
    key = opensslKey(temp.dir, 'index', 'ec:P-256');
  });
  afterAll(() => temp.cleanup());

  function signedFor(signedDigest: string): CosignCandidate {
    const payload = Buffer.from(cosignPayload(signedDigest, signedReference));
    return candidate(payload, opensslSign(temp.dir, key, payload));
  }

  it('index signature does not verify the child', async () => {
    const verdict = await verifyImageSignatures({
      digest: childDigest,
      reference,
      candidates: [signedFor(indexDigest)],
      policy: policyFor(key.publicPem),
    });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('digest-mismatch');
  });

  it('child checked alone without signatures is unsigned', async () => {
    const verdict = await verifyImageSignatures({
      digest: childDigest,
      reference,
      candidates: [],
      policy: policyFor(key.publicPem),
    });
    expect(verdict.status).toBe('unsigned');
  });

  it('child signature does not verify the index', async () => {
    const verdict = await verifyImageSignatures({
      digest: indexDigest,
      reference,
      candidates: [signedFor(childDigest)],
      policy: policyFor(key.publicPem),
    });
    expect(verdict.status).toBe('invalid');
  });

  it('each level verifies with its own signature', async () => {
    const policy = policyFor(key.publicPem);
    const indexVerdict = await verifyImageSignatures({
      digest: indexDigest,
      reference,
      candidates: [signedFor(indexDigest)],
      policy,
    });
    const childVerdict = await verifyImageSignatures({
      digest: childDigest,
      reference,
      candidates: [signedFor(childDigest)],
      policy,
    });
    expect(indexVerdict.status).toBe('verified');
    expect(childVerdict.status).toBe('verified');
  });
});

describe('bounds', () => {
  const temp = makeTempDir('cosign-bounds-');
  let key: OpensslKey;
  const payload = Buffer.from(cosignPayload(digest, signedReference));

  beforeAll(() => {
    key = opensslKey(temp.dir, 'bounds', 'ec:P-256');
  });
  afterAll(() => temp.cleanup());

  it('checks 100 of 10,000 signatures and records the rest', async () => {
    const garbage = candidate(payload, Buffer.from('not a signature'));
    const candidates = Array.from({ length: 10_000 }, (_, index) => ({
      ...garbage,
      source: `layer ${index}`,
    }));
    const verdict = await verifyImageSignatures(input(policyFor(key.publicPem), candidates));
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks).toHaveLength(101);
    expect(verdict.checks[100]?.reasonCode).toBe('too-many-signatures');
    expect(verdict.checks[100]?.reason).toMatch(/10000 signatures found; only the first 100/);
  });

  it('still verifies when a valid signature is within the bound', async () => {
    const good = candidate(payload, opensslSign(temp.dir, key, payload));
    const bad = candidate(payload, Buffer.from('x'));
    const verdict = await verifyImageSignatures(
      input(policyFor(key.publicPem), [bad, good, ...Array(500).fill(bad)]),
    );
    expect(verdict.status).toBe('verified');
  });

  it('rejects a 1 GiB claimed payload without reading it', async () => {
    const read = jest.fn(async () => Buffer.alloc(0));
    const huge: LazyBlob = { declaredSize: 1024 * 1024 * 1024, read };
    const verdict = await verifyImageSignatures(
      input(policyFor(key.publicPem), [candidate(huge, Buffer.from('x'))]),
    );
    expect(read).not.toHaveBeenCalled();
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('blob-too-large');
  });

  it('rejects a lazy blob that returns more bytes than declared', async () => {
    const lying: LazyBlob = { declaredSize: 4, read: async () => Buffer.alloc(64) };
    const verdict = await verifyImageSignatures(
      input(policyFor(key.publicPem), [candidate(lying, Buffer.from('x'))]),
    );
    expect(verdict.checks[0]?.reasonCode).toBe('blob-size-mismatch');
    expect(verdict.status).toBe('invalid');
  });

  it('reads a lazy blob within the limit', async () => {
    const lazy: LazyBlob = { declaredSize: payload.length, read: async () => payload };
    const verdict = await verifyImageSignatures(
      input(policyFor(key.publicPem), [candidate(lazy, opensslSign(temp.dir, key, payload))]),
    );
    expect(verdict.status).toBe('verified');
  });
});
