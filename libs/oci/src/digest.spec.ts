import {
  assertDigest,
  computeDigest,
  digestMatches,
  EMPTY_JSON_DIGEST,
  isDigest,
  sha256Digest,
} from './digest';
import { OciError } from './errors';

// Expected hashes were computed once with `printf 'hello' | sha256sum` and `| sha512sum`.
const HELLO_SHA256 = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const HELLO_SHA512 =
  'sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043';

describe('isDigest', () => {
  it.each([HELLO_SHA256, HELLO_SHA512, EMPTY_JSON_DIGEST])('accepts %s', (digest) => {
    expect(isDigest(digest)).toBe(true);
  });

  it.each([
    ['uppercase hex', HELLO_SHA256.toUpperCase().replace('SHA256', 'sha256')],
    ['uppercase algorithm', HELLO_SHA256.replace('sha256', 'SHA256')],
    ['63 hex characters', HELLO_SHA256.slice(0, -1)],
    ['65 hex characters', `${HELLO_SHA256}0`],
    ['sha512 with 64 characters', HELLO_SHA256.replace('sha256', 'sha512')],
    ['sha256 with 128 characters', HELLO_SHA512.replace('sha512', 'sha256')],
    ['unsupported algorithm', HELLO_SHA256.replace('sha256', 'blake3')],
    ['missing algorithm', HELLO_SHA256.slice('sha256:'.length)],
    ['non-hex character', HELLO_SHA256.replace(/.$/, 'g')],
    ['trailing newline', `${HELLO_SHA256}\n`],
    ['empty string', ''],
  ])('rejects %s', (_case, digest) => {
    expect(isDigest(digest)).toBe(false);
  });
});

describe('assertDigest', () => {
  it('returns a valid digest unchanged', () => {
    expect(assertDigest(HELLO_SHA256)).toBe(HELLO_SHA256);
  });

  it('throws invalid-digest naming the value', () => {
    const value = HELLO_SHA256.toUpperCase();
    expect(() => assertDigest(value)).toThrow(OciError);
    expect(() => assertDigest(value)).toThrow(expect.objectContaining({ code: 'invalid-digest' }));
    expect(() => assertDigest(value)).toThrow(value);
  });
});

describe('sha256Digest', () => {
  it('hashes bytes', () => {
    expect(sha256Digest(new TextEncoder().encode('hello'))).toBe(HELLO_SHA256);
  });

  it('hashes a string as UTF-8', () => {
    expect(sha256Digest('hello')).toBe(HELLO_SHA256);
  });

  it('matches the empty JSON descriptor digest', () => {
    expect(sha256Digest('{}')).toBe(EMPTY_JSON_DIGEST);
  });
});

describe('computeDigest', () => {
  it('hashes with sha512', () => {
    expect(computeDigest('sha512', 'hello')).toBe(HELLO_SHA512);
  });
});

describe('digestMatches', () => {
  const hello = new TextEncoder().encode('hello');

  it('matches a sha256 digest', () => {
    expect(digestMatches(hello, HELLO_SHA256)).toBe(true);
  });

  it('matches a sha512 digest', () => {
    expect(digestMatches(hello, HELLO_SHA512)).toBe(true);
  });

  it('rejects other bytes', () => {
    expect(digestMatches(new TextEncoder().encode('hello\n'), HELLO_SHA256)).toBe(false);
  });

  it('throws on a malformed expected digest', () => {
    expect(() => digestMatches(hello, HELLO_SHA256.toUpperCase())).toThrow(
      expect.objectContaining({ code: 'invalid-digest' }),
    );
  });
});
