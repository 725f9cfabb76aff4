import { isDigest } from './digest';
import { OciError, quoteValue } from './errors';

/** A normalised image reference. `host` is lowercased and Docker Hub is always `docker.io`. */
export interface ImageReference {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB_HOST = 'docker.io';
export const DEFAULT_TAG = 'latest';

/** Maximum length of a repository path, the limit of the distribution/reference Go module. */
export const MAX_REPOSITORY_LENGTH = 255;

// Grammars from the OCI distribution-spec: a tag is 1 to 128 characters, and a repository is
// lowercase path components separated by '/', each split by '.', '_', '__' or runs of '-'.
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REPOSITORY_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_PATTERN = new RegExp(`^${REPOSITORY_COMPONENT}(?:/${REPOSITORY_COMPONENT})*$`);

// A host is a DNS name or a bracketed IPv6 address, optionally followed by a port.
const HOST_PATTERN =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[a-f0-9:.]+\])(?::([0-9]{1,5}))?$/;
const MAX_PORT = 65535;

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

export function isValidRepository(name: string): boolean {
  return name.length <= MAX_REPOSITORY_LENGTH && REPOSITORY_PATTERN.test(name);
}

function isValidHost(host: string): boolean {
  const match = HOST_PATTERN.exec(host);
  if (!match) {
    return false;
  }
  const port = match[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= MAX_PORT);
}

/**
 * Parses `host[:port]/path[:tag][@digest]` and normalises it the way Docker does.
 *
 * The first path component is a host only when it contains '.' or ':' or is `localhost`, so
 * `alpine` becomes `docker.io/library/alpine` and `team/app` becomes `docker.io/team/app`.
 * `index.docker.io` is rewritten to `docker.io`. A reference with neither tag nor digest gets
 * the tag `latest` unless `options.defaultTag` is false. A reference may carry both a tag and
 * a digest, and both are kept. Throws `invalid-reference` on any grammar violation.
 */
export function parseReference(
  input: string,
  options: { defaultTag?: boolean } = {},
): ImageReference {
  const invalid = (problem: string): OciError =>
    new OciError('invalid-reference', `Invalid image reference ${quoteValue(input)}: ${problem}.`);

  let name = input;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at !== -1) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!isDigest(digest)) {
      throw invalid(
        `digest ${quoteValue(digest)} is not "sha256:" with 64 or "sha512:" with 128 lowercase hex characters`,
      );
    }
  }

  // A ':' after the last '/' starts the tag. A ':' before it belongs to the host's port.
  let tag: string | undefined;
  const colon = name.indexOf(':', name.lastIndexOf('/') + 1);
  if (colon !== -1) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!isValidTag(tag)) {
      throw invalid(`tag ${quoteValue(tag)} must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
    }
  }

  const { host, repository } = splitHost(name);
  if (!isValidHost(host)) {
    throw invalid(
      `registry host ${quoteValue(host)} is not a valid host name with an optional port`,
    );
  }
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    throw invalid(`repository is longer than ${MAX_REPOSITORY_LENGTH} characters`);
  }
  if (!REPOSITORY_PATTERN.test(repository)) {
    throw invalid(
      `repository ${quoteValue(repository)} must be lowercase path components of [a-z0-9] separated by '.', '_', '__' or '-'`,
    );
  }

  if (tag === undefined && digest === undefined && options.defaultTag !== false) {
    tag = DEFAULT_TAG;
  }
  return {
    host,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  };
}

function splitHost(name: string): { host: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';

  let host = hasHost ? first.toLowerCase() : DOCKER_HUB_HOST;
  let repository = hasHost ? name.slice(slash + 1) : name;
  if (host === 'index.docker.io') {
    host = DOCKER_HUB_HOST;
  }
  // Docker Hub keeps official images under `library/`.
  if (host === DOCKER_HUB_HOST && !repository.includes('/')) {
    repository = `library/${repository}`;
  }
  return { host, repository };
}

/** Formats a reference as `host/repository[:tag][@digest]`, always with the host. */
export function formatReference(ref: ImageReference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${ref.host}/${ref.repository}${tag}${digest}`;
}
