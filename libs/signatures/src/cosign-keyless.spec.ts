import { generateKeyPairSync } from 'node:crypto';

import {
  createLocalSigstore,
  issueLeaf,
  KeylessLayer,
  keylessCosignLayer,
  KeylessLayerOptions,
  LocalSigstore,
} from '../test-fixtures/sigstore';
import { cosignPayload, makeTempDir, OpensslCertificate } from '../test-fixtures/tools';
import { sha256Digest } from './digest';
import type { SigstoreIdentity, TrustAnchor, TrustPolicy } from './policy-types';
import type { CosignCandidate } from './types';
import { verifyImageSignatures, VerifyImageInput } from './verify';

const manifest = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
);
const digest = sha256Digest(manifest);
const reference = { registry: 'registry.example.com', repository: 'team/app', tag: 'v1' };
const ISSUER = 'https://issuer.example.com';
const SUBJECT = 'signer@example.com';
const DAY = 24 * 3600;

function trustedRootAnchor(
  sigstore: LocalSigstore,
  identities: SigstoreIdentity[] = [{ issuer: ISSUER, subject: SUBJECT }],
): TrustAnchor {
  return {
    kind: 'sigstore',
    name: 'local',
    trustedRootJson: sigstore.trustedRootJson,
    identities,
    ctlogThreshold: 0,
  };
}

function policyWith(...anchors: TrustAnchor[]): TrustPolicy {
  return {
    default: [{ type: 'reject' }],
    scopes: { 'registry.example.com/team/app': [{ type: 'signedBy', anchors }] },
  };
}

function candidate(payload: Buffer, layer: Partial<KeylessLayer>): CosignCandidate {
  return {
    format: 'cosign',
    source: 'sig layer 0',
    payload,
    signatureBase64: layer.signatureBase64 ?? '',
    ...(layer.certificatePem !== undefined && { certificatePem: layer.certificatePem }),
    ...(layer.chainPem !== undefined && { chainPem: layer.chainPem }),
    ...(layer.rekorBundleJson !== undefined && { rekorBundleJson: layer.rekorBundleJson }),
  };
}

function input(
  policy: TrustPolicy,
  candidates: CosignCandidate[],
  overrides: Partial<VerifyImageInput> = {},
): VerifyImageInput {
  return { digest, reference, manifest, candidates, policy, ...overrides };
}

describe('keyless cosign .sig signatures', () => {
  const temp = makeTempDir('cosign-keyless-spec-');
  const payload = Buffer.from(cosignPayload(digest, 'registry.example.com/team/app:v1'));
  let sigstore: LocalSigstore;
  let otherSigstore: LocalSigstore;
  let leaf: OpensslCertificate;
  let secondLeaf: OpensslCertificate;
  let longLeaf: OpensslCertificate;

  function signed(options: Partial<KeylessLayerOptions> = {}, bytes = payload): KeylessLayer {
    return keylessCosignLayer(bytes, { sigstore, leaf, ...options });
  }

  async function verdictFor(
    layer: Partial<KeylessLayer>,
    anchors: TrustAnchor[] = [trustedRootAnchor(sigstore)],
    bytes = payload,
  ) {
    return verifyImageSignatures(input(policyWith(...anchors), [candidate(bytes, layer)]));
  }

  beforeAll(() => {
    sigstore = createLocalSigstore(temp.dir);
    otherSigstore = createLocalSigstore(temp.dir, 'other');
    leaf = issueLeaf(temp.dir, sigstore, 'leaf', { san: `email:${SUBJECT}`, issuer: ISSUER });
    secondLeaf = issueLeaf(temp.dir, sigstore, 'second-leaf', {
      san: `email:${SUBJECT}`,
      issuer: ISSUER,
    });
    longLeaf = issueLeaf(temp.dir, sigstore, 'long-leaf', {
      san: 'email:signer@example.com.evil.net',
      issuer: ISSUER,
    });
  });
  afterAll(() => temp.cleanup());

  it('verifies a keyless signature', async () => {
    const integratedTime = Math.floor(Date.now() / 1000);
    const verdict = await verdictFor(signed({ integratedTime }));

    expect(verdict.status).toBe('verified');
    expect(verdict.signers[0]).toMatchObject({ subject: SUBJECT, issuer: ISSUER });
    expect(verdict.checks[0]?.trustedTime).toBe(new Date(integratedTime * 1000).toISOString());
    expect(verdict.checks[0]?.signedDigest).toBe(digest);
    expect(verdict.checks[0]?.dockerReference).toBe('registry.example.com/team/app:v1');
  });

  it('verifies Fulcio CA form with chain', async () => {
    const anchor: TrustAnchor = {
      kind: 'sigstore',
      fulcioCaPem: sigstore.ca.pem,
      rekorPublicKeysPem: [sigstore.rekorPublicPem],
      identities: [{ issuer: ISSUER, subject: SUBJECT }],
    };
    const verdict = await verdictFor(signed({ chainPem: sigstore.ca.pem }), [anchor]);

    expect(verdict.status).toBe('verified');
  });

  it('rejects another identity', async () => {
    const verdict = await verdictFor(signed(), [
      trustedRootAnchor(sigstore, [{ issuer: ISSUER, subject: 'other@example.com' }]),
    ]);

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('identity-untrusted');
  });

  it('rejects another issuer', async () => {
    const verdict = await verdictFor(signed(), [
      trustedRootAnchor(sigstore, [{ issuer: 'https://other.example.com', subject: SUBJECT }]),
    ]);

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('identity-untrusted');
  });

  it('anchors an identity pattern at both ends', async () => {
    const anchor = trustedRootAnchor(sigstore, [
      { issuer: ISSUER, subjectPattern: 'signer@example\\.com' },
    ]);
    const substring = trustedRootAnchor(sigstore, [{ issuer: ISSUER, subjectPattern: 'signer' }]);

    const longer = await verdictFor(keylessCosignLayer(payload, { sigstore, leaf: longLeaf }), [
      anchor,
    ]);
    const partial = await verdictFor(signed(), [substring]);
    const exact = await verdictFor(signed(), [anchor]);

    expect(longer.status).toBe('untrusted');
    expect(longer.checks[0]?.reasonCode).toBe('identity-untrusted');
    expect(partial.status).toBe('untrusted');
    expect(exact.status).toBe('verified');
  });

  describe('with the clock 30 days ahead', () => {
    beforeEach(() => {
      jest.useFakeTimers({
        now: Date.now() + 30 * DAY * 1000,
        doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'setTimeout', 'setInterval'],
      });
    });
    afterEach(() => jest.useRealTimers());

    it('accepts an expired certificate logged while valid', async () => {
      const layer = signed({ integratedTime: Math.floor(Date.now() / 1000) - 30 * DAY });

      const verdict = await verdictFor(layer);

      expect(verdict.status).toBe('verified');
    });
  });

  it('rejects a signature logged after the certificate expired', async () => {
    const verdict = await verdictFor(
      signed({ integratedTime: Math.floor(Date.now() / 1000) + 3 * DAY }),
    );

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('certificate-error');
  });

  it('rejects a SET signed by an untrusted key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    const verdict = await verdictFor(signed({ setKey: privateKey }));

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('tlog-inclusion-promise-error');
  });

  it('rejects a log whose key the anchor does not trust', async () => {
    const layer = keylessCosignLayer(payload, { sigstore: otherSigstore, leaf });

    const verdict = await verdictFor(layer);

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('tlog-inclusion-promise-error');
  });

  it('rejects a log entry naming another payload hash', async () => {
    const verdict = await verdictFor(signed({ loggedPayload: Buffer.from('other payload') }));

    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('rekor-entry-mismatch');
    expect(verdict.checks[0]?.reason).toMatch(/payload hash/);
  });

  it('rejects a bundle taken from another signature', async () => {
    const first = signed();
    const second = keylessCosignLayer(payload, { sigstore, leaf: secondLeaf });

    const verdict = await verdictFor({ ...first, rekorBundleJson: second.rekorBundleJson });

    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('rekor-entry-mismatch');
  });

  it('rejects a certificate other than the logged one', async () => {
    const verdict = await verdictFor({ ...signed(), certificatePem: secondLeaf.pem });

    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reason).toMatch(/different certificate/);
  });

  it('reports a missing bundle annotation', async () => {
    const { signatureBase64, certificatePem } = signed();

    const verdict = await verdictFor({ signatureBase64, certificatePem });

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('rekor-bundle-missing');
    expect(verdict.checks[0]?.reason).toMatch(/dev\.sigstore\.cosign\/bundle/);
  });

  it('rejects a bundle annotation with an unknown key', async () => {
    const layer = signed();
    const document = JSON.parse(layer.rekorBundleJson) as Record<string, unknown>;
    const verdict = await verdictFor({
      ...layer,
      rekorBundleJson: JSON.stringify({ ...document, Extra: 1 }),
    });

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('rekor-bundle-malformed');
  });

  it('marks a tampered payload invalid', async () => {
    const layer = signed();
    const tampered = Buffer.from(payload.toString().replace('team/app:v1', 'team/app:v2'));

    const verdict = await verdictFor(layer, undefined, tampered);

    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('rekor-entry-mismatch');
  });

  it('marks a payload for another digest invalid', async () => {
    const other = Buffer.from(
      cosignPayload(sha256Digest(Buffer.from('other')), 'registry.example.com/team/app:v1'),
    );

    const verdict = await verdictFor(signed({}, other), undefined, other);

    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('digest-mismatch');
  });

  it('applies the docker-reference rule', async () => {
    const otherTag = Buffer.from(cosignPayload(digest, 'registry.example.com/team/app:v2'));

    const verdict = await verdictFor(signed({}, otherTag), undefined, otherTag);

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.result).toBe('identity-mismatch');
  });

  it('rejects certificate without applicable anchor', async () => {
    const verdict = await verifyImageSignatures(
      input(policyWith({ kind: 'gpgKeys', keyring: '' }), [candidate(payload, signed())]),
    );

    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('no-applicable-anchor');
  });

  it('falls back to a public key anchor for the leaf key', async () => {
    const anchors: TrustAnchor[] = [
      trustedRootAnchor(otherSigstore),
      { kind: 'publicKey', name: 'leaf', publicKeyPem: leaf.key.publicPem },
    ];

    const verdict = await verdictFor(signed(), anchors);

    expect(verdict.status).toBe('verified');
    expect(verdict.checks[0]?.signer?.identity).toBe('leaf');
  });
});
