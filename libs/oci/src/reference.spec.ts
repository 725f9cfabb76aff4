import {
  formatReference,
  ImageReference,
  isValidRepository,
  isValidTag,
  MAX_REPOSITORY_LENGTH,
  parseReference,
} from './reference';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseReference', () => {
  it.each<[string, ImageReference]>([
    ['alpine', { host: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['alpine:3.19', { host: 'docker.io', repository: 'library/alpine', tag: '3.19' }],
    ['team/app:1.0', { host: 'docker.io', repository: 'team/app', tag: '1.0' }],
    ['docker.io/alpine', { host: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['index.docker.io/alpine', { host: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['index.docker.io/team/app', { host: 'docker.io', repository: 'team/app', tag: 'latest' }],
    ['localhost/app', { host: 'localhost', repository: 'app', tag: 'latest' }],
    ['localhost:5000/a/b:t', { host: 'localhost:5000', repository: 'a/b', tag: 't' }],
    [`127.0.0.1:5000/x@${DIGEST}`, { host: '127.0.0.1:5000', repository: 'x', digest: DIGEST }],
    [
      `registry.example.com/org/img:1.2@${DIGEST}`,
      { host: 'registry.example.com', repository: 'org/img', tag: '1.2', digest: DIGEST },
    ],
    [
      'Registry.Example.COM/org/img',
      { host: 'registry.example.com', repository: 'org/img', tag: 'latest' },
    ],
    ['quay.io/a/b/c/d:v1', { host: 'quay.io', repository: 'a/b/c/d', tag: 'v1' }],
    ['[::1]:5000/app:dev', { host: '[::1]:5000', repository: 'app', tag: 'dev' }],
    ['myhost:65535/app', { host: 'myhost:65535', repository: 'app', tag: 'latest' }],
    ['a.b-c.d---e/x', { host: 'a.b-c.d---e', repository: 'x', tag: 'latest' }],
    [
      'team/my_app.v2--x__y',
      { host: 'docker.io', repository: 'team/my_app.v2--x__y', tag: 'latest' },
    ],
    [
      'app:_Tag.With-Chars',
      { host: 'docker.io', repository: 'library/app', tag: '_Tag.With-Chars' },
    ],
    // Without a '/', "localhost:5000" is a repository with a tag, as in Docker.
    ['localhost:5000', { host: 'docker.io', repository: 'library/localhost', tag: '5000' }],
  ])('normalises %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it('adds no tag when defaultTag is false', () => {
    expect(parseReference('quay.io/a/b', { defaultTag: false })).toEqual({
      host: 'quay.io',
      repository: 'a/b',
    });
  });

  it('adds no tag to a digest reference', () => {
    expect(parseReference(`alpine@${DIGEST}`)).toEqual({
      host: 'docker.io',
      repository: 'library/alpine',
      digest: DIGEST,
    });
  });

  it('accepts a 255-character repository', () => {
    const repository = 'a'.repeat(MAX_REPOSITORY_LENGTH);
    expect(parseReference(`quay.io/${repository}`).repository).toBe(repository);
  });

  it('accepts a 128-character tag', () => {
    const tag = 'a'.repeat(128);
    expect(parseReference(`app:${tag}`).tag).toBe(tag);
  });

  it.each([
    ['empty input', ''],
    ['uppercase repository', 'Alpine'],
    ['uppercase path component', 'quay.io/Team/app'],
    ['uppercase localhost is no host', 'LOCALHOST/app'],
    ['empty tag', 'alpine:'],
    ['tag starting with a dot', 'alpine:.x'],
    ['tag starting with a dash', 'alpine:-x'],
    ['tag with a plus sign', 'alpine:a+b'],
    ['tag of 129 characters', `alpine:${'a'.repeat(129)}`],
    ['uppercase digest', `alpine@${DIGEST.toUpperCase()}`],
    ['short digest', `alpine@${DIGEST.slice(0, -1)}`],
    ['two digests', `alpine@${DIGEST}@${DIGEST}`],
    ['port zero', 'localhost:0/app'],
    ['port above 65535', 'localhost:65536/app'],
    ['non-numeric port', 'localhost:http/app'],
    ['six-digit port', 'localhost:123456/app'],
    ['host with underscore', 'my_host.example/app'],
    ['URL scheme', 'https://quay.io/a/b'],
    ['empty repository after host', 'quay.io/'],
    ['double slash', 'quay.io/a//b'],
    ['trailing separator', 'quay.io/a/b-'],
    ['leading separator', 'quay.io/_a/b'],
    ['three underscores', 'quay.io/a___b'],
    ['whitespace', 'alpine :3'],
    ['repository longer than 255 characters', `quay.io/${'a'.repeat(MAX_REPOSITORY_LENGTH + 1)}`],
  ])('rejects %s', (_case, input) => {
    expect(() => parseReference(input)).toThrow(
      expect.objectContaining({ code: 'invalid-reference' }),
    );
  });

  it('names the input and the failed part in the message', () => {
    expect(() => parseReference('quay.io/Team/app')).toThrow(
      'Invalid image reference "quay.io/Team/app": repository "Team/app"',
    );
  });
});

describe('formatReference', () => {
  it.each([
    ['docker.io/library/alpine:latest', 'alpine'],
    ['localhost:5000/a/b:t', 'localhost:5000/a/b:t'],
    [`127.0.0.1:5000/x@${DIGEST}`, `127.0.0.1:5000/x@${DIGEST}`],
    [`quay.io/a/b:1@${DIGEST}`, `quay.io/a/b:1@${DIGEST}`],
  ])('formats %s', (expected, input) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });

  it('round-trips through parseReference', () => {
    const ref = parseReference(`quay.io/a/b:1@${DIGEST}`);
    expect(parseReference(formatReference(ref))).toEqual(ref);
  });
});

describe('isValidTag', () => {
  it.each(['latest', '1.0', 'v1.2.3-rc.1', '_x', 'A'.repeat(128)])('accepts %s', (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });

  it.each(['', '.x', '-x', 'a b', 'a/b', 'a:b', 'A'.repeat(129)])('rejects %j', (tag) => {
    expect(isValidTag(tag)).toBe(false);
  });
});

describe('isValidRepository', () => {
  it.each(['a', 'library/alpine', 'a/b/c', 'a.b', 'a_b', 'a__b', 'a-b', 'a---b', '0'])(
    'accepts %s',
    (name) => {
      expect(isValidRepository(name)).toBe(true);
    },
  );

  it.each(['', 'A', 'a/', '/a', 'a//b', 'a..b', 'a___b', '-a', 'a-', 'a.b/_c', 'a'.repeat(256)])(
    'rejects %j',
    (name) => {
      expect(isValidRepository(name)).toBe(false);
    },
  );
});
