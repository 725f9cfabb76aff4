import { isSupportedDigest } from './digest';
import { SignatureError } from './errors';

/** A fully expanded image reference: `registry/repository[:tag][@digest]`. */
export interface ImageReference {
  /** Registry host with an optional port, for example `docker.io` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, for example `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const REGISTRY =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/**
 * Parses a docker reference as containers/image normalizes it: a first component without
 * `.` or `:` that is not `localhost` means Docker Hub, and a single Docker Hub component gets
 * the `library/` namespace. `busybox:1` becomes `docker.io/library/busybox:1`.
 */
export function parseDockerReference(text: string): ImageReference {
  const invalid = (reason: string): never => {
    throw new SignatureError(
      'reference-invalid',
      `docker reference ${JSON.stringify(text)} is invalid: ${reason}`,
    );
  };

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isSupportedDigest(digest)) {
      invalid('the digest is not a sha256 or sha512 digest with lowercase hex');
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      invalid(`tag ${JSON.stringify(tag)} does not match ${TAG.source}`);
    }
  }

  const components = rest.split('/');
  let registry = DOCKER_HUB;
  const first = components[0] ?? '';
  if (
    components.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost')
  ) {
    registry = first;
    components.shift();
    if (!REGISTRY.test(registry)) {
      invalid(`registry ${JSON.stringify(registry)} is not a host name with an optional port`);
    }
  }
  if (registry === DOCKER_HUB && components.length === 1) {
    components.unshift('library');
  }
  if (components.length === 0 || components.some((component) => !PATH_COMPONENT.test(component))) {
    invalid('a repository path component is empty or not lowercase alphanumerics with separators');
  }
  const repository = components.join('/');
  if (registry.length + 1 + repository.length > 255) {
    invalid('the name is longer than 255 characters');
  }
  return {
    registry,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  };
}

/** Formats `registry/repository`. */
export function formatRepository(
  reference: Pick<ImageReference, 'registry' | 'repository'>,
): string {
  return `${reference.registry}/${reference.repository}`;
}

/** Formats a reference as `registry/repository[:tag][@digest]`. */
export function formatReference(reference: ImageReference): string {
  const tag = reference.tag === undefined ? '' : `:${reference.tag}`;
  const digest = reference.digest === undefined ? '' : `@${reference.digest}`;
  return `${formatRepository(reference)}${tag}${digest}`;
}
