/** Failure of a signature library operation, with a stable `code` for callers and logs. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Rejection of a JSON document by the strict parser (duplicate keys, case variants, syntax). */
export class StrictJsonError extends SignatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('strict-json-invalid', message, options);
  }
}

/** Rejection of a policy.json document or of a trust policy value. */
export class PolicyError extends SignatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('policy-invalid', message, options);
  }
}
