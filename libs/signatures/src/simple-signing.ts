import { isSupportedDigest } from './digest';
import { SignatureError } from './errors';
import { isJsonObject, JsonObject, JsonValue, parseStrictJson } from './strict-json';

/** `critical.type` of a cosign payload. */
export const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';
/** `critical.type` of a GPG simple-signing payload (atomic, skopeo, podman). */
export const ATOMIC_PAYLOAD_TYPE = 'atomic container signature';

/** The claims of a simple-signing payload. */
export interface SimpleSigningClaims {
  type: string;
  dockerManifestDigest: string;
  dockerReference: string;
  /** The `optional` object, or null when the payload has `"optional": null`. */
  optional: JsonObject | null;
}

/**
 * Parses a simple-signing payload after its signature was verified. Rejects invalid UTF-8,
 * duplicate and case-variant keys, unknown or missing members of `critical`, wrong types and
 * a `critical.type` other than `expectedType`. Members of `optional` are not interpreted.
 */
export function parseSimpleSigningPayload(
  payload: Uint8Array,
  expectedType: string,
): SimpleSigningClaims {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload);
  } catch (error) {
    throw payloadError('payload is not valid UTF-8', error);
  }
  let document: JsonValue;
  try {
    document = parseStrictJson(text);
  } catch (error) {
    throw payloadError(`payload is not strict JSON: ${(error as Error).message}`, error);
  }

  const top = expectObject(document, 'payload');
  expectExactKeys(top, ['critical', 'optional'], ['optional'], 'payload');
  const critical = expectObject(top['critical'], 'critical');
  expectExactKeys(critical, ['type', 'image', 'identity'], [], 'critical');
  const image = expectObject(critical['image'], 'critical.image');
  expectExactKeys(image, ['docker-manifest-digest'], [], 'critical.image');
  const identity = expectObject(critical['identity'], 'critical.identity');
  expectExactKeys(identity, ['docker-reference'], [], 'critical.identity');

  const type = expectString(critical['type'], 'critical.type');
  if (type !== expectedType) {
    throw payloadError(
      `critical.type is ${JSON.stringify(type)}, expected ${JSON.stringify(expectedType)}`,
    );
  }
  const dockerManifestDigest = expectString(
    image['docker-manifest-digest'],
    'critical.image.docker-manifest-digest',
  );
  if (!isSupportedDigest(dockerManifestDigest)) {
    throw payloadError(
      `critical.image.docker-manifest-digest ${JSON.stringify(dockerManifestDigest)} is not a sha256 or sha512 digest`,
    );
  }
  const dockerReference = expectString(
    identity['docker-reference'],
    'critical.identity.docker-reference',
  );

  const optionalValue = top['optional'];
  let optional: JsonObject | null = null;
  if (optionalValue !== undefined && optionalValue !== null) {
    optional = expectObject(optionalValue, 'optional');
  }
  return { type, dockerManifestDigest, dockerReference, optional };
}

function payloadError(message: string, cause?: unknown): SignatureError {
  return new SignatureError('payload-invalid', message, { cause });
}

function expectObject(value: JsonValue | undefined, path: string): JsonObject {
  if (!isJsonObject(value)) {
    throw payloadError(`${path} must be a JSON object`);
  }
  return value;
}

function expectString(value: JsonValue | undefined, path: string): string {
  if (typeof value !== 'string') {
    throw payloadError(`${path} must be a string`);
  }
  return value;
}

function expectExactKeys(
  object: JsonObject,
  allowed: string[],
  optional: string[],
  path: string,
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw payloadError(`${path} has unknown member ${JSON.stringify(key)}`);
    }
  }
  for (const key of allowed) {
    if (!(key in object) && !optional.includes(key)) {
      throw payloadError(`${path} is missing member ${JSON.stringify(key)}`);
    }
  }
}
