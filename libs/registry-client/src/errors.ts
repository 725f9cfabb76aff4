/** Stable codes of {@link RegistryError}. Callers branch on these, never on the message. */
export type RegistryErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'digest-mismatch'
  | 'too-large'
  | 'timeout'
  | 'unavailable'
  | 'rate-limited'
  | 'invalid-response'
  | 'forbidden-origin'
  | 'network'
  | 'invalid-argument';

/** Codes of failures that may pass when the same request is sent again later. */
const RETRYABLE_CODES: ReadonlySet<RegistryErrorCode> = new Set<RegistryErrorCode>([
  'timeout',
  'unavailable',
  'rate-limited',
  'network',
]);

export function isRetryableCode(code: RegistryErrorCode): boolean {
  return RETRYABLE_CODES.has(code);
}

export interface RegistryErrorDetails {
  status?: number;
  url?: string;
  cause?: unknown;
}

/**
 * A failed registry request or an invalid argument. Messages name the registry and the
 * repository, reference or URL involved, and never contain credentials or tokens.
 */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  /** True for timeout, unavailable (5xx), rate-limited (429) and network errors. */
  readonly retryable: boolean;
  /** HTTP status of the response that failed, when there was one. */
  readonly status?: number;
  /** URL of the failed request. The client never puts credentials into URLs. */
  readonly url?: string;

  constructor(code: RegistryErrorCode, message: string, details: RegistryErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.retryable = isRetryableCode(code);
    this.status = details.status;
    this.url = details.url;
  }
}
