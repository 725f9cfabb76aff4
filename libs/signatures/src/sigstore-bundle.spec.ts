import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  cosignStatement,
  createLocalSigstore,
  dsseBundle,
  issueLeaf,
  LocalSigstore,
  messageBundle,
} from '../test-fixtures/sigstore';
import { cosignPayload, makeTempDir, OpensslCertificate, opensslKey } from '../test-fixtures/tools';
import { sha256Digest } from './digest';
import type { SigstoreIdentity, TrustPolicy } from './policy-types';
import { identityMatches } from './sigstore-bundle';
import type { SigstoreBundleCandidate } from './types';
import { verifyImageSignatures, VerifyImageInput } from './verify';

const manifest = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
);
const digest = sha256Digest(manifest);
const reference = { registry: 'registry.example.com', repository: 'team/app', tag: 'v1' };
const ISSUER = 'https://issuer.example.com';
const SUBJECT = 'signer@example.com';

function policyFor(
  sigstore: LocalSigstore,
  identities: SigstoreIdentity[] = [{ issuer: ISSUER, subject: SUBJECT }],
): TrustPolicy {
  return {
    default: [{ type: 'reject' }],
    scopes: {
      'registry.example.com/team/app': [
        {
          type: 'signedBy',
          anchors: [
            {
              kind: 'sigstore',
              name: 'local',
              trustedRootJson: sigstore.trustedRootJson,
              identities,
              ctlogThreshold: 0,
            },
          ],
        },
      ],
    },
  };
}

function input(
  bundle: string,
  policy: TrustPolicy,
  extra: Partial<SigstoreBundleCandidate> = {},
  overrides: Partial<VerifyImageInput> = {},
): VerifyImageInput {
  return {
    digest,
    reference,
    manifest,
    candidates: [
      { format: 'sigstore-bundle', source: 'referrer', bundle: Buffer.from(bundle), ...extra },
    ],
    policy,
    ...overrides,
  };
}

describe('identityMatches', () => {
  it.each([
    ['exact subject', { issuer: ISSUER, subject: SUBJECT }, SUBJECT, true],
    [
      'exact subject is not a pattern',
      { issuer: ISSUER, subject: 'signer@example.com' },
      'signerXexample.com',
      false,
    ],
    ['anchored pattern', { issuer: ISSUER, subjectPattern: 'signer@example\\.com' }, SUBJECT, true],
    [
      'pattern against a longer identity',
      { issuer: ISSUER, subjectPattern: 'signer@example\\.com' },
      'signer@example.com.evil.net',
      false,
    ],
    [
      'pattern against a prefixed identity',
      { issuer: ISSUER, subjectPattern: 'signer@example\\.com' },
      'evil-signer@example.com',
      false,
    ],
    [
      'alternation stays anchored',
      { issuer: ISSUER, subjectPattern: 'a@x\\.com|b@x\\.com' },
      'b@x.com.evil',
      false,
    ],
    ['other issuer', { issuer: 'https://other', subject: SUBJECT }, SUBJECT, false],
  ] as [string, SigstoreIdentity, string, boolean][])(
    '%s',
    (_name, identity, subject, expected) => {
      expect(identityMatches(identity, subject, ISSUER)).toBe(expected);
    },
  );
});

describe('Sigstore bundles', () => {
  const temp = makeTempDir('sigstore-spec-');
  let sigstore: LocalSigstore;
  let otherSigstore: LocalSigstore;
  let leaf: OpensslCertificate;
  let serverLeaf: OpensslCertificate;
  let conflictingLeaf: OpensslCertificate;

  beforeAll(() => {
    sigstore = createLocalSigstore(temp.dir);
    otherSigstore = createLocalSigstore(temp.dir, 'other');
    leaf = issueLeaf(temp.dir, sigstore, 'leaf', {
      san: `email:${SUBJECT}`,
      issuer: ISSUER,
      issuerV1: ISSUER,
    });
    serverLeaf = issueLeaf(temp.dir, sigstore, 'server-leaf', {
      san: `email:${SUBJECT}`,
      issuer: ISSUER,
      eku: 'serverAuth',
    });
    conflictingLeaf = issueLeaf(temp.dir, sigstore, 'conflict-leaf', {
      san: `email:${SUBJECT}`,
      issuer: ISSUER,
      issuerV1: 'https://evil.example.com',
    });
  });
  afterAll(() => temp.cleanup());

  it.each(['0.1', '0.3'] as const)('verifies a v%s DSSE bundle', async (version) => {
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('verified');
    expect(verdict.signers[0]).toMatchObject({ subject: SUBJECT, issuer: ISSUER });
    expect(verdict.checks[0]?.trustedTime).toBeDefined();
  });

  it('verifies a message signature over the manifest', async () => {
    const bundle = messageBundle(manifest, { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('verified');
  });

  it('verifies a message signature over a cosign payload', async () => {
    const payload = Buffer.from(cosignPayload(digest, 'registry.example.com/team/app:v1'));
    const bundle = messageBundle(payload, { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(
      input(bundle, policyFor(sigstore), { artifact: payload }),
    );
    expect(verdict.status).toBe('verified');
    expect(verdict.checks[0]?.dockerReference).toBe('registry.example.com/team/app:v1');
  });

  it('matches an anchored identity pattern', async () => {
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(
      input(bundle, policyFor(sigstore, [{ issuer: ISSUER, subjectPattern: '.+@example\\.com' }])),
    );
    expect(verdict.status).toBe('verified');
  });

  it('does not let an unanchored-looking pattern match a longer identity', async () => {
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(
      input(bundle, policyFor(sigstore, [{ issuer: ISSUER, subjectPattern: 'signer@example' }])),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('identity-untrusted');
  });

  it('rejects another issuer', async () => {
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(
      input(
        bundle,
        policyFor(sigstore, [{ issuer: 'https://other.example.com', subject: SUBJECT }]),
      ),
    );
    expect(verdict.status).toBe('untrusted');
  });

  it('marks a statement for another digest invalid', async () => {
    const bundle = dsseBundle(cosignStatement(`sha256:${'4'.repeat(64)}`), {
      sigstore,
      leaf,
      version: '0.3',
    });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('digest-mismatch');
  });

  it('rejects another predicate type', async () => {
    const bundle = dsseBundle(cosignStatement(digest, 'https://slsa.dev/provenance/v1'), {
      sigstore,
      leaf,
      version: '0.3',
    });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('predicate-type');
  });

  it('rejects a log entry for another signature', async () => {
    const bundle = dsseBundle(cosignStatement(digest), {
      sigstore,
      leaf,
      version: '0.1',
      logOtherSignature: true,
    });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('tlog-body-error');
  });

  it('rejects a certificate outside its validity at the log time', async () => {
    const lastYear = Math.floor(Date.now() / 1000) - 365 * 24 * 3600;
    const bundle = dsseBundle(cosignStatement(digest), {
      sigstore,
      leaf,
      version: '0.3',
      integratedTime: lastYear,
    });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('certificate-error');
  });

  it('checks certificate validity at the log time, not now', async () => {
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(
      input(bundle, policyFor(sigstore), {}, { now: new Date(Date.now() + 30 * 24 * 3600 * 1000) }),
    );
    expect(verdict.status).toBe('verified');
  });

  it('reports a certificate from another CA as untrusted', async () => {
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(otherSigstore)));
    expect(verdict.status).toBe('untrusted');
  });

  it('rejects a leaf without the code-signing EKU', async () => {
    const bundle = dsseBundle(cosignStatement(digest), {
      sigstore,
      leaf: serverLeaf,
      version: '0.3',
    });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.checks[0]?.reasonCode).toBe('leaf-eku');
  });

  it('rejects disagreeing v1 and v2 issuer extensions', async () => {
    const bundle = dsseBundle(cosignStatement(digest), {
      sigstore,
      leaf: conflictingLeaf,
      version: '0.3',
    });
    const verdict = await verifyImageSignatures(input(bundle, policyFor(sigstore)));
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('issuer-conflict');
  });

  it('marks a modified DSSE signature invalid', async () => {
    const bundle = JSON.parse(
      dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' }),
    ) as {
      dsseEnvelope: { signatures: { sig: string }[] };
    };
    const other = sign(
      'sha256',
      Buffer.from('x'),
      createPrivateKey(readFileSync(leaf.key.privatePath)),
    );
    bundle.dsseEnvelope.signatures[0] = { sig: other.toString('base64') };
    const verdict = await verifyImageSignatures(input(JSON.stringify(bundle), policyFor(sigstore)));
    expect(verdict.status).toBe('invalid');
  });

  it('rejects an unknown bundle version', async () => {
    const bundle = JSON.parse(
      dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' }),
    ) as Record<string, unknown>;
    bundle['mediaType'] = 'application/vnd.dev.sigstore.bundle.v0.9+json';
    const verdict = await verifyImageSignatures(input(JSON.stringify(bundle), policyFor(sigstore)));
    expect(verdict.checks[0]?.reasonCode).toBe('bundle-malformed');
  });

  it('requires an SCT by default with a trusted root', async () => {
    const policy = policyFor(sigstore);
    const requirement = policy.scopes['registry.example.com/team/app']?.[0];
    if (requirement?.type === 'signedBy' && requirement.anchors[0]?.kind === 'sigstore') {
      delete requirement.anchors[0].ctlogThreshold;
    }
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' });
    const verdict = await verifyImageSignatures(input(bundle, policy));
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reason).toMatch(/SCT/);
  });

  it('verifies with the Fulcio CA and Rekor key form', async () => {
    const policy: TrustPolicy = {
      default: [
        {
          type: 'signedBy',
          anchors: [
            {
              kind: 'sigstore',
              fulcioCaPem: sigstore.ca.pem,
              rekorPublicKeysPem: [sigstore.rekorPublicPem],
              identities: [{ issuer: ISSUER, subject: SUBJECT }],
            },
          ],
        },
      ],
      scopes: {},
    };
    const bundle = dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.1' });
    const verdict = await verifyImageSignatures(input(bundle, policy));
    expect(verdict.status).toBe('verified');
  });

  it('verifies a public key bundle against a configured key', async () => {
    const key = opensslKey(temp.dir, 'bundle-key', 'ec:P-256');
    const other = opensslKey(temp.dir, 'bundle-other', 'ec:P-256');
    const statement = cosignStatement(digest);
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${statement.length} `),
      statement,
    ]);
    const signature = sign('sha256', pae, createPrivateKey(readFileSync(key.privatePath)));
    const bundle = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        publicKey: { hint: 'unauthenticated' },
        tlogEntries: [],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      dsseEnvelope: {
        payload: statement.toString('base64'),
        payloadType: 'application/vnd.in-toto+json',
        signatures: [{ sig: signature.toString('base64'), keyid: '' }],
      },
    });
    const policyWith = (publicKeyPem: string): TrustPolicy => ({
      default: [{ type: 'signedBy', anchors: [{ kind: 'publicKey', publicKeyPem }] }],
      scopes: {},
    });
    const trusted = await verifyImageSignatures(input(bundle, policyWith(key.publicPem)));
    const untrusted = await verifyImageSignatures(input(bundle, policyWith(other.publicPem)));
    expect(trusted.status).toBe('verified');
    expect(untrusted.status).toBe('untrusted');
  });
});
