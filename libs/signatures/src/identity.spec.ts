import { matchSignedIdentity } from './identity';
import type { IdentityRule } from './policy-types';
import { formatReference, ImageReference, parseDockerReference } from './reference';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const byTag: ImageReference = {
  registry: 'registry.example.com',
  repository: 'team/app',
  tag: 'v1',
};
const byDigest: ImageReference = {
  registry: 'registry.example.com',
  repository: 'team/app',
  digest: DIGEST,
};

describe('parseDockerReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app'],
    ['localhost/app:1', 'localhost/app:1'],
    ['127.0.0.1:5000/a/b@' + DIGEST, '127.0.0.1:5000/a/b@' + DIGEST],
  ])('normalizes %s', (input, expected) => {
    expect(formatReference(parseDockerReference(input))).toBe(expected);
  });

  it.each([
    'UPPER/app',
    'app:bad tag',
    `app@sha256:${'A'.repeat(64)}`,
    'registry.example.com/',
    '',
  ])('rejects %j', (input) => {
    expect(() => parseDockerReference(input)).toThrow(/is invalid/);
  });
});

describe('matchSignedIdentity', () => {
  const cases: [string, IdentityRule, ImageReference, string, boolean][] = [
    [
      'exact tag',
      { type: 'matchRepoDigestOrExact' },
      byTag,
      'registry.example.com/team/app:v1',
      true,
    ],
    [
      'tag substitution',
      { type: 'matchRepoDigestOrExact' },
      byTag,
      'registry.example.com/team/app:v0',
      false,
    ],
    [
      'repo-only signature for a tag',
      { type: 'matchRepoDigestOrExact' },
      byTag,
      'registry.example.com/team/app',
      false,
    ],
    [
      'by digest, any tag',
      { type: 'matchRepoDigestOrExact' },
      byDigest,
      'registry.example.com/team/app:v0',
      true,
    ],
    [
      'by digest, other repository',
      { type: 'matchRepoDigestOrExact' },
      byDigest,
      'registry.example.com/team/other:v1',
      false,
    ],
    [
      'matchExact by digest against a tag',
      { type: 'matchExact' },
      byDigest,
      'registry.example.com/team/app:v1',
      false,
    ],
    [
      'matchExact same tag',
      { type: 'matchExact' },
      byTag,
      'registry.example.com/team/app:v1',
      true,
    ],
    [
      'matchRepository other tag',
      { type: 'matchRepository' },
      byTag,
      'registry.example.com/team/app:v0',
      true,
    ],
    [
      'matchRepository other repository',
      { type: 'matchRepository' },
      byTag,
      'registry.example.com/team/app2',
      false,
    ],
    [
      'exactReference equal',
      { type: 'exactReference', dockerReference: 'quay.io/x/y:1' },
      byTag,
      'quay.io/x/y:1',
      true,
    ],
    [
      'exactReference other tag',
      { type: 'exactReference', dockerReference: 'quay.io/x/y:1' },
      byTag,
      'quay.io/x/y:2',
      false,
    ],
    [
      'exactRepository',
      { type: 'exactRepository', dockerRepository: 'quay.io/x/y' },
      byTag,
      'quay.io/x/y:9',
      true,
    ],
    [
      'remapIdentity mirror',
      {
        type: 'remapIdentity',
        prefix: 'registry.example.com/team',
        signedPrefix: 'quay.io/upstream',
      },
      byTag,
      'quay.io/upstream/app:v1',
      true,
    ],
    [
      'remapIdentity mirror, wrong tag',
      {
        type: 'remapIdentity',
        prefix: 'registry.example.com/team',
        signedPrefix: 'quay.io/upstream',
      },
      byTag,
      'quay.io/upstream/app:v2',
      false,
    ],
    [
      'remapIdentity prefix only at a path boundary',
      {
        type: 'remapIdentity',
        prefix: 'registry.example.com/te',
        signedPrefix: 'quay.io/upstream',
      },
      byTag,
      'quay.io/upstreamam/app:v1',
      false,
    ],
    [
      'tag and digest together',
      { type: 'matchRepository' },
      byTag,
      `registry.example.com/team/app:v1@${DIGEST}`,
      false,
    ],
    ['unparseable reference', { type: 'matchRepository' }, byTag, 'Not A Reference', false],
  ];

  it.each(cases)('%s', (_name, rule, image, signed, expected) => {
    expect(matchSignedIdentity(rule, image, signed).matches).toBe(expected);
  });
});
