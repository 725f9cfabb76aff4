import { isDigest } from './digest';
import { OciError, OciErrorCode, quoteValue } from './errors';

export type JsonObject = Record<string, unknown>;

/**
 * The document being read, for error messages: `code` is thrown for a wrong shape and `name`
 * names the document, for example "image manifest".
 */
export interface JsonDocument {
  code: OciErrorCode;
  name: string;
}

/**
 * Decodes UTF-8 bytes and parses them as a JSON object. Throws `invalid-json` for bad UTF-8 or
 * JSON syntax, and the document's code when the top-level value is not an object.
 */
export function parseJsonObject(bytes: Uint8Array, document: JsonDocument): JsonObject {
  let value: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch (error) {
    throw new OciError(
      'invalid-json',
      `Invalid ${document.name}: the body is not UTF-8 encoded JSON (${(error as Error).message}).`,
      { cause: error },
    );
  }
  if (!isJsonObject(value)) {
    throw new OciError(
      document.code,
      `Invalid ${document.name}: expected a JSON object, got ${describeType(value)}.`,
    );
  }
  return value;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Builds the error for a field at `path` (such as `layers[2].size`) that fails a rule. */
export function invalidField(document: JsonDocument, path: string, rule: string, value: unknown) {
  return new OciError(
    document.code,
    `Invalid ${document.name}: ${path} ${rule}, got ${value === undefined ? 'nothing' : quoteValue(value)}.`,
  );
}

export function readString(document: JsonDocument, value: unknown, path: string): string {
  if (typeof value !== 'string') {
    throw invalidField(document, path, 'must be a string', value);
  }
  return value;
}

export function readOptionalString(
  document: JsonDocument,
  value: unknown,
  path: string,
): string | undefined {
  return value === undefined ? undefined : readString(document, value, path);
}

/** Reads a string array. JSON `null` counts as absent, because Docker writes it for empty lists. */
export function readOptionalStringArray(
  document: JsonDocument,
  value: unknown,
  path: string,
): string[] | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw invalidField(document, path, 'must be an array of strings', value);
  }
  return value.map((item, index) => readString(document, item, `${path}[${index}]`));
}

/** Reads a string-to-string map such as annotations or labels. JSON `null` counts as absent. */
export function readStringMap(
  document: JsonDocument,
  value: unknown,
  path: string,
): Record<string, string> | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!isJsonObject(value)) {
    throw invalidField(document, path, 'must be an object of strings', value);
  }
  // Object.fromEntries defines own properties, so a "__proto__" key stays an ordinary entry.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      readString(document, item, `${path}[${JSON.stringify(key)}]`),
    ]),
  );
}

/** Reads a digest. A malformed one is reported with the document's code, not `invalid-digest`. */
export function readDigest(document: JsonDocument, value: unknown, path: string): string {
  if (typeof value !== 'string' || !isDigest(value)) {
    throw invalidField(
      document,
      path,
      'must be "sha256:" with 64 or "sha512:" with 128 lowercase hex characters',
      value,
    );
  }
  return value;
}
