import { RegistryClientOptions } from './options';
import { RegistryClient } from './registry-client';
import { catchRegistryError } from './testing/catch-registry-error';
import { HttpTestServer, sendJson, sendRegistryError } from './testing/http-test-server';

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
  elsewhere.handle((_request, response) => sendJson(response, 200, { tags: ['foreign'] }));
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

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const values: string[] = [];
  for await (const value of iterable) {
    values.push(value);
  }
  return values;
}

/**
 * Serves `entries` under `key` in pages of `n` (from the query), starting after `last`, with
 * a Link to the next page built by `linkFor`, as CNCF Distribution does.
 */
function servePages(
  path: string,
  key: string,
  entries: string[],
  linkFor: (last: string, n: number) => string,
): void {
  registry.handle((_request, response, recorded) => {
    if (recorded.path !== path) {
      sendRegistryError(response, 404, 'NAME_UNKNOWN');
      return;
    }
    const n = Number(recorded.query.get('n') ?? entries.length);
    const last = recorded.query.get('last');
    const start = last === null ? 0 : entries.indexOf(last) + 1;
    const page = entries.slice(start, start + n);
    const headers: Record<string, string> = {};
    if (start + n < entries.length) {
      headers.link = `<${linkFor(page[page.length - 1], n)}>; rel="next"`;
    }
    sendJson(response, 200, { [key]: page }, headers);
  });
}

describe('listRepositories', () => {
  it('follows Link pages of the catalog', async () => {
    const repositories = ['alpha', 'beta', 'gamma', 'team/delta', 'team/epsilon'];
    servePages(
      '/v2/_catalog',
      'repositories',
      repositories,
      (last, n) => `/v2/_catalog?last=${last}&n=${n}`,
    );

    const names = await collect(client().listRepositories(2));

    expect(names).toEqual(repositories);
    expect(registry.requests.map((request) => request.url)).toEqual([
      '/v2/_catalog?n=2',
      '/v2/_catalog?last=beta&n=2',
      '/v2/_catalog?last=team/delta&n=2',
    ]);
  });

  it('omits n without a page size', async () => {
    servePages('/v2/_catalog', 'repositories', ['alpha'], () => '');

    const names = await collect(client().listRepositories());

    expect(names).toEqual(['alpha']);
    expect(registry.requests[0].url).toBe('/v2/_catalog');
  });

  it('accepts a null repository list', async () => {
    registry.handle((_request, response) => sendJson(response, 200, { repositories: null }));

    await expect(collect(client().listRepositories())).resolves.toEqual([]);
  });

  it('rejects an invalid page size', () => {
    expect(() => client().listRepositories(0)).toThrow(/page size/);
    expect(() => client().listRepositories(2.5)).toThrow(/page size/);
  });
});

describe('listTags', () => {
  it('follows Link pages of tags', async () => {
    const tags = ['1.0', '1.1', '2.0', 'latest'];
    servePages(
      '/v2/team/app/tags/list',
      'tags',
      tags,
      (last, n) => `/v2/team/app/tags/list?n=${n}&last=${last}`,
    );

    const names = await collect(client().listTags('team/app', 3));

    expect(names).toEqual(tags);
    expect(registry.requests.map((request) => request.url)).toEqual([
      '/v2/team/app/tags/list?n=3',
      '/v2/team/app/tags/list?n=3&last=2.0',
    ]);
  });

  it('resolves an absolute Link on the registry origin', async () => {
    const tags = ['a', 'b', 'c'];
    servePages(
      '/v2/app/tags/list',
      'tags',
      tags,
      (last, n) => `${registry.origin}/v2/app/tags/list?n=${n}&last=${last}`,
    );

    await expect(collect(client().listTags('app', 2))).resolves.toEqual(tags);
  });

  it('accepts null tags', async () => {
    registry.handle((_request, response) => sendJson(response, 200, { name: 'app', tags: null }));

    await expect(collect(client().listTags('app'))).resolves.toEqual([]);
  });

  it('rejects a Link to another origin', async () => {
    registry.handle((_request, response) =>
      sendJson(
        response,
        200,
        { tags: ['a'] },
        { link: `<${elsewhere.origin}/v2/app/tags/list?last=a>; rel="next"` },
      ),
    );
    const received: string[] = [];

    const error = await catchRegistryError(
      (async () => {
        for await (const tag of client().listTags('app')) {
          received.push(tag);
        }
      })(),
    );

    expect(error.code).toBe('forbidden-origin');
    expect(error.message).toContain(elsewhere.origin);
    expect(received).toEqual(['a']);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('rejects a Link to another path', async () => {
    registry.handle((_request, response) =>
      sendJson(
        response,
        200,
        { tags: ['a'] },
        { link: '</v2/other/tags/list?last=a>; rel="next"' },
      ),
    );

    const error = await catchRegistryError(collect(client().listTags('app')));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('another path');
    expect(registry.requests).toHaveLength(1);
  });

  it('rejects a Link back to a page already read', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, { tags: ['a'] }, { link: '</v2/app/tags/list?n=1>; rel="next"' }),
    );

    const error = await catchRegistryError(collect(client().listTags('app', 1)));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('already read');
  });

  it('ignores links without rel next', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, { tags: ['a'] }, { link: '</v2/app/tags/list?last=a>; rel="prev"' }),
    );

    await expect(collect(client().listTags('app'))).resolves.toEqual(['a']);
    expect(registry.requests).toHaveLength(1);
  });

  it('rejects a body that is not JSON', async () => {
    registry.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>');
    });

    const error = await catchRegistryError(collect(client().listTags('app')));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('tag list of "app" is invalid: the body is not JSON');
  });

  it('rejects tags that are not strings', async () => {
    registry.handle((_request, response) => sendJson(response, 200, { tags: ['a', 7] }));

    const error = await catchRegistryError(collect(client().listTags('app')));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('tags.1');
  });

  it('maps an unknown repository to not-found', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 404, 'NAME_UNKNOWN'));

    const error = await catchRegistryError(collect(client().listTags('missing/app')));

    expect(error.code).toBe('not-found');
    expect(error.message).toContain('tag list of "missing/app"');
    expect(error.message).toContain('NAME_UNKNOWN');
  });

  it('limits the size of a page', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, { tags: Array.from({ length: 100 }, (_, index) => `tag-${index}`) }),
    );

    const error = await catchRegistryError(
      collect(client({ maxListPageBytes: 256 }).listTags('app')),
    );

    expect(error.code).toBe('too-large');
  });

  it('rejects an invalid repository before any request', () => {
    registry.handle((_request, response) => sendJson(response, 200, { tags: [] }));

    expect(() => client().listTags('../app')).toThrow(/Invalid repository name/);
    expect(registry.requests).toHaveLength(0);
  });
});
