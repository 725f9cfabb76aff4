import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * An in-memory stand-in for an OCI registry on 127.0.0.1, for tests that need a registry to
 * misbehave: serve bodies that do not match their digest, fail with 500 for a while, or serve
 * manifests a real registry would refuse to store.
 */
export class FakeRegistry {
  /** Every request, as "METHOD /path". */
  readonly requests: string[] = [];
  private readonly manifests = new Map<string, { body: Buffer; mediaType: string }>();
  private readonly tags = new Map<string, Map<string, string>>();
  private readonly blobs = new Map<string, Buffer>();
  private readonly bodyOverrides = new Map<string, Buffer>();
  private failuresLeft = 0;
  private failureStatus = 500;
  private failurePath: string | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeRegistry> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const registry = new FakeRegistry(server, `http://127.0.0.1:${port}`);
    server.on('request', (request, response) => registry.handle(request, response));
    return registry;
  }

  get host(): string {
    return new URL(this.url).host;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Answers the next `count` requests with `status`, then serves normally again. With `path`,
   * only requests for that exact path fail, so other jobs' requests do not use up the failures.
   */
  failNext(count: number, status = 500, path?: string): void {
    this.failuresLeft = count;
    this.failureStatus = status;
    this.failurePath = path;
  }

  addBlob(content: Buffer | string): string {
    const bytes = Buffer.from(content);
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  /** Stores a manifest body as is and returns its digest; tags it when `tag` is given. */
  addManifest(repository: string, body: Buffer | string, mediaType: string, tag?: string): string {
    const bytes = Buffer.from(body);
    const digest = sha256(bytes);
    this.manifests.set(`${repository}@${digest}`, { body: bytes, mediaType });
    if (tag) this.tag(repository, tag, digest);
    return digest;
  }

  tag(repository: string, tag: string, digest: string): void {
    const tags = this.tags.get(repository) ?? new Map<string, string>();
    tags.set(tag, digest);
    this.tags.set(repository, tags);
  }

  /** Serves `body` in place of the stored bytes for this digest, so its hash no longer matches. */
  tamper(digest: string, body: Buffer | string): void {
    this.bodyOverrides.set(digest, Buffer.from(body));
  }

  /**
   * Adds a runnable image: one config and one layer per entry of `layers` (uncompressed diff_ids
   * are the layer digests here, which is what a registry stores for uncompressed layers).
   */
  addImage(
    repository: string,
    tag: string | undefined,
    layers: string[],
    options: { diffIds?: string[] } = {},
  ): string {
    const layerDigests = layers.map((content) => this.addBlob(content));
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { User: 'app' },
      rootfs: { type: 'layers', diff_ids: options.diffIds ?? layerDigests },
    });
    const configDigest = this.addBlob(config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: Buffer.byteLength(config),
      },
      layers: layerDigests.map((digest, index) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest,
        size: Buffer.byteLength(layers[index]),
      })),
    });
    return this.addManifest(
      repository,
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
      tag,
    );
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', this.url).pathname;
    this.requests.push(`${request.method} ${path}`);
    if (this.failuresLeft > 0 && (this.failurePath === undefined || this.failurePath === path)) {
      this.failuresLeft -= 1;
      response.writeHead(this.failureStatus).end();
      return;
    }
    if (path === '/v2/' || path === '/v2') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    if (path === '/v2/_catalog') {
      this.json(response, { repositories: [...this.tags.keys()].sort() });
      return;
    }
    const match = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(path);
    if (!match) {
      response.writeHead(404).end();
      return;
    }
    const [, repository, kind, reference] = match;
    if (kind === 'tags') {
      this.json(response, {
        name: repository,
        tags: [...(this.tags.get(repository)?.keys() ?? [])].sort(),
      });
      return;
    }
    if (kind === 'blobs') {
      const blob = this.blobs.get(reference);
      this.send(request, response, blob, 'application/octet-stream', reference);
      return;
    }
    const digest = reference.startsWith('sha256:')
      ? reference
      : this.tags.get(repository)?.get(reference);
    const manifest = digest ? this.manifests.get(`${repository}@${digest}`) : undefined;
    this.send(request, response, manifest?.body, manifest?.mediaType ?? '', digest);
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

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
