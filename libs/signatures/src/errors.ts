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
  /** Path of the policy part that is wrong, e.g. `default` or `scopes["registry.example.com"]`. */
  readonly field?: string;

  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super('policy-invalid', message, options);
    this.field = options?.field;
  }
}
