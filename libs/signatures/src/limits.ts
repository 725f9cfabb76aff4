import { digestLike } from './digest';
import { SignatureError } from './errors';
import type { BlobSource } from './types';

/** Bounds applied to description a registry supplies, like the reference tools apply them. */
export interface VerificationLimits {
  /** Signatures considered per image; the rest are recorded as one `too-many-signatures` check. */
  maxSignatures: number;
  /** Bytes of one signature blob (payload, bundle, envelope or OpenPGP message). */
  maxSignatureBytes: number;
}

/**
 * Defaults: 100 signatures per image (containers/image reads at most 128 lookaside signatures)
 * and 4 MiB per signature blob (containers/image's limit for one signature).
 */
export const DEFAULT_LIMITS: VerificationLimits = {
  maxSignatures: 100,
  maxSignatureBytes: 4 * 1024 * 1024,
};

/**
 * Reads a blob within `maxBytes`. A lazy blob whose declared size exceeds the limit is
 * rejected before it is read. After reading, bytes of another length than declared, or not
 * matching `expectedDigest`, are rejected.
 */
export async function readBlob(
  source: BlobSource,
  maxBytes: number,
  description: string,
  expectedDigest?: string,
): Promise<Buffer> {
  let bytes: Buffer;
  if (Buffer.isBuffer(source)) {
    bytes = source;
  } else {
    const declared = source.declaredSize;
    if (!Number.isSafeInteger(declared) || declared < 0) {
      throw new SignatureError(
        'blob-size-invalid',
        `${description} declares size ${declared}, not a non-negative integer`,
      );
    }
    if (declared > maxBytes) {
      throw new SignatureError(
        'blob-too-large',
        `${description} declares ${declared} bytes, more than the limit of ${maxBytes} bytes; it was not read`,
      );
    }
    bytes = await source.read(declared);
    if (bytes.length !== declared) {
      throw new SignatureError(
        'blob-size-mismatch',
        `${description} has ${bytes.length} bytes but its descriptor declares ${declared}`,
      );
    }
  }
  if (bytes.length > maxBytes) {
    throw new SignatureError(
      'blob-too-large',
      `${description} has ${bytes.length} bytes, more than the limit of ${maxBytes}`,
    );
  }
  if (expectedDigest !== undefined && digestLike(expectedDigest, bytes) !== expectedDigest) {
    throw new SignatureError(
      'blob-digest-mismatch',
      `${description} does not hash to its descriptor digest ${expectedDigest}`,
    );
  }
  return bytes;
}
