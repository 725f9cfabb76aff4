import {
  atomicPayload,
  cosignPayload,
  createGpgSigner,
  gpg,
  GpgSigner,
  gpgSign,
  makeTempDir,
  skopeoStandaloneSign,
} from '../test-fixtures/tools';
import { sha256Digest } from './digest';
import type { TrustPolicy } from './policy-types';
import type { GpgCandidate } from './types';
import { verifyImageSignatures } from './verify';

const manifest = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
);
const digest = sha256Digest(manifest);
const reference = { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' };

function policyFor(keyring: string): TrustPolicy {
  return {
    default: [{ type: 'signedBy', anchors: [{ kind: 'gpgKeys', name: 'release', keyring }] }],
    scopes: {},
  };
}

function candidate(signature: Buffer): GpgCandidate {
  return { format: 'gpg', source: 'lookaside signature-1', signature };
}

describe('GPG simple signing', () => {
  const temp = makeTempDir('gpg-spec-');
  let signer: GpgSigner;
  let stranger: GpgSigner;
  let expiredKey: GpgSigner;
  let oldKey: GpgSigner;
  let signature: Buffer;

  beforeAll(() => {
    signer = createGpgSigner(temp.dir, 'signer');
    stranger = createGpgSigner(temp.dir, 'stranger');
    // Created in 2020 with a one-day lifetime, so the key has long expired.
    expiredKey = createGpgSigner(temp.dir, 'expired', {
      expireDate: '1d',
      fakedTime: '20200101T000000',
    });
    oldKey = createGpgSigner(temp.dir, 'old', { fakedTime: '20200101T000000' });
    signature = skopeoStandaloneSign(
      signer,
      temp.dir,
      manifest,
      'docker.io/library/busybox:latest',
    );
  });
  afterAll(() => temp.cleanup());

  it('verifies a skopeo standalone-sign signature with an armored key', async () => {
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(signature)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('verified');
    expect(verdict.checks[0]?.dockerReference).toBe('docker.io/library/busybox:latest');
  });

  it('maps the signing subkey to the primary fingerprint', async () => {
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(signature)],
      policy: policyFor(signer.binaryPublicKeyBase64),
    });
    expect(verdict.status).toBe('verified');
    expect(verdict.signers[0]?.keyFingerprint).toBe(signer.fingerprint);
    expect(verdict.signers[0]?.keyFingerprint).not.toBe(signer.subkeyFingerprint);
  });

  it('reports an unknown signing key as untrusted', async () => {
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(signature)],
      policy: policyFor(stranger.armoredPublicKey),
    });
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('no-trusted-key');
  });

  it('marks a signature for another manifest invalid', async () => {
    const other = skopeoStandaloneSign(
      signer,
      temp.dir,
      Buffer.from('{"schemaVersion":2}'),
      'docker.io/library/busybox:latest',
    );
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(other)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('digest-mismatch');
  });

  it('reports a signature for another tag as identity mismatch', async () => {
    const otherTag = skopeoStandaloneSign(
      signer,
      temp.dir,
      manifest,
      'docker.io/library/busybox:old',
    );
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(otherTag)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.result).toBe('identity-mismatch');
  });

  it('rejects an unsigned literal message', async () => {
    const literal = gpg(
      signer.home,
      ['--store'],
      atomicPayload(digest, 'docker.io/library/busybox:latest'),
    );
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(literal)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('signature-missing');
  });

  it('rejects a cleartext signature', async () => {
    const cleartext = gpg(
      signer.home,
      ['--local-user', signer.fingerprint, '--clearsign'],
      atomicPayload(digest, 'docker.io/library/busybox:latest'),
    );
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(cleartext)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('signature-malformed');
  });

  it('rejects a cosign payload type in a GPG signature', async () => {
    const wrongType = gpgSign(signer, cosignPayload(digest, 'docker.io/library/busybox:latest'));
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(wrongType)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reason).toMatch(/critical.type/);
  });

  it('marks a modified signed message invalid', async () => {
    const tampered = Buffer.from(signature);
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] ?? 0) ^ 0xff;
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(tampered)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('invalid');
  });

  it('reports an expired key as untrusted', async () => {
    const old = gpgSign(expiredKey, atomicPayload(digest, 'docker.io/library/busybox:latest'), {
      fakedTime: '20200101T010000',
    });
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(old)],
      policy: policyFor(expiredKey.armoredPublicKey),
    });
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('key-not-valid');
  });

  it('reports an expired signature as untrusted', async () => {
    const old = gpgSign(oldKey, atomicPayload(digest, 'docker.io/library/busybox:latest'), {
      fakedTime: '20200102T000000',
      expire: '1d',
    });
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(old)],
      policy: policyFor(oldKey.armoredPublicKey),
    });
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('signature-expired');
  });

  it('bounds a decompression bomb', async () => {
    const padding = ' '.repeat(20 * 1024 * 1024);
    const payload = atomicPayload(digest, 'docker.io/library/busybox:latest').replace(
      '{',
      `{${padding}`,
    );
    const bomb = gpg(
      signer.home,
      ['--compress-level', '9', '--local-user', signer.fingerprint, '--sign'],
      payload,
    );
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(bomb)],
      policy: policyFor(signer.armoredPublicKey),
    });
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reason).toMatch(/decompressed message size/);
  });

  it('accepts the same signature at a time the key was valid', async () => {
    const old = gpgSign(expiredKey, atomicPayload(digest, 'docker.io/library/busybox:latest'), {
      fakedTime: '20200101T010000',
    });
    const verdict = await verifyImageSignatures({
      digest,
      reference,
      candidates: [candidate(old)],
      policy: policyFor(expiredKey.armoredPublicKey),
      now: new Date('2020-01-01T12:00:00Z'),
    });
    expect(verdict.status).toBe('verified');
  });
});
