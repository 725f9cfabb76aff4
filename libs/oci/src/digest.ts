import { createHash } from 'node:crypto';

import { OciError, quoteValue } from './errors';

/** Digest algorithms this service computes and accepts. */
export type DigestAlgorithm = 'sha256' | 'sha512';

/**
 * Accepted digests: sha256 with 64 and sha512 with 128 lowercase hex characters. The OCI
 * grammar allows other algorithms, but a digest that cannot be recomputed proves nothing.
 * Uppercase hex is rejected rather than lowercased, so that one content has one spelling.
 */
const DIGEST_PATTERN = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Returns true for a sha256 or sha512 digest in the form described above. */
export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** Returns `value` unchanged when it is a valid digest, and throws `invalid-digest` otherwise. */
export function assertDigest(value: string): string {
  if (!isDigest(value)) {
    throw new OciError(
      'invalid-digest',
      `Invalid digest ${quoteValue(value)}: expected "sha256:" with 64 or "sha512:" with 128 lowercase hex characters.`,
    );
  }
  return value;
}

/** Computes `sha256:<hex>` over the bytes, or over the UTF-8 encoding of a string. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return computeDigest('sha256', bytes);
}

/** Computes `<algorithm>:<hex>` over the bytes, or over the UTF-8 encoding of a string. */
export function computeDigest(algorithm: DigestAlgorithm, bytes: Uint8Array | string): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Hashes `bytes` with the algorithm named in `expected` and compares the result. Throws
 * `invalid-digest` when `expected` is malformed, so a bad expectation is not mistaken for
 * tampered content.
 */
export function digestMatches(bytes: Uint8Array, expected: string): boolean {
  assertDigest(expected);
  const algorithm = expected.slice(0, expected.indexOf(':')) as DigestAlgorithm;
  return computeDigest(algorithm, bytes) === expected;
}

/** Digest of the two-byte blob `{}` that the OCI empty descriptor references. */
export const EMPTY_JSON_DIGEST =
  'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
