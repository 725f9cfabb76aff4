/** Stable codes of {@link OciError}; callers branch on these, never on the message. */
export type OciErrorCode =
  | 'invalid-digest'
  | 'invalid-reference'
  | 'invalid-json'
  | 'invalid-manifest'
  | 'unsupported-media-type'
  | 'schema1-unsupported'
  | 'ambiguous-manifest'
  | 'too-many-entries'
  | 'invalid-config'
  | 'layer-mismatch'
  | 'media-type-mismatch';

/** Invalid or unsupported OCI input: a reference, digest, manifest, index or image config. */
export class OciError extends Error {
  readonly code: OciErrorCode;

  constructor(code: OciErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OciError';
    this.code = code;
  }
}

const MAX_QUOTED_LENGTH = 80;

/**
 * Formats an untrusted value for an error message: JSON-quoted, and cut to 80 characters so a
 * hostile document cannot blow up logs.
 */
export function quoteValue(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value));
  const shortened =
    text.length > MAX_QUOTED_LENGTH ? `${text.slice(0, MAX_QUOTED_LENGTH)}...` : text;
  return typeof value === 'string' ? JSON.stringify(shortened) : shortened;
}
