import { MANIFEST_ACCEPT, MediaType, sha256Digest } from '@app/oci';
import { ServerResponse } from 'node:http';

import { RegistryError } from './errors';
import { RegistryClient } from './registry-client';
import { catchRegistryError } from './testing/catch-registry-error';
import { HttpTestServer, sendJson, sendRegistryError } from './testing/http-test-server';
import { RegistryClientOptions } from './options';

const MANIFEST = Buffer.from(
  '{\n  "schemaVersion": 2,\n  "mediaType": "application/vnd.oci.image.manifest.v1+json",\n  "config": {}\n}\n',
);
const MANIFEST_DIGEST = sha256Digest(MANIFEST);
const BLOB = Buffer.from('{"architecture":"amd64","os":"linux"}');
const BLOB_DIGEST = sha256Digest(BLOB);
const OTHER_DIGEST = sha256Digest('other content');

let registry: HttpTestServer;
let elsewhere: HttpTestServer;

beforeAll(async () => {
  registry = await HttpTestServer.start();
  elsewhere = await HttpTestServer.start();
});

afterAll(async () => {
  await registry.close();
  await elsewhere.close();
});

beforeEach(() => {
  elsewhere.handle((_request, response) => {
    sendJson(response, 200, {});
  });
});

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    name: 'local',
    baseUrl: registry.origin,
    retryBaseMs: 1,
    maxRetries: 2,
    ...options,
  });
}

function waitForDrainOrClose(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

describe('RegistryClient.getManifest', () => {
  it('fetches a manifest by tag', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, {
        'content-type': `${MediaType.OCI_MANIFEST}; charset=utf-8`,
        'docker-content-digest': MANIFEST_DIGEST,
      });
      response.end(MANIFEST);
    });

    const manifest = await client({ userAgent: 'spec-agent' }).getManifest(
      'library/alpine',
      '3.19',
    );

    expect(manifest.bytes.equals(MANIFEST)).toBe(true);
    expect(manifest.digest).toBe(MANIFEST_DIGEST);
    expect(manifest.mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(registry.requests).toHaveLength(1);
    const [request] = registry.requests;
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/v2/library/alpine/manifests/3.19');
    expect(request.headers.accept).toBe(MANIFEST_ACCEPT.join(', '));
    expect(request.headers['accept-encoding']).toBe('identity');
    expect(request.headers['user-agent']).toBe('spec-agent');
    expect(request.headers.authorization).toBeUndefined();
  });

  it('fetches a manifest by digest', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
      response.end(MANIFEST);
    });

    const manifest = await client().getManifest('app', MANIFEST_DIGEST);

    expect(manifest.digest).toBe(MANIFEST_DIGEST);
    expect(registry.requests[0].path).toBe(`/v2/app/manifests/${MANIFEST_DIGEST}`);
  });

  it('rejects a body that differs from the requested digest', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
      response.end(MANIFEST);
    });

    const error = await catchRegistryError(client().getManifest('app', OTHER_DIGEST));

    expect(error.code).toBe('digest-mismatch');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(OTHER_DIGEST);
    expect(error.message).toContain(MANIFEST_DIGEST);
    expect(registry.requests).toHaveLength(1);
  });

  it('rejects a body that differs from Docker-Content-Digest', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, {
        'content-type': MediaType.OCI_MANIFEST,
        'docker-content-digest': OTHER_DIGEST,
      });
      response.end(MANIFEST);
    });

    const error = await catchRegistryError(client().getManifest('app', 'latest'));

    expect(error.code).toBe('digest-mismatch');
    expect(error.message).toContain('Docker-Content-Digest');
  });

  it('ignores Docker-Content-Digest of schema 1 manifests', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, {
        'content-type': MediaType.DOCKER_SCHEMA1_SIGNED,
        'docker-content-digest': OTHER_DIGEST,
      });
      response.end(MANIFEST);
    });

    const manifest = await client().getManifest('app', 'legacy');

    expect(manifest.mediaType).toBe(MediaType.DOCKER_SCHEMA1_SIGNED);
    expect(manifest.digest).toBe(MANIFEST_DIGEST);
  });

  it('rejects a response without Content-Type', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200);
      response.end(MANIFEST);
    });

    const error = await catchRegistryError(client().getManifest('app', 'latest'));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('Content-Type');
  });

  it('rejects a declared Content-Length over the limit', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, {
        'content-type': MediaType.OCI_MANIFEST,
        'content-length': String(10 * 1024 * 1024 * 1024),
      });
      response.write(Buffer.alloc(1024, 'a'));
    });

    const error = await catchRegistryError(
      client({ maxManifestBytes: 4096 }).getManifest('app', 'big'),
    );

    expect(error.code).toBe('too-large');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('4096 bytes');
    expect(error.message).toContain('manifest "app:big"');
    expect(registry.requests).toHaveLength(1);
  });

  it('stops reading a chunked body over the limit', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const totalChunks = 1024;
    let chunksWritten = 0;
    let closedEarly = false;
    registry.handle(async (_request, response) => {
      response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
      response.on('close', () => {
        closedEarly = chunksWritten < totalChunks;
      });
      while (chunksWritten < totalChunks && !response.destroyed) {
        chunksWritten += 1;
        if (!response.write(chunk)) {
          await waitForDrainOrClose(response);
        }
      }
      response.end();
    });

    const error = await catchRegistryError(
      client({ maxManifestBytes: 64 * 1024 }).getManifest('app', 'endless'),
    );

    expect(error.code).toBe('too-large');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closedEarly).toBe(true);
    expect(chunksWritten).toBeLessThan(totalChunks);
  });

  it('accepts a body of exactly the limit', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
      response.end(MANIFEST);
    });

    const manifest = await client({ maxManifestBytes: MANIFEST.length }).getManifest('app', 'v1');

    expect(manifest.bytes.length).toBe(MANIFEST.length);
  });

  it('maps 404 to not-found naming the reference', async () => {
    registry.handle((_request, response) => {
      sendRegistryError(response, 404, 'MANIFEST_UNKNOWN');
    });

    const error = await catchRegistryError(client().getManifest('team/app', 'v9'));

    expect(error.code).toBe('not-found');
    expect(error.status).toBe(404);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('manifest "team/app:v9"');
    expect(error.message).toContain('MANIFEST_UNKNOWN');
    expect(error.message).toContain('Registry "local"');
    expect(error.url).toBe(`${registry.origin}/v2/team/app/manifests/v9`);
    expect(registry.requests).toHaveLength(1);
  });

  it('maps 403 to forbidden', async () => {
    registry.handle((_request, response) => {
      sendRegistryError(response, 403, 'DENIED');
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('forbidden');
    expect(error.status).toBe(403);
    expect(error.message).toContain('DENIED');
    expect(registry.requests).toHaveLength(1);
  });

  it('maps 401 without a challenge to unauthorized', async () => {
    registry.handle((_request, response) => {
      sendRegistryError(response, 401, 'UNAUTHORIZED');
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
    expect(registry.requests).toHaveLength(1);
  });

  it('maps other statuses to invalid-response', async () => {
    registry.handle((_request, response) => {
      sendRegistryError(response, 400, 'TAG_INVALID');
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('HTTP 400, TAG_INVALID');
  });

  it('leaves untrusted error text out of messages', async () => {
    registry.handle((_request, response) => {
      sendJson(response, 404, { errors: [{ code: 'evil\ncode', message: 'x'.repeat(500) }] });
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.message).not.toContain('evil');
    expect(error.message).not.toContain('xxxx');
  });
});

describe('RegistryClient redirects', () => {
  it('follows a same-origin redirect', async () => {
    registry.handle((request, response) => {
      if (request.url === '/v2/app/blobs/' + BLOB_DIGEST) {
        response.writeHead(307, { location: '/storage/blob-1' });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(BLOB);
    });

    const blob = await client().getBlob('app', BLOB_DIGEST);

    expect(blob.equals(BLOB)).toBe(true);
    expect(registry.requests.map((request) => request.path)).toEqual([
      `/v2/app/blobs/${BLOB_DIGEST}`,
      '/storage/blob-1',
    ]);
  });

  it('rejects a redirect to another origin', async () => {
    registry.handle((_request, response) => {
      response.writeHead(302, { location: `${elsewhere.origin}/bucket/blob` });
      response.end();
    });

    const error = await catchRegistryError(client().getBlob('app', BLOB_DIGEST));

    expect(error.code).toBe('forbidden-origin');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(elsewhere.origin);
    expect(registry.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('rejects a redirect to a URL with user info', async () => {
    registry.handle((_request, response) => {
      response.writeHead(302, {
        location: registry.origin.replace('http://', 'http://someone:secret@') + '/storage',
      });
      response.end();
    });

    const error = await catchRegistryError(client().getBlob('app', BLOB_DIGEST));

    expect(error.code).toBe('invalid-response');
    expect(error.message).not.toContain('secret');
    expect(registry.requests).toHaveLength(1);
  });

  it('rejects more than three redirects', async () => {
    registry.handle((request, response) => {
      const hop = Number(new URL(request.url ?? '/', registry.origin).searchParams.get('hop') ?? 0);
      response.writeHead(302, { location: `/loop?hop=${hop + 1}` });
      response.end();
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('more than 3 times');
    expect(registry.requests).toHaveLength(4);
  });
});

describe('RegistryClient.headManifest', () => {
  it('reads digest, type and size from headers', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, {
        'content-type': MediaType.OCI_INDEX,
        'docker-content-digest': MANIFEST_DIGEST,
        'content-length': '1234',
      });
      response.end();
    });

    const head = await client().headManifest('app', 'v1');

    expect(head).toEqual({ digest: MANIFEST_DIGEST, mediaType: MediaType.OCI_INDEX, size: 1234 });
    expect(registry.requests).toHaveLength(1);
    expect(registry.requests[0].method).toBe('HEAD');
    expect(registry.requests[0].headers.accept).toBe(MANIFEST_ACCEPT.join(', '));
  });

  it('returns null on 404', async () => {
    registry.handle((_request, response) => {
      response.writeHead(404).end();
    });

    await expect(client().headManifest('app', 'missing')).resolves.toBeNull();
  });

  it('falls back to GET without Docker-Content-Digest', async () => {
    registry.handle((request, response) => {
      response.writeHead(200, {
        'content-type': MediaType.OCI_MANIFEST,
        'content-length': String(MANIFEST.length),
      });
      response.end(request.method === 'HEAD' ? undefined : MANIFEST);
    });

    const head = await client().headManifest('app', 'v1');

    expect(head).toEqual({
      digest: MANIFEST_DIGEST,
      mediaType: MediaType.OCI_MANIFEST,
      size: MANIFEST.length,
    });
    expect(registry.requests.map((request) => request.method)).toEqual(['HEAD', 'GET']);
  });

  it('rejects a HEAD digest other than the requested one', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, {
        'content-type': MediaType.OCI_MANIFEST,
        'docker-content-digest': OTHER_DIGEST,
        'content-length': '10',
      });
      response.end();
    });

    const error = await catchRegistryError(client().headManifest('app', MANIFEST_DIGEST));

    expect(error.code).toBe('digest-mismatch');
  });
});

describe('RegistryClient.getBlob', () => {
  it('returns a blob that matches its digest', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(BLOB);
    });

    const blob = await client().getBlob('app', BLOB_DIGEST);

    expect(blob.equals(BLOB)).toBe(true);
    expect(registry.requests[0].path).toBe(`/v2/app/blobs/${BLOB_DIGEST}`);
  });

  it('rejects a blob with other content', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200).end(Buffer.from('tampered'));
    });

    const error = await catchRegistryError(client().getBlob('app', BLOB_DIGEST));

    expect(error.code).toBe('digest-mismatch');
    expect(error.message).toContain(`blob "app@${BLOB_DIGEST}"`);
    expect(registry.requests).toHaveLength(1);
  });

  it('applies the maxBytes argument', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200).end(BLOB);
    });

    const error = await catchRegistryError(client().getBlob('app', BLOB_DIGEST, 8));

    expect(error.code).toBe('too-large');
    expect(error.message).toContain('8 bytes');
  });
});

describe('RegistryClient argument validation', () => {
  const rejectedRepositories = [
    '../etc',
    'a/../b',
    'app?x=1',
    'app#frag',
    'App',
    '/app',
    'a//b',
    '',
  ];
  const rejectedReferences = [
    '..',
    'v1/../x',
    'v1?x',
    'v1#x',
    'sha256:ABC',
    '-v1',
    'a'.repeat(129),
  ];

  beforeEach(() => {
    registry.handle((_request, response) => {
      response.writeHead(200).end();
    });
  });

  it.each(rejectedRepositories)('rejects repository %j', async (repository) => {
    const error = await catchRegistryError(client().getManifest(repository, 'v1'));

    expect(error.code).toBe('invalid-argument');
    expect(registry.requests).toHaveLength(0);
  });

  it.each(rejectedReferences)('rejects reference %j', async (reference) => {
    const error = await catchRegistryError(client().getManifest('app', reference));

    expect(error.code).toBe('invalid-argument');
    expect(registry.requests).toHaveLength(0);
  });

  it('rejects a blob reference that is a tag', async () => {
    const error = await catchRegistryError(client().getBlob('app', 'latest'));

    expect(error.code).toBe('invalid-argument');
    expect(registry.requests).toHaveLength(0);
  });

  it.each([
    ['a path', 'http://127.0.0.1:5000/prefix'],
    ['user info', 'http://user:secret@127.0.0.1:5000'],
    ['a query', 'http://127.0.0.1:5000/?x=1'],
    ['another scheme', 'ftp://127.0.0.1'],
    ['no URL', 'registry.local'],
  ])('rejects a baseUrl with %s', (_case, baseUrl) => {
    let thrown: unknown;
    try {
      new RegistryClient({ name: 'local', baseUrl });
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(RegistryError);
    expect((thrown as RegistryError).code).toBe('invalid-argument');
    expect((thrown as RegistryError).message).not.toContain('secret');
  });

  it('rejects invalid numeric options', () => {
    expect(() => client({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => client({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => client({ maxManifestBytes: 1.5 })).toThrow(/maxManifestBytes/);
  });
});
