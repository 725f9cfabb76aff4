import { isDigest } from '@app/oci';

import { RegistryError } from './errors';

/**
 * Repository name grammar of the OCI distribution spec: lowercase path components joined by
 * "/", each separated inside by ".", "_", "__" or runs of "-". It admits no "..", "?", "#",
 * "%" or leading "/", so a valid name cannot change the shape of a request URL.
 */
const REPOSITORY_PATTERN =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/**
 * Maximum repository name length. Many clients limit registry host, "/" and name together to
 * 255 characters, so a longer name cannot be pulled by them.
 */
const MAX_REPOSITORY_LENGTH = 255;

/** Tag grammar of the OCI distribution spec: at most 128 characters. */
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/**
 * Media type grammar of RFC 6838 (type "/" subtype, restricted name characters), used for the
 * `artifactType` filter of the referrers API.
 */
const MEDIA_TYPE_PATTERN =
  /^[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]{0,126}\/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]{0,126}$/;

function quote(value: string): string {
  const shortened = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(shortened);
}

/** Throws `invalid-argument` unless `repository` is a valid OCI repository name. */
export function assertRepository(repository: string): void {
  if (repository.length > MAX_REPOSITORY_LENGTH || !REPOSITORY_PATTERN.test(repository)) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid repository name ${quote(repository)}: expected lowercase path components such as "library/alpine", at most ${MAX_REPOSITORY_LENGTH} characters.`,
    );
  }
}

export function isTag(value: string): boolean {
  return TAG_PATTERN.test(value);
}

/** Throws `invalid-argument` unless `reference` is a valid tag or a sha256/sha512 digest. */
export function assertReference(reference: string): void {
  if (!isTag(reference) && !isDigest(reference)) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid manifest reference ${quote(reference)}: expected a tag (letters, digits, ".", "_", "-", at most 128 characters) or a digest such as "sha256:<64 lowercase hex>".`,
    );
  }
}

/** Throws `invalid-argument` unless `digest` is a sha256 or sha512 digest in lowercase hex. */
export function assertDigestArgument(digest: string): void {
  if (!isDigest(digest)) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid digest ${quote(digest)}: expected "sha256:" with 64 or "sha512:" with 128 lowercase hex characters.`,
    );
  }
}

/** Throws `invalid-argument` unless `mediaType` has the `type/subtype` form of RFC 6838. */
export function assertMediaType(mediaType: string): void {
  if (!MEDIA_TYPE_PATTERN.test(mediaType)) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid artifact type ${quote(mediaType)}: expected a media type such as "application/vnd.example+json".`,
    );
  }
}

/**
 * Returns the tag of the referrers tag schema (OCI distribution spec 1.1) for a digest: the
 * algorithm and the hex joined by "-", such as `sha256-<64 hex>`. The spec also truncates
 * the algorithm to 32 and the hex to 64 characters, so a sha512 digest maps to its first 64
 * hex characters.
 */
export function referrersTagFor(digest: string): string {
  const separator = digest.indexOf(':');
  const algorithm = digest.slice(0, separator).slice(0, 32);
  const encoded = digest.slice(separator + 1).slice(0, 64);
  return `${algorithm}-${encoded}`;
}
