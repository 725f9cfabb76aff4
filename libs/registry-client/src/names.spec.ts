import {
  assertDigestArgument,
  assertMediaType,
  assertReference,
  assertRepository,
  referrersTagFor,
} from './names';

const SHA256 = `sha256:${'a'.repeat(64)}`;
const SHA512 = `sha512:${'b'.repeat(128)}`;

describe('assertRepository', () => {
  it.each([
    'alpine',
    'library/alpine',
    'a/b/c',
    'my-app',
    'my--app',
    'my_app',
    'my__app',
    'v1.2/x0',
  ])('accepts %j', (name) => {
    expect(() => assertRepository(name)).not.toThrow();
  });

  it.each([
    '',
    'Alpine',
    '../x',
    'a/../b',
    'a/./b',
    '.hidden',
    'a/',
    '/a',
    'a//b',
    'a___b',
    'a?b',
    'a#b',
    'a%2fb',
    'a b',
    'a\nb',
    'a:tag',
    'a@sha256',
  ])('rejects %j', (name) => {
    expect(() => assertRepository(name)).toThrow(/Invalid repository name/);
  });

  it('rejects names over 255 characters', () => {
    expect(() => assertRepository('a'.repeat(255))).not.toThrow();
    expect(() => assertRepository('a'.repeat(256))).toThrow(/at most 255/);
  });
});

describe('assertReference', () => {
  it.each(['latest', '3.19', 'v1_2-rc.1', '_x', 'A'.repeat(128), SHA256, SHA512])(
    'accepts %j',
    (reference) => {
      expect(() => assertReference(reference)).not.toThrow();
    },
  );

  it.each([
    '',
    '.x',
    '-x',
    '..',
    'a/b',
    'a?b',
    'a#b',
    'a%b',
    'A'.repeat(129),
    `sha256:${'A'.repeat(64)}`,
    'sha256:abc',
  ])('rejects %j', (reference) => {
    expect(() => assertReference(reference)).toThrow(/Invalid manifest reference/);
  });
});

describe('assertDigestArgument', () => {
  it('accepts sha256 and sha512', () => {
    expect(() => assertDigestArgument(SHA256)).not.toThrow();
    expect(() => assertDigestArgument(SHA512)).not.toThrow();
  });

  it('rejects a tag', () => {
    expect(() => assertDigestArgument('latest')).toThrow(/Invalid digest "latest"/);
  });
});

describe('assertMediaType', () => {
  it('accepts artifact types', () => {
    expect(() => assertMediaType('application/vnd.dev.cosign.artifact.sig.v1+json')).not.toThrow();
    expect(() => assertMediaType('application/vnd.cncf.notary.signature')).not.toThrow();
  });

  it.each(['application', 'application/', 'a/b c', 'a/b;x=y', 'a/b/c', 'a/b?c', '/json'])(
    'rejects %j',
    (value) => {
      expect(() => assertMediaType(value)).toThrow(/Invalid artifact type/);
    },
  );
});

describe('referrersTagFor', () => {
  it('joins algorithm and hex with "-"', () => {
    expect(referrersTagFor(SHA256)).toBe(`sha256-${'a'.repeat(64)}`);
  });

  it('truncates the hex to 64 characters', () => {
    expect(referrersTagFor(SHA512)).toBe(`sha512-${'b'.repeat(64)}`);
  });
});
