import type { SignatureCheckResult, SignerInfo } from './types';

/** Outcome of a format verifier for one signature against the anchors of one requirement. */
export interface FormatVerification {
  result: Exclude<SignatureCheckResult, 'identity-mismatch'>;
  reasonCode: string;
  reason: string;
  signer?: SignerInfo;
  /** Digest named by the signed payload; the caller compares it with the image digest. */
  signedDigest?: string;
  /** Docker reference named by the signed payload, when the format carries one. */
  dockerReference?: string;
  trustedTime?: string;
}

/** Builds a result that is not `valid`. */
export function failed(
  result: FormatVerification['result'],
  reasonCode: string,
  reason: string,
  signer?: SignerInfo,
): FormatVerification {
  return { result, reasonCode, reason, ...(signer && { signer }) };
}
