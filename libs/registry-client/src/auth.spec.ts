import { MediaType, sha256Digest } from '@app/oci';
import { IncomingMessage, ServerResponse } from 'node:http';

import { RegistryClientOptions } from './options';
import { RegistryClient } from './registry-client';
import { catchRegistryError } from './testing/catch-registry-error';
import {
  HttpTestServer,
  RecordedRequest,
  sendJson,
  sendRegistryError,
} from './testing/http-test-server';

const MANIFEST = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
);
const USERNAME = 'ci-reader';
const PASSWORD = 'pa55-w0rd-value';
const BASIC_HEADER = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
const TOKEN = 'issued-token-value';

let registry: HttpTestServer;
let authServer: HttpTestServer;

beforeAll(async () => {
  registry = await HttpTestServer.start();
  authServer = await HttpTestServer.start();
});

afterAll(async () => {
  await registry.close();
  await authServer.close();
});

beforeEach(() => {
  authServer.handle((_request, response) => {
    sendJson(response, 200, { token: 'auth-server-token', expires_in: 300 });
  });
});

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    name: 'local',
    baseUrl: registry.origin,
    retryBaseMs: 1,
    maxRetries: 1,
    ...options,
  });
}

function sendManifest(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
  response.end(MANIFEST);
}

function challengeBearer(response: ServerResponse, realm: string, scope: string): void {
  sendRegistryError(response, 401, 'UNAUTHORIZED', {
    'www-authenticate': `Bearer realm="${realm}",service="spec-registry",scope="${scope}"`,
  });
}

interface TokenEndpointOptions {
  tokenBody?: Record<string, unknown>;
  /** Status and body of the token endpoint instead of a token. */
  tokenStatus?: number;
  /** When set, the registry accepts only this Authorization value. */
  acceptedAuthorization?: string;
}

/**
 * Serves `/token` and a bearer-protected registry: requests without
 * `Authorization: Bearer <TOKEN>` get a challenge whose realm is this server's `/token`.
 */
function serveTokenAuth(options: TokenEndpointOptions = {}): void {
  const accepted = options.acceptedAuthorization ?? `Bearer ${TOKEN}`;
  registry.handle(
    (request: IncomingMessage, response: ServerResponse, recorded: RecordedRequest) => {
      if (recorded.path === '/token') {
        if (options.tokenStatus !== undefined) {
          sendJson(response, options.tokenStatus, { details: 'token endpoint error' });
          return;
        }
        sendJson(response, 200, options.tokenBody ?? { token: TOKEN, expires_in: 300 });
        return;
      }
      if (request.headers.authorization !== accepted) {
        const repository = recorded.path.split('/manifests/')[0].replace('/v2/', '');
        challengeBearer(response, `${registry.origin}/token`, `repository:${repository}:pull`);
        return;
      }
      sendManifest(response);
    },
  );
}

describe('bearer token flow', () => {
  it('fetches an anonymous token and retries', async () => {
    serveTokenAuth();

    const manifest = await client().getManifest('team/app', 'v1');

    expect(manifest.digest).toBe(sha256Digest(MANIFEST));
    const paths = registry.requests.map((request) => request.path);
    expect(paths).toEqual(['/v2/team/app/manifests/v1', '/token', '/v2/team/app/manifests/v1']);
    const tokenRequest = registry.requestsTo('/token')[0];
    expect(tokenRequest.query.get('service')).toBe('spec-registry');
    expect(tokenRequest.query.get('scope')).toBe('repository:team/app:pull');
    expect(tokenRequest.headers.authorization).toBeUndefined();
    expect(registry.requests[0].headers.authorization).toBeUndefined();
    expect(registry.requests[2].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('sends basic credentials to the token endpoint', async () => {
    serveTokenAuth();

    await client({
      credentials: { type: 'basic', username: USERNAME, password: PASSWORD },
    }).getManifest('app', 'v1');

    const tokenRequest = registry.requestsTo('/token')[0];
    expect(tokenRequest.headers.authorization).toBe(BASIC_HEADER);
    const manifestRequests = registry.requestsTo('/v2/app/manifests/v1');
    expect(manifestRequests.map((request) => request.headers.authorization)).toEqual([
      undefined,
      `Bearer ${TOKEN}`,
    ]);
  });

  it('caches the token per scope', async () => {
    serveTokenAuth();
    const registryClient = client();

    await registryClient.getManifest('app', 'v1');
    await registryClient.getManifest('app', 'v2');
    await registryClient.getManifest('other', 'v1');

    expect(registry.requestsTo('/token').map((request) => request.query.get('scope'))).toEqual([
      'repository:app:pull',
      'repository:other:pull',
    ]);
    const secondCall = registry.requestsTo('/v2/app/manifests/v2');
    expect(secondCall).toHaveLength(1);
    expect(secondCall[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('shares one token request between concurrent calls', async () => {
    serveTokenAuth();
    const registryClient = client();

    await Promise.all([
      registryClient.getManifest('app', 'v1'),
      registryClient.getManifest('app', 'v2'),
      registryClient.getManifest('app', 'v3'),
    ]);

    expect(registry.requestsTo('/token')).toHaveLength(1);
  });

  it('accepts access_token', async () => {
    serveTokenAuth({ tokenBody: { access_token: TOKEN } });

    const manifest = await client().getManifest('app', 'v1');

    expect(manifest.bytes.equals(MANIFEST)).toBe(true);
  });

  it('does not cache a token expiring within the margin', async () => {
    serveTokenAuth({ tokenBody: { token: TOKEN, expires_in: 10 } });
    const registryClient = client();

    await registryClient.getManifest('app', 'v1');
    await registryClient.getManifest('app', 'v2');

    expect(registry.requestsTo('/token')).toHaveLength(2);
  });

  it('fails with unauthorized when the fresh token is refused', async () => {
    serveTokenAuth({ acceptedAuthorization: 'Bearer some-other-token' });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(TOKEN);
    expect(registry.requestsTo('/token')).toHaveLength(1);
    expect(registry.requestsTo('/v2/app/manifests/v1')).toHaveLength(2);
  });

  it('replaces a cached token that the registry refuses', async () => {
    serveTokenAuth();
    const registryClient = client();
    await registryClient.getManifest('app', 'v1');
    serveTokenAuth({
      tokenBody: { token: 'rotated-token', expires_in: 300 },
      acceptedAuthorization: 'Bearer rotated-token',
    });

    await registryClient.getManifest('app', 'v1');

    expect(registry.requestsTo('/token')).toHaveLength(1);
    const manifestRequests = registry.requestsTo('/v2/app/manifests/v1');
    expect(manifestRequests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      'Bearer rotated-token',
    ]);
  });

  it('keeps credentials out of token endpoint errors', async () => {
    serveTokenAuth({ tokenStatus: 401 });

    const error = await catchRegistryError(
      client({
        credentials: { type: 'basic', username: USERNAME, password: PASSWORD },
      }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('token from');
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(BASIC_HEADER.slice('Basic '.length));
    expect(JSON.stringify(error)).not.toContain(PASSWORD);
    expect(error.url).toBe(`${registry.origin}/token`);
  });

  it('maps a token endpoint 403 to forbidden', async () => {
    serveTokenAuth({ tokenStatus: 403 });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('forbidden');
  });

  it('rejects a token response that is not JSON', async () => {
    registry.handle((request, response, recorded) => {
      if (recorded.path === '/token') {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
        return;
      }
      challengeBearer(response, `${registry.origin}/token`, 'repository:app:pull');
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('not JSON');
  });

  it('rejects a token response without a token', async () => {
    serveTokenAuth({ tokenBody: { expires_in: 300 } });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('neither "token" nor "access_token"');
  });

  it('repeats scope for several challenge scopes', async () => {
    registry.handle((request, response, recorded) => {
      if (recorded.path === '/token') {
        sendJson(response, 200, { token: TOKEN });
        return;
      }
      if (request.headers.authorization !== `Bearer ${TOKEN}`) {
        challengeBearer(
          response,
          `${registry.origin}/token`,
          'repository:app:pull repository:base:pull',
        );
        return;
      }
      sendManifest(response);
    });

    await client().getManifest('app', 'v1');

    const tokenRequest = registry.requestsTo('/token')[0];
    expect(tokenRequest.query.getAll('scope')).toEqual([
      'repository:app:pull',
      'repository:base:pull',
    ]);
  });

  it('requests the catalog scope for the catalog', async () => {
    registry.handle((request, response, recorded) => {
      if (recorded.path === '/token') {
        sendJson(response, 200, { token: TOKEN });
        return;
      }
      if (request.headers.authorization !== `Bearer ${TOKEN}`) {
        sendRegistryError(response, 401, 'UNAUTHORIZED', {
          'www-authenticate': `Bearer realm="${registry.origin}/token",service="spec-registry"`,
        });
        return;
      }
      sendJson(response, 200, { repositories: ['app'] });
    });

    const names: string[] = [];
    for await (const name of client().listRepositories()) {
      names.push(name);
    }

    expect(names).toEqual(['app']);
    expect(registry.requestsTo('/token')[0].query.get('scope')).toBe('registry:catalog:*');
  });
});

describe('token realm origins', () => {
  it('rejects a realm on another origin without contacting it', async () => {
    registry.handle((_request, response) => {
      challengeBearer(response, `${authServer.origin}/token`, 'repository:app:pull');
    });

    const error = await catchRegistryError(
      client({
        credentials: { type: 'basic', username: USERNAME, password: PASSWORD },
      }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('forbidden-origin');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(authServer.origin);
    expect(authServer.requests).toHaveLength(0);
    expect(registry.requests).toHaveLength(1);
  });

  it('uses a realm listed in tokenRealmOrigins', async () => {
    registry.handle((request, response) => {
      if (request.headers.authorization === 'Bearer auth-server-token') {
        sendManifest(response);
        return;
      }
      challengeBearer(response, `${authServer.origin}/auth/token`, 'repository:app:pull');
    });

    const manifest = await client({ tokenRealmOrigins: [`${authServer.origin}/`] }).getManifest(
      'app',
      'v1',
    );

    expect(manifest.mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(authServer.requests).toHaveLength(1);
    expect(authServer.requests[0].path).toBe('/auth/token');
    expect(authServer.requests[0].query.get('scope')).toBe('repository:app:pull');
  });

  it('rejects a realm with user info', async () => {
    const realm = registry.origin.replace('http://', 'http://someone:secret@');
    registry.handle((_request, response) => {
      challengeBearer(response, `${realm}/token`, 'repository:app:pull');
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('invalid-response');
    expect(error.message).not.toContain('secret');
    expect(registry.requestsTo('/token')).toHaveLength(0);
  });

  it('rejects a redirect from the realm to another origin', async () => {
    registry.handle((_request, response, recorded) => {
      if (recorded.path === '/token') {
        response.writeHead(302, { location: `${authServer.origin}/token` }).end();
        return;
      }
      challengeBearer(response, `${registry.origin}/token`, 'repository:app:pull');
    });

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('forbidden-origin');
    expect(authServer.requests).toHaveLength(0);
  });
});

describe('basic and static credentials', () => {
  function serveBasicAuth(): void {
    registry.handle((request, response) => {
      if (request.headers.authorization !== BASIC_HEADER) {
        sendRegistryError(response, 401, 'UNAUTHORIZED', {
          'www-authenticate': 'Basic realm="Registry Realm"',
        });
        return;
      }
      sendManifest(response);
    });
  }

  it('sends Basic credentials after a challenge', async () => {
    serveBasicAuth();
    const registryClient = client({
      credentials: { type: 'basic', username: USERNAME, password: PASSWORD },
    });

    await registryClient.getManifest('app', 'v1');
    await registryClient.getManifest('app', 'v2');

    const authorizations = registry.requests.map((request) => request.headers.authorization);
    expect(authorizations).toEqual([undefined, BASIC_HEADER, BASIC_HEADER]);
  });

  it('fails a Basic challenge without credentials', async () => {
    serveBasicAuth();

    const error = await catchRegistryError(client().getManifest('app', 'v1'));

    expect(error.code).toBe('unauthorized');
    expect(registry.requests).toHaveLength(1);
  });

  it('fails when Basic credentials are refused', async () => {
    serveBasicAuth();

    const error = await catchRegistryError(
      client({
        credentials: { type: 'basic', username: USERNAME, password: 'wrong-password' },
      }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('unauthorized');
    expect(error.message).not.toContain('wrong-password');
    expect(registry.requests).toHaveLength(2);
  });

  it('sends a static token with every request', async () => {
    registry.handle((request, response) => {
      if (request.headers.authorization !== 'Bearer static-token') {
        challengeBearer(response, `${registry.origin}/token`, 'repository:app:pull');
        return;
      }
      sendManifest(response);
    });

    await client({ credentials: { type: 'token', token: 'static-token' } }).getManifest(
      'app',
      'v1',
    );

    expect(registry.requests).toHaveLength(1);
    expect(registry.requests[0].headers.authorization).toBe('Bearer static-token');
  });

  it('fails when a static token is refused', async () => {
    serveTokenAuth();

    const error = await catchRegistryError(
      client({ credentials: { type: 'token', token: 'static-token' } }).getManifest('app', 'v1'),
    );

    expect(error.code).toBe('unauthorized');
    expect(error.message).not.toContain('static-token');
    expect(registry.requestsTo('/token')).toHaveLength(0);
  });
});
