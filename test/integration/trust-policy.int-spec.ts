import { generateKeyPairSync } from 'node:crypto';

import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';

import { parseApiKeyPrefix } from '@app/common';
import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';

import { createTestApiKey, RunningApi, startApi } from '../support/api-client';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';

const config = buildTestConfig('trust_policy', [
  // Port 9 (discard) on loopback: these tests never contact a registry.
  {
    name: 'local',
    url: 'http://127.0.0.1:9',
    hosts: ['127.0.0.1:5000'],
    webhookToken: randomToken(),
  },
]);

const publicKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ format: 'pem', type: 'spki' })
  .toString();

/** A parsed JSON body; tests assert on it field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

interface Response {
  status: number;
  contentType: string | null;
  body: JsonBody;
}

const SIGNED_TEAM_POLICY = {
  default: [{ type: 'reject' }],
  scopes: {
    '127.0.0.1:5000/team': [
      {
        type: 'signedBy',
        anchors: [{ kind: 'publicKey', name: 'ci key', publicKeyPem }],
        signedIdentity: { type: 'matchRepository' },
      },
    ],
    '127.0.0.1:5000/public': [{ type: 'accept' }],
  },
};

describe('trust policy API', () => {
  let api: RunningApi;
  let dataSource: DataSource;
  let queue: Queue;
  let ciKey: string;
  let securityKey: string;
  let adminKey: string;

  async function call(
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (key) headers.Authorization = `Bearer ${key}`;
    let text: string | undefined;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      text = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const response = await fetch(`${api.url}${path}`, { method, headers, body: text });
    const responseText = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: responseText ? JSON.parse(responseText) : undefined,
    };
  }

  async function reverifyJobCount(): Promise<number> {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    return jobs.filter((job) => job.name === JobName.ReverifyPolicy).length;
  }

  async function versionCount(): Promise<number> {
    const [row] = await dataSource.query(`SELECT count(*)::int AS count FROM trust_policies`);
    return row.count;
  }

  beforeAll(async () => {
    await migrateTestSchema(config);
    api = await startApi(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
    queue = new Queue(QueueName.Signatures, {
      connection: { url: config.redisUrl },
      prefix: config.queuePrefix,
    });
    ciKey = await createTestApiKey(config, 'ci');
    securityKey = await createTestApiKey(config, 'security');
    adminKey = await createTestApiKey(config, 'admin');
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  it('serves the accept-all policy before the first save', async () => {
    const response = await call('GET', '/v1/trust-policy', securityKey);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      version: null,
      policy: { default: [{ type: 'accept' }], scopes: {} },
      source: null,
      comment: null,
      unsupported: [],
      createdBy: null,
      createdAt: null,
    });
  });

  it('exports the accept-all policy as insecureAcceptAnything', async () => {
    const response = await call('GET', '/v1/trust-policy/export', securityKey);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      version: null,
      policy: { default: [{ type: 'insecureAcceptAnything' }] },
      unsupported: [],
    });
  });

  it.each([
    ['GET', '/v1/trust-policy'],
    ['PUT', '/v1/trust-policy'],
    ['POST', '/v1/trust-policy/import'],
    ['GET', '/v1/trust-policy/export'],
    ['GET', '/v1/trust-policy/history'],
  ])('rejects the ci role on %s %s', async (method, path) => {
    const body = method === 'GET' ? undefined : { policy: { default: [{ type: 'reject' }] } };

    const response = await call(method, path, ciKey, body);

    expect(response.status).toBe(403);
    expect(response.contentType).toContain('application/problem+json');
    expect(response.body.detail).toContain('security role');
  });

  it('requires an API key', async () => {
    const response = await call('GET', '/v1/trust-policy', undefined);

    expect(response.status).toBe(401);
  });

  it('saves a version with its author and enqueues re-verification', async () => {
    const before = Date.now();

    const saved = await call('PUT', '/v1/trust-policy', securityKey, {
      policy: SIGNED_TEAM_POLICY,
      comment: 'team images must be signed by CI',
    });

    expect(saved.status).toBe(200);
    expect(saved.body.version).toBe(1);
    expect(saved.body.source).toBe('api');
    expect(saved.body.comment).toBe('team images must be signed by CI');
    expect(saved.body.policy).toEqual(SIGNED_TEAM_POLICY);
    expect(saved.body.createdBy).toEqual({
      keyPrefix: parseApiKeyPrefix(securityKey),
      keyName: 'test security',
    });
    expect(Date.parse(saved.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(typeof saved.body.reverifyJobId).toBe('string');

    const job = await queue.getJob(saved.body.reverifyJobId);
    expect(job?.name).toBe(JobName.ReverifyPolicy);
    expect(job?.data).toEqual({ policyVersion: 1 });

    const current = await call('GET', '/v1/trust-policy', securityKey);
    expect(current.status).toBe(200);
    expect(current.body.version).toBe(1);
    expect(current.body.policy).toEqual(SIGNED_TEAM_POLICY);
    expect(current.body.createdBy.keyPrefix).toBe(parseApiKeyPrefix(securityKey));
  });

  it('lets an admin save and records the admin key', async () => {
    const saved = await call('PUT', '/v1/trust-policy', adminKey, {
      policy: { default: [{ type: 'accept' }] },
    });

    expect(saved.status).toBe(200);
    expect(saved.body.version).toBe(2);
    expect(saved.body.comment).toBeNull();
    expect(saved.body.policy).toEqual({ default: [{ type: 'accept' }], scopes: {} });
    expect(saved.body.createdBy).toEqual({
      keyPrefix: parseApiKeyPrefix(adminKey),
      keyName: 'test admin',
    });
    const job = await queue.getJob(saved.body.reverifyJobId);
    expect(job?.data).toEqual({ policyVersion: 2 });
  });

  it.each([
    [
      'an unknown requirement type',
      { policy: { default: [{ type: 'allow' }] } },
      'policy.default[0].type',
    ],
    ['an unknown field', { policy: { default: [{ type: 'accept' }], scope: {} } }, 'policy'],
    [
      'a signedBy without anchors',
      { policy: { default: [{ type: 'signedBy', anchors: [] }] } },
      'policy.default',
    ],
    [
      'a public key that does not parse',
      {
        policy: {
          default: [
            { type: 'signedBy', anchors: [{ kind: 'publicKey', publicKeyPem: 'not a key' }] },
          ],
        },
      },
      'policy.default[0].anchors[0].publicKeyPem',
    ],
    ['a missing policy', { comment: 'empty' }, 'policy'],
  ])('rejects %s with a problem naming the field', async (_case, body, field) => {
    const versions = await versionCount();
    const jobs = await reverifyJobCount();

    const response = await call('PUT', '/v1/trust-policy', securityKey, body);

    expect(response.status).toBe(400);
    expect(response.contentType).toContain('application/problem+json');
    expect(response.body.code).toBe('bad-request');
    expect(response.body.field).toBe(field);
    expect(response.body.detail).toContain(field);
    expect(await versionCount()).toBe(versions);
    expect(await reverifyJobCount()).toBe(jobs);
  });

  it('rejects a body that is not JSON', async () => {
    const response = await call('PUT', '/v1/trust-policy', securityKey, '{"policy":');

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('invalid-json');
  });

  it('imports a policy.json with inline keys and lists unsupported parts', async () => {
    const policyJson = {
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          '127.0.0.1:5000/team': [
            {
              type: 'sigstoreSigned',
              keyData: Buffer.from(publicKeyPem).toString('base64'),
              signedIdentity: { type: 'matchRepository' },
            },
          ],
          '127.0.0.1:5000/legacy': [{ type: 'signedBaseLayer', baseLayerIdentity: {} }],
        },
        'containers-storage': { '': [{ type: 'insecureAcceptAnything' }] },
      },
    };

    const imported = await call(
      'POST',
      '/v1/trust-policy/import?comment=from%20podman',
      securityKey,
      policyJson,
    );

    expect(imported.status).toBe(201);
    expect(imported.body.version).toBe(3);
    expect(imported.body.source).toBe('import');
    expect(imported.body.comment).toBe('from podman');
    expect(imported.body.createdBy.keyPrefix).toBe(parseApiKeyPrefix(securityKey));
    expect(imported.body.policy.default).toEqual([{ type: 'reject' }]);
    expect(imported.body.policy.scopes['127.0.0.1:5000/team']).toEqual([
      {
        type: 'signedBy',
        anchors: [expect.objectContaining({ kind: 'publicKey', publicKeyPem })],
        signedIdentity: { type: 'matchRepository' },
      },
    ]);
    expect(imported.body.policy.scopes['127.0.0.1:5000/legacy']).toEqual([{ type: 'reject' }]);
    expect(imported.body.unsupported).toHaveLength(2);
    expect(imported.body.unsupported).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"signedBaseLayer"'),
        expect.stringContaining('transport "containers-storage"'),
      ]),
    );
    const job = await queue.getJob(imported.body.reverifyJobId);
    expect(job?.name).toBe(JobName.ReverifyPolicy);
    expect(job?.data).toEqual({ policyVersion: 3 });

    const current = await call('GET', '/v1/trust-policy', securityKey);
    expect(current.body.version).toBe(3);
    expect(current.body.unsupported).toEqual(imported.body.unsupported);
  });

  it('round-trips the policy through export and import', async () => {
    const exported = await call('GET', '/v1/trust-policy/export', securityKey);

    expect(exported.status).toBe(200);
    expect(exported.body.version).toBe(3);
    expect(exported.body.unsupported).toEqual([]);
    expect(exported.body.policy.transports.docker['127.0.0.1:5000/team']).toEqual([
      {
        type: 'sigstoreSigned',
        keyData: Buffer.from(publicKeyPem).toString('base64'),
        signedIdentity: { type: 'matchRepository' },
      },
    ]);

    const reimported = await call('POST', '/v1/trust-policy/import', securityKey, {
      policy: exported.body.policy,
      comment: 'round trip',
    });

    expect(reimported.status).toBe(201);
    expect(reimported.body.version).toBe(4);
    expect(reimported.body.unsupported).toEqual([]);
    expect(reimported.body.comment).toBe('round trip');
    const previous = await call('GET', '/v1/trust-policy/history?limit=2', securityKey);
    const [latest, before] = previous.body.items;
    expect(latest.version).toBe(4);
    expect(before.version).toBe(3);
    expect(latest.policy.default).toEqual(before.policy.default);
    expect(latest.policy.scopes['127.0.0.1:5000/team'][0].anchors[0].publicKeyPem).toBe(
      publicKeyPem,
    );
  });

  it('reports policy.json parts that export cannot express', async () => {
    await call('PUT', '/v1/trust-policy', securityKey, {
      policy: {
        default: [{ type: 'accept' }],
        scopes: {
          '127.0.0.1:5000/team': [
            { type: 'signedBy', anchors: [{ kind: 'publicKey', publicKeyPem, rsaPadding: 'pss' }] },
          ],
        },
      },
    });

    const exported = await call('GET', '/v1/trust-policy/export', securityKey);

    expect(exported.body.policy.transports.docker['127.0.0.1:5000/team']).toEqual([
      { type: 'reject' },
    ]);
    expect(exported.body.unsupported).toEqual([expect.stringContaining('RSA-PSS')]);
  });

  it('rejects a keyPath unless the file is sent', async () => {
    const policyJson = {
      default: [
        {
          type: 'sigstoreSigned',
          keyPath: '/etc/pki/containers/ci.pub',
          signedIdentity: { type: 'matchRepository' },
        },
      ],
    };
    const versions = await versionCount();

    const rejected = await call('POST', '/v1/trust-policy/import', securityKey, policyJson);

    expect(rejected.status).toBe(400);
    expect(rejected.body.detail).toContain('/etc/pki/containers/ci.pub');
    expect(rejected.body.detail).toContain('keyData');
    expect(await versionCount()).toBe(versions);

    const accepted = await call('POST', '/v1/trust-policy/import', securityKey, {
      policy: policyJson,
      files: { '/etc/pki/containers/ci.pub': Buffer.from(publicKeyPem).toString('base64') },
    });

    expect(accepted.status).toBe(201);
    expect(accepted.body.policy.default[0].anchors[0].publicKeyPem).toBe(publicKeyPem);
  });

  it.each([
    ['a duplicate key', '{"default":[{"type":"reject"}],"default":[{"type":"reject"}]}'],
    ['an empty default', '{"default":[]}'],
    ['a body without default', '{"transports":{}}'],
    ['a keyData that is not a key', '{"default":[{"type":"sigstoreSigned","keyData":"eA=="}]}'],
  ])('rejects an import with %s', async (_case, text) => {
    const versions = await versionCount();

    const response = await call('POST', '/v1/trust-policy/import', securityKey, text);

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('bad-request');
    expect(typeof response.body.field).toBe('string');
    expect(await versionCount()).toBe(versions);
  });

  it('pages the history newest first', async () => {
    const total = await versionCount();
    const versions: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await call('GET', `/v1/trust-policy/history?limit=2${query}`, securityKey);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      versions.push(...page.body.items.map((item: { version: number }) => item.version));
      cursor = page.body.nextCursor;
    } while (cursor);

    expect(versions).toEqual(Array.from({ length: total }, (_, index) => total - index));
  });

  it('records every version with author and time', async () => {
    const history = await call('GET', '/v1/trust-policy/history?limit=500', securityKey);

    for (const item of history.body.items) {
      expect(item.createdBy.keyName).toMatch(/^test (security|admin)$/);
      expect(item.createdBy.keyPrefix).toMatch(/^[0-9a-f]{12}$/);
      expect(Number.isNaN(Date.parse(item.createdAt))).toBe(false);
    }
    const sources = history.body.items.map((item: { source: string }) => item.source);
    expect(sources).toEqual(expect.arrayContaining(['api', 'import']));
  });

  it('rejects an invalid history cursor', async () => {
    const response = await call('GET', '/v1/trust-policy/history?cursor=abc', securityKey);

    expect(response.status).toBe(400);
  });
});
