import { MediaType } from '@app/oci';
import { ServerResponse } from 'node:http';

import { RegistryClientOptions, RegistryRequestInfo } from './options';
import { RegistryClient } from './registry-client';
import { catchRegistryError } from './testing/catch-registry-error';
import { HttpTestServer, sendJson, sendRegistryError } from './testing/http-test-server';

const MANIFEST = Buffer.from('{"schemaVersion":2}');

let registry: HttpTestServer;

beforeAll(async () => {
  registry = await HttpTestServer.start();
});

afterAll(async () => {
  await registry.close();
});

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    name: 'local',
    baseUrl: registry.origin,
    retryBaseMs: 1,
    maxRetries: 3,
    ...options,
  });
}

function sendManifest(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
  response.end(MANIFEST);
}

/** Serves `failures` responses from `fail`, then the manifest. */
function failThenServe(failures: number, fail: (response: ServerResponse) => void): void {
  let served = 0;
  registry.handle((_request, response) => {
    served += 1;
    if (served <= failures) {
      fail(response);
      return;
    }
    sendManifest(response);
  });
}

describe('retries', () => {
  it('retries 503 until success', async () => {
    failThenServe(2, (response) => sendRegistryError(response, 503, 'UNAVAILABLE'));
    const reports: RegistryRequestInfo[] = [];

    const manifest = await client({ onRequest: (info) => reports.push(info) }).getManifest(
      'app',
      'v1',
    );

    expect(manifest.bytes.equals(MANIFEST)).toBe(true);
    expect(registry.requests).toHaveLength(3);
    expect(reports.map((report) => [report.attempt, report.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    expect(reports[0].method).toBe('GET');
    expect(reports[0].url).toBe(`${registry.origin}/v2/app/manifests/v1`);
    expect(reports[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('honours Retry-After seconds on 429', async () => {
    failThenServe(1, (response) =>
      sendRegistryError(response, 429, 'TOOMANYREQUESTS', { 'retry-after': '1' }),
    );
    const startedMs = Date.now();

    await client().getManifest('app', 'v1');

    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(950);
    expect(registry.requests).toHaveLength(2);
  });

  it('caps Retry-After at maxRetryDelayMs', async () => {
    failThenServe(1, (response) =>
      sendRegistryError(response, 429, 'TOOMANYREQUESTS', { 'retry-after': '3600' }),
    );
    const startedMs = Date.now();

    await client({ maxRetryDelayMs: 20 }).getManifest('app', 'v1');

    expect(Date.now() - startedMs).toBeLessThan(1000);
    expect(registry.requests).toHaveLength(2);
  });

  it('throws unavailable when retries run out', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 502, 'BAD_GATEWAY'));

    const error = await catchRegistryError(client({ maxRetries: 2 }).getManifest('app', 'v1'));

    expect(error.code).toBe('unavailable');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(502);
    expect(error.message).toContain('after 2 retries');
    expect(registry.requests).toHaveLength(3);
  });

  it('throws rate-limited when retries run out', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 429, 'TOOMANYREQUESTS'));

    const error = await catchRegistryError(client({ maxRetries: 1 }).getManifest('app', 'v1'));

    expect(error.code).toBe('rate-limited');
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(429);
    expect(registry.requests).toHaveLength(2);
  });

  it('sends once with maxRetries 0', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 500, 'UNKNOWN'));

    const error = await catchRegistryError(client({ maxRetries: 0 }).getManifest('app', 'v1'));

    expect(error.code).toBe('unavailable');
    expect(error.message).not.toContain('retries');
    expect(registry.requests).toHaveLength(1);
  });

  it('does not retry 404', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 404, 'MANIFEST_UNKNOWN'));

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('not-found');
    expect(registry.requests).toHaveLength(1);
  });

  it('retries a token endpoint 503', async () => {
    let tokenRequests = 0;
    registry.handle((request, response, recorded) => {
      if (recorded.path === '/token') {
        tokenRequests += 1;
        if (tokenRequests === 1) {
          sendRegistryError(response, 503, 'UNAVAILABLE');
          return;
        }
        sendJson(response, 200, { token: 'fresh' });
        return;
      }
      if (request.headers.authorization !== 'Bearer fresh') {
        sendRegistryError(response, 401, 'UNAUTHORIZED', {
          'www-authenticate': `Bearer realm="${registry.origin}/token",service="spec"`,
        });
        return;
      }
      sendManifest(response);
    });

    await client().getManifest('app', 'v1');

    expect(tokenRequests).toBe(2);
  });
});

describe('timeouts and network errors', () => {
  it('times out a response that never starts', async () => {
    registry.handle(() => {
      // No response: the client must give up on its own.
    });

    const startedMs = Date.now();
    const error = await catchRegistryError(
      client({ timeoutMs: 150, maxRetries: 1 }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('timed out after 150 ms');
    expect(error.message).toContain('after 1 retries');
    expect(registry.requests).toHaveLength(2);
    expect(Date.now() - startedMs).toBeLessThan(5000);
  });

  it('times out a body that stalls', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
      response.write('{"schemaVersion":');
    });

    const error = await catchRegistryError(
      client({ timeoutMs: 150, maxRetries: 0 }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('timeout');
    expect(registry.requests).toHaveLength(1);
  });

  it('recovers when a retry responds in time', async () => {
    let served = 0;
    registry.handle((_request, response) => {
      served += 1;
      if (served === 1) {
        return;
      }
      sendManifest(response);
    });

    const manifest = await client({ timeoutMs: 150 }).getManifest('app', 'v1');

    expect(manifest.bytes.equals(MANIFEST)).toBe(true);
    expect(registry.requests).toHaveLength(2);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = await HttpTestServer.start();
    const origin = closed.origin;
    await closed.close();
    const reports: RegistryRequestInfo[] = [];

    const error = await catchRegistryError(
      new RegistryClient({
        name: 'gone',
        baseUrl: origin,
        maxRetries: 1,
        retryBaseMs: 1,
        onRequest: (info) => reports.push(info),
      }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('Registry "gone"');
    expect(error.cause).toBeDefined();
    expect(reports.map((report) => [report.attempt, report.status])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
  });

  it('ignores an onRequest observer that throws', async () => {
    registry.handle((_request, response) => sendManifest(response));

    const manifest = await client({
      onRequest: () => {
        throw new Error('observer failure');
      },
    }).getManifest('app', 'v1');

    expect(manifest.bytes.equals(MANIFEST)).toBe(true);
  });
});
