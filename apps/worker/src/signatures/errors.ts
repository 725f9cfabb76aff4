/** Stable codes of {@link SignatureJobError}. */
export type SignatureJobErrorCode =
  /** The newest trust_policies row is not a valid trust policy. */
  | 'policy-invalid'
  /** A lookaside store returned 5xx or 429, timed out or could not be reached. */
  | 'lookaside-unavailable'
  /** A signature blob read failed in a way that may pass on a later attempt. */
  | 'blob-unavailable';

/**
 * Failure of a signature job. `retryable` is true when a later attempt of the job may pass. The
 * original error is kept as `cause`.
 */
export class SignatureJobError extends Error {
  override readonly name = 'SignatureJobError';

  constructor(
    readonly code: SignatureJobErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
