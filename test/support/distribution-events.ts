import { randomUUID } from 'node:crypto';

/** Builds a notification envelope shaped like the ones CNCF Distribution 2.8 sends. */
export function manifestPushEvent(input: {
  repository: string;
  digest: string;
  tag?: string;
  id?: string;
  mediaType?: string;
  host?: string;
}): Record<string, unknown> {
  const host = input.host ?? '127.0.0.1:5000';
  return {
    id: input.id ?? randomUUID(),
    timestamp: new Date().toISOString(),
    action: 'push',
    target: {
      mediaType: input.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
      digest: input.digest,
      size: 1007,
      length: 1007,
      repository: input.repository,
      url: `http://${host}/v2/${input.repository}/manifests/${input.digest}`,
      ...(input.tag ? { tag: input.tag } : {}),
    },
    request: {
      id: randomUUID(),
      addr: '127.0.0.1:50000',
      host,
      method: 'PUT',
      useragent: 'skopeo/1.9.3',
    },
    actor: {},
    source: { addr: 'localhost:5000', instanceID: randomUUID() },
  };
}

export function blobEvent(
  action: 'push' | 'pull' | 'mount',
  repository: string,
  digest: string,
): Record<string, unknown> {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    action,
    target: { mediaType: 'application/octet-stream', digest, size: 10, length: 10, repository },
    request: { id: randomUUID(), method: action === 'pull' ? 'HEAD' : 'PUT' },
  };
}

export function envelope(...events: Array<Record<string, unknown>>): string {
  return JSON.stringify({ events });
}

export const V1_EVENTS = 'application/vnd.docker.distribution.events.v1+json';
