import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Descriptor of a manifest served by the stand-in. */
export interface ServedManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
}

interface Failure {
  pattern: RegExp;
  remaining: number;
  status: number;
}

/**
 * An OCI registry stand-in on 127.0.0.1 for tests that need a registry to misbehave: manifests
 * by tag and digest, blobs, catalog and tag lists, and the referrers API (switchable off, so
 * that clients fall back to the referrers tag). Requests matching a pattern can be failed a
 * number of times, and a body can be served in place of the bytes its digest names.
 */
export class SignatureRegistryStandIn {
  /** Every request, as "METHOD /path?query". */
  readonly requests: string[] = [];
  /** When false, GET /v2/<name>/referrers/<digest> returns 404, as Distribution 2.8 does. */
  referrersApi = true;

  private readonly manifests = new Map<string, ServedManifest>();
  private readonly tags = new Map<string, Map<string, string>>();
  private readonly blobs = new Map<string, Buffer>();
  private readonly failures: Failure[] = [];
  private readonly bodyOverrides = new Map<string, Buffer>();
  private counter = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<SignatureRegistryStandIn> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const registry = new SignatureRegistryStandIn(server, `http://127.0.0.1:${port}`);
    server.on('request', (request, response) => registry.handle(request, response));
    return registry;
  }

  /** host:port, as image references and trust policy scopes name it. */
  get host(): string {
    return new URL(this.url).host;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Fails the next `count` requests whose "METHOD /path" line matches, with `status`. */
  failNext(pattern: RegExp, count: number, status = 503): void {
    this.failures.push({ pattern, remaining: count, status });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Serves `body` in place of the stored bytes for this digest, so its hash no longer matches. */
  tamper(digest: string, body: Buffer | string): void {
    this.bodyOverrides.set(digest, Buffer.from(body));
  }

  /** Counts requests whose "METHOD /path" matches. */
  countRequests(pattern: RegExp): number {
    return this.requests.filter((line) => pattern.test(line)).length;
  }

  addBlob(content: Buffer | string): { digest: string; size: number } {
    const bytes = Buffer.from(content);
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  }

  /** Stores manifest bytes as is, and tags them when `tag` is given. */
  addManifest(
    repository: string,
    body: Buffer | string,
    mediaType: string,
    tag?: string,
  ): ServedManifest {
    const bytes = Buffer.from(body);
    const manifest = { digest: sha256(bytes), mediaType, size: bytes.length, bytes };
    this.manifests.set(`${repository}@${manifest.digest}`, manifest);
    if (tag !== undefined) this.tag(repository, tag, manifest.digest);
    return manifest;
  }

  tag(repository: string, tag: string, digest: string): void {
    const tags = this.tags.get(repository) ?? new Map<string, string>();
    tags.set(tag, digest);
    this.tags.set(repository, tags);
  }

  untag(repository: string, tag: string): void {
    this.tags.get(repository)?.delete(tag);
  }

  /**
   * Adds an image and returns its manifest. Layers are uncompressed, so their digests are the
   * diff_ids, unless `diffIds` overrides them. Without `layers`, the image has one unique layer.
   */
  addImage(
    repository: string,
    tag: string | undefined,
    options: { architecture?: string; layers?: string[]; diffIds?: string[] } = {},
  ): ServedManifest {
    this.counter += 1;
    const contents = options.layers ?? [`layer ${this.counter} ${Date.now()} ${Math.random()}`];
    const layers = contents.map((content) => this.addBlob(content));
    const config = this.addBlob(
      JSON.stringify({
        architecture: options.architecture ?? 'amd64',
        os: 'linux',
        config: { User: 'app' },
        rootfs: {
          type: 'layers',
          diff_ids: options.diffIds ?? layers.map((layer) => layer.digest),
        },
      }),
    );
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((layer) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        ...layer,
      })),
    });
    return this.addManifest(repository, manifest, OCI_MANIFEST, tag);
  }

  /** Adds an index over platform manifests already stored in the repository. */
  addIndex(
    repository: string,
    tag: string,
    children: Array<{ manifest: ServedManifest; architecture: string }>,
  ): ServedManifest {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map(({ manifest, architecture }) => ({
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        platform: { architecture, os: 'linux' },
      })),
    });
    return this.addManifest(repository, index, OCI_INDEX, tag);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const line = `${request.method} ${url.pathname}${url.search}`;
    this.requests.push(line);
    const failure = this.failures.find((entry) => entry.remaining > 0 && entry.pattern.test(line));
    if (failure) {
      failure.remaining -= 1;
      response.writeHead(failure.status).end();
      return;
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      this.json(response, {});
      return;
    }
    if (url.pathname === '/v2/_catalog') {
      this.json(response, { repositories: [...this.tags.keys()].sort() });
      return;
    }
    const tagList = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (tagList) {
      const name = tagList[1] as string;
      this.json(response, { name, tags: [...(this.tags.get(name)?.keys() ?? [])].sort() });
      return;
    }

    const match = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(url.pathname);
    if (!match) {
      response.writeHead(404).end();
      return;
    }
    const [, repository, kind, reference] = match as unknown as [string, string, string, string];
    if (kind === 'blobs') {
      const blob = this.blobs.get(reference);
      this.send(request, response, blob, 'application/octet-stream', reference);
      return;
    }
    if (kind === 'referrers') {
      this.referrers(response, repository, reference);
      return;
    }
    const digest = reference.startsWith('sha256:')
      ? reference
      : this.tags.get(repository)?.get(reference);
    const manifest = digest ? this.manifests.get(`${repository}@${digest}`) : undefined;
    this.send(request, response, manifest?.bytes, manifest?.mediaType ?? '', digest);
  }

  /** Serves the referrers index computed from the stored manifests' `subject` fields. */
  private referrers(response: ServerResponse, repository: string, digest: string): void {
    if (!this.referrersApi) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const manifests = [];
    for (const [key, manifest] of this.manifests) {
      if (!key.startsWith(`${repository}@`)) continue;
      const body = parseJson(manifest.bytes);
      if (body.subject?.digest !== digest) continue;
      manifests.push({
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        artifactType: body.artifactType ?? body.config?.mediaType,
        ...(body.annotations && { annotations: body.annotations }),
      });
    }
    response
      .writeHead(200, { 'Content-Type': OCI_INDEX })
      .end(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  }

  private send(
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer | undefined,
    mediaType: string,
    digest: string | undefined,
  ): void {
    if (!body || !digest) {
      response
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      return;
    }
    const served = this.bodyOverrides.get(digest) ?? body;
    response.writeHead(200, {
      'Content-Type': mediaType,
      'Content-Length': served.length,
      'Docker-Content-Digest': digest,
    });
    response.end(request.method === 'HEAD' ? undefined : served);
  }

  private json(response: ServerResponse, body: unknown): void {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }
}

interface ManifestFields {
  subject?: { digest?: string };
  artifactType?: string;
  config?: { mediaType?: string };
  annotations?: Record<string, string>;
}

/** Parses stored manifest bytes; a body that is not JSON (a test's broken manifest) has no fields. */
function parseJson(bytes: Buffer): ManifestFields {
  try {
    return JSON.parse(bytes.toString()) as ManifestFields;
  } catch {
    return {};
  }
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
