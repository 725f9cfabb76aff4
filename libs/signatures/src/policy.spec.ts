import { PolicyError } from './errors';
import { policyForScope, scopeCandidates, validateTrustPolicy } from './policy';
import type { PolicyRequirement, TrustPolicy } from './policy-types';
import { verifyImageSignatures } from './verify';

const accept: PolicyRequirement[] = [{ type: 'accept' }];
const reject: PolicyRequirement[] = [{ type: 'reject' }];
const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('policyForScope', () => {
  const policy: TrustPolicy = {
    default: reject,
    scopes: {
      'registry.example.com:5000/team/app:v1': [{ type: 'accept' }],
      'registry.example.com:5000/team/app': [{ type: 'reject' }],
      'registry.example.com:5000/team': [{ type: 'accept' }],
      'registry.example.com:5000': [{ type: 'reject' }],
      '*.example.com': [{ type: 'accept' }],
      [`registry.example.com:5000/team/app@${DIGEST}`]: [{ type: 'accept' }],
    },
  };
  const image = { registry: 'registry.example.com:5000', repository: 'team/app' };

  it.each([
    ['tag scope', { ...image, tag: 'v1' }, 'registry.example.com:5000/team/app:v1'],
    ['repository scope', { ...image, tag: 'v2' }, 'registry.example.com:5000/team/app'],
    ['digest scope', { ...image, digest: DIGEST }, `registry.example.com:5000/team/app@${DIGEST}`],
    [
      'namespace scope',
      { registry: 'registry.example.com:5000', repository: 'team/other' },
      'registry.example.com:5000/team',
    ],
    [
      'registry scope',
      { registry: 'registry.example.com:5000', repository: 'x/y' },
      'registry.example.com:5000',
    ],
    [
      'wildcard scope without port',
      { registry: 'other.example.com', repository: 'x' },
      '*.example.com',
    ],
    ['default', { registry: 'quay.io', repository: 'x' }, 'default'],
  ])('selects %s', (_name, reference, scope) => {
    expect(policyForScope(policy, reference).scope).toBe(scope);
  });

  it('lists candidates most specific first', () => {
    expect(
      scopeCandidates({ registry: 'a.b.example.com', repository: 'ns/sub/repo', tag: 't' }),
    ).toEqual([
      'a.b.example.com/ns/sub/repo:t',
      'a.b.example.com/ns/sub/repo',
      'a.b.example.com/ns/sub',
      'a.b.example.com/ns',
      'a.b.example.com',
      '*.b.example.com',
      '*.example.com',
      '*.com',
    ]);
  });

  it('ignores inherited object properties as scopes', () => {
    const bare: TrustPolicy = { default: reject, scopes: {} };
    expect(policyForScope(bare, { registry: 'constructor', repository: 'x' }).scope).toBe(
      'default',
    );
  });
});

describe('validateTrustPolicy', () => {
  it('accepts a valid policy', () => {
    expect(() =>
      validateTrustPolicy({ default: reject, scopes: { 'quay.io/ns': accept } }),
    ).not.toThrow();
  });

  it.each([
    ['empty default', { default: [], scopes: {} }],
    ['bad scope', { default: reject, scopes: { 'https://quay.io': accept } }],
    ['signedBy without anchors', { default: [{ type: 'signedBy', anchors: [] }], scopes: {} }],
    [
      'exactReference without tag',
      {
        default: [
          {
            type: 'signedBy',
            anchors: [{ kind: 'publicKey', publicKeyPem: '' }],
            signedIdentity: { type: 'exactReference', dockerReference: 'quay.io/a/b' },
          },
        ],
        scopes: {},
      },
    ],
    [
      'sigstore identity with subject and pattern',
      {
        default: [
          {
            type: 'signedBy',
            anchors: [
              {
                kind: 'sigstore',
                trustedRootJson: '{}',
                identities: [{ issuer: 'i', subject: 's', subjectPattern: 's' }],
              },
            ],
          },
        ],
        scopes: {},
      },
    ],
    [
      'invalid subject pattern',
      {
        default: [
          {
            type: 'signedBy',
            anchors: [
              {
                kind: 'sigstore',
                trustedRootJson: '{}',
                identities: [{ issuer: 'i', subjectPattern: '(' }],
              },
            ],
          },
        ],
        scopes: {},
      },
    ],
  ] as [string, TrustPolicy][])('rejects %s', (_name, policy) => {
    expect(() => validateTrustPolicy(policy)).toThrow(PolicyError);
  });
});

describe('verdicts from policy alone', () => {
  const reference = { registry: 'quay.io', repository: 'ns/app', tag: '1' };

  it('returns rejected for a reject scope', async () => {
    const verdict = await verifyImageSignatures({
      digest: DIGEST,
      reference,
      candidates: [],
      policy: { default: reject, scopes: {} },
    });
    expect(verdict.status).toBe('rejected');
    expect(verdict.policyScope).toBe('default');
  });

  it('returns not-required for an accept scope', async () => {
    const verdict = await verifyImageSignatures({
      digest: DIGEST,
      reference,
      candidates: [],
      policy: { default: reject, scopes: { 'quay.io': accept } },
    });
    expect(verdict.status).toBe('not-required');
    expect(verdict.policyScope).toBe('quay.io');
  });

  it('rejects when accept and reject are combined', async () => {
    const verdict = await verifyImageSignatures({
      digest: DIGEST,
      reference,
      candidates: [],
      policy: { default: [...accept, ...reject], scopes: {} },
    });
    expect(verdict.status).toBe('rejected');
  });

  it('rejects an uppercase digest', async () => {
    await expect(
      verifyImageSignatures({
        digest: DIGEST.toUpperCase().replace('SHA256', 'sha256'),
        reference,
        candidates: [],
        policy: { default: accept, scopes: {} },
      }),
    ).rejects.toThrow(/lowercase hex/);
  });
});
