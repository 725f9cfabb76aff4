/**
 * Media types of manifests, indexes and image configs, from the OCI image-spec
 * (`media-types.md`) and Docker's image manifest v2 schema 2 specification.
 */
export const MediaType = {
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DOCKER_SCHEMA1: 'application/vnd.docker.distribution.manifest.v1+json',
  DOCKER_SCHEMA1_SIGNED: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  DOCKER_CONFIG: 'application/vnd.docker.container.image.v1+json',
  OCI_EMPTY_JSON: 'application/vnd.oci.empty.v1+json',
} as const;

export type MediaTypeValue = (typeof MediaType)[keyof typeof MediaType];

/** The four manifest types that `parseManifest` accepts, for an HTTP `Accept` header. */
export const MANIFEST_ACCEPT: readonly string[] = Object.freeze([
  MediaType.OCI_INDEX,
  MediaType.OCI_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
  MediaType.DOCKER_MANIFEST,
]);

const IMAGE_MANIFEST_TYPES: readonly string[] = [MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST];
const INDEX_TYPES: readonly string[] = [MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST];
const SCHEMA1_TYPES: readonly string[] = [
  MediaType.DOCKER_SCHEMA1,
  MediaType.DOCKER_SCHEMA1_SIGNED,
];
const IMAGE_CONFIG_TYPES: readonly string[] = [MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG];

/** Media type prefixes of filesystem layers: OCI tar, tar+gzip, tar+zstd and Docker rootfs diffs. */
const IMAGE_LAYER_PREFIXES: readonly string[] = [
  'application/vnd.oci.image.layer.',
  'application/vnd.docker.image.rootfs.',
];

/** Returns true for the four supported manifest types and the two Docker schema 1 types. */
export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_ACCEPT.includes(mediaType) || isSchema1MediaType(mediaType);
}

/** Returns true for the OCI image manifest and the Docker schema 2 manifest. */
export function isImageManifestMediaType(mediaType: string): boolean {
  return IMAGE_MANIFEST_TYPES.includes(mediaType);
}

/** Returns true for the OCI image index and the Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.includes(mediaType);
}

/** Returns true for Docker schema 1 manifests, plain or signed. */
export function isSchema1MediaType(mediaType: string): boolean {
  return SCHEMA1_TYPES.includes(mediaType);
}

/** Returns true for the OCI and Docker image config types. */
export function isImageConfigMediaType(mediaType: string): boolean {
  return IMAGE_CONFIG_TYPES.includes(mediaType);
}

/** Returns true for OCI and Docker filesystem layer types, compressed or not. */
export function isImageLayerMediaType(mediaType: string): boolean {
  return IMAGE_LAYER_PREFIXES.some((prefix) => mediaType.startsWith(prefix));
}

/**
 * Reduces an HTTP `Content-Type` value to its media type: parameters such as `charset` are
 * dropped and the result is lowercased, because media types are case-insensitive (RFC 9110).
 * Returns undefined for an empty or missing header.
 */
export function mediaTypeFromContentType(contentType: string | undefined): string | undefined {
  const mediaType = contentType?.split(';')[0].trim().toLowerCase();
  return mediaType ? mediaType : undefined;
}
