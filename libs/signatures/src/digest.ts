import { createHash } from 'node:crypto';

import { SignatureError } from './errors';

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const SHA512_DIGEST = /^sha512:[a-f0-9]{128}$/;

/** Returns true for a `sha256:` or `sha512:` digest with lowercase hex of the right length. */
export function isSupportedDigest(digest: string): boolean {
  return SHA256_DIGEST.test(digest) || SHA512_DIGEST.test(digest);
}

/**
 * Throws unless `digest` is a `sha256:` or `sha512:` digest in canonical lowercase form.
 * Uppercase hex is rejected rather than normalized, so one image never has two spellings.
 */
export function assertSupportedDigest(digest: string, description: string): void {
  if (!isSupportedDigest(digest)) {
    throw new SignatureError(
      'digest-invalid',
      `${description} ${JSON.stringify(digest)} is not a sha256 or sha512 digest with lowercase hex`,
    );
  }
}

/** Computes the `sha256:<hex>` digest of exactly these bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Computes the digest of `bytes` with the algorithm that `expected` names (sha256 or sha512). */
export function digestLike(expected: string, bytes: Uint8Array): string {
  const algorithm = expected.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
