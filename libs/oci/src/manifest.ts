import { Descriptor, parseDescriptor } from './descriptor';
import { OciError, quoteValue } from './errors';
import {
  invalidField,
  JsonDocument,
  JsonObject,
  parseJsonObject,
  readOptionalString,
  readStringMap,
} from './json';
import {
  isImageConfigMediaType,
  isImageLayerMediaType,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  MANIFEST_ACCEPT,
  MediaType,
  mediaTypeFromContentType,
} from './media-types';

/**
 * Maximum number of layers in a manifest, entries in an index or diff_ids in a config. The OCI
 * specs set no limit, so this bound on the work per document is this service's choice.
 */
export const MAX_ENTRIES = 1000;

/** An OCI image manifest or a Docker schema 2 manifest. */
export interface ImageManifest {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

/** An OCI image index or a Docker manifest list. */
export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
  annotations: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export type ManifestDocument = ImageManifest | ImageIndex;

const MANIFEST: JsonDocument = { code: 'invalid-manifest', name: 'manifest' };

/**
 * Parses and validates a manifest or index from the exact bytes a registry served.
 *
 * The media type comes from the body's `mediaType` field, else from `contentType` (the HTTP
 * `Content-Type` header), else from the body's shape, because umoci omits the field. Throws
 * `OciError` with code:
 * - `invalid-json` for bytes that are not UTF-8 JSON,
 * - `schema1-unsupported` for Docker schema 1 by version or media type,
 * - `ambiguous-manifest` when the body has both `manifests` and `layers` or `config`,
 * - `media-type-mismatch` when the field and the header disagree,
 * - `unsupported-media-type` for a type other than the four in {@link MANIFEST_ACCEPT},
 * - `too-many-entries` above {@link MAX_ENTRIES} layers or index entries,
 * - `invalid-manifest` for any other shape or descriptor error.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ManifestDocument {
  const body = parseJsonObject(bytes, MANIFEST);

  if (body.schemaVersion === 1) {
    throw schema1Unsupported('schemaVersion 1');
  }
  // Clients that guess the type of such a body can disagree on it (CVE-2021-41190).
  if (body.manifests !== undefined && (body.layers !== undefined || body.config !== undefined)) {
    throw new OciError(
      'ambiguous-manifest',
      'Ambiguous manifest: the body has both "manifests" (an index) and "layers" or "config" (an image manifest).',
    );
  }

  const mediaType = resolveMediaType(body, contentType);
  if (isSchema1MediaType(mediaType)) {
    throw schema1Unsupported(`media type ${mediaType}`);
  }
  if (body.schemaVersion !== 2) {
    throw invalidField(MANIFEST, 'schemaVersion', 'must be 2', body.schemaVersion);
  }

  if (isImageManifestMediaType(mediaType)) {
    return parseImageManifest(body, mediaType);
  }
  if (isIndexMediaType(mediaType)) {
    return parseImageIndex(body, mediaType);
  }
  throw new OciError(
    'unsupported-media-type',
    `Unsupported manifest media type ${quoteValue(mediaType)}: expected one of ${MANIFEST_ACCEPT.join(', ')}.`,
  );
}

function schema1Unsupported(evidence: string): OciError {
  return new OciError(
    'schema1-unsupported',
    `Docker schema 1 manifest (${evidence}) is not supported: its digest is not a content address and it has no image config. Rebuild and push the image with a current client.`,
  );
}

function resolveMediaType(body: JsonObject, contentType: string | undefined): string {
  const fromBody = readOptionalString(MANIFEST, body.mediaType, 'mediaType');
  // A generic header such as application/json or application/octet-stream says nothing about the
  // manifest type, so only a manifest media type in the header is compared with the body.
  const header = mediaTypeFromContentType(contentType);
  const fromHeader = header !== undefined && isManifestMediaType(header) ? header : undefined;

  if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
    throw new OciError(
      'media-type-mismatch',
      `Manifest media type mismatch: the body says ${quoteValue(fromBody)} but Content-Type says ${quoteValue(fromHeader)}.`,
    );
  }
  return fromBody ?? fromHeader ?? inferMediaType(body);
}

/**
 * Guesses the type of a body without `mediaType` and without a `Content-Type`. Only OCI types
 * are guessed, because the Docker schema 2 formats require the field.
 */
function inferMediaType(body: JsonObject): string {
  if (body.manifests !== undefined) {
    return MediaType.OCI_INDEX;
  }
  if (body.config !== undefined || body.layers !== undefined) {
    return MediaType.OCI_MANIFEST;
  }
  throw new OciError(
    'invalid-manifest',
    'Invalid manifest: there is no "mediaType", no Content-Type and neither "manifests" nor "config" and "layers" to tell its type.',
  );
}

function parseImageManifest(body: JsonObject, mediaType: string): ImageManifest {
  if (body.config === undefined) {
    throw invalidField(MANIFEST, 'config', 'is required in an image manifest', undefined);
  }
  const config = parseDescriptor(MANIFEST, body.config, 'config');
  const layers = parseDescriptorList(body.layers, 'layers');
  return { kind: 'image', mediaType, config, layers, ...parseCommonFields(body) };
}

function parseImageIndex(body: JsonObject, mediaType: string): ImageIndex {
  const manifests = parseDescriptorList(body.manifests, 'manifests');
  return { kind: 'index', mediaType, manifests, ...parseCommonFields(body) };
}

function parseDescriptorList(value: unknown, field: 'layers' | 'manifests'): Descriptor[] {
  if (!Array.isArray(value)) {
    throw invalidField(MANIFEST, field, 'must be an array of descriptors', value);
  }
  if (value.length > MAX_ENTRIES) {
    throw new OciError(
      'too-many-entries',
      `Manifest has ${value.length} ${field}, more than the maximum of ${MAX_ENTRIES}.`,
    );
  }
  return value.map((item, index) => parseDescriptor(MANIFEST, item, `${field}[${index}]`));
}

function parseCommonFields(
  body: JsonObject,
): Pick<ImageManifest, 'annotations' | 'subject' | 'artifactType'> {
  const annotations = readStringMap(MANIFEST, body.annotations, 'annotations') ?? {};
  const subject =
    body.subject === undefined ? undefined : parseDescriptor(MANIFEST, body.subject, 'subject');
  const artifactType = readOptionalString(MANIFEST, body.artifactType, 'artifactType');
  return {
    annotations,
    ...(subject !== undefined && { subject }),
    ...(artifactType !== undefined && { artifactType }),
  };
}

/**
 * Returns true for an index entry that is not a runnable image: a BuildKit attestation
 * (platform `unknown/unknown` or the `vnd.docker.reference.type` annotation) or an entry whose
 * `artifactType` is not an image config type.
 */
export function isAttestationEntry(entry: Descriptor): boolean {
  const platform = entry.platform;
  if (platform?.os === 'unknown' && platform.architecture === 'unknown') {
    return true;
  }
  if (entry.annotations?.['vnd.docker.reference.type'] !== undefined) {
    return true;
  }
  return entry.artifactType !== undefined && !isImageConfigMediaType(entry.artifactType);
}

/**
 * Returns true for a manifest that is a signature, attestation or other artifact rather than a
 * runnable image. Such a manifest has a `subject` or an `artifactType`, or a config that is not
 * an image config, or layers of which none is a filesystem layer. The last rule catches cosign
 * `.sig` manifests, which use the OCI config type but carry signature payloads as layers.
 */
export function isArtifactManifest(manifest: ImageManifest): boolean {
  if (manifest.subject !== undefined || manifest.artifactType !== undefined) {
    return true;
  }
  if (!isImageConfigMediaType(manifest.config.mediaType)) {
    return true;
  }
  const layers = manifest.layers;
  return layers.length > 0 && !layers.some((layer) => isImageLayerMediaType(layer.mediaType));
}
