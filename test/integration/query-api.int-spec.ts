import { createHash } from 'node:crypto';

import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';

import { createTestApiKey, getJson, RunningApi, startApi } from '../support/api-client';
import { envelope, manifestPushEvent, V1_EVENTS } from '../support/distribution-events';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';

const token = randomToken();
const config = buildTestConfig('query', [
  { name: 'local', url: 'http://127.0.0.1:9', hosts: ['127.0.0.1:5000'], webhookToken: token },
]);
const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('query API, keys and roles', () => {
  let api: RunningApi;
  let dataSource: DataSource;
  let ciKey: string;
  let adminKey: string;
  const base = digestOf('base');
  const children = Array.from({ length: 5 }, (_, index) => digestOf(`child ${index}`));

  beforeAll(async () => {
    await migrateTestSchema(config);
    api = await startApi(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
    ciKey = await createTestApiKey(config, 'ci');
    adminKey = await createTestApiKey(config, 'admin');

    // base <- 5 children, each in team/app-N; the first three tagged; children 0-1 stale.
    for (const [index, digest] of [base, ...children].entries()) {
      await dataSource.query(
        `INSERT INTO images (digest, media_type, kind, size, layer_count, first_seen_at)
         VALUES ($1, 'application/vnd.oci.image.manifest.v1+json', 'image', 10, $2, now() - make_interval(mins => $3))`,
        [digest, index === 0 ? 1 : 2, 10 - index],
      );
      await dataSource.query(
        `INSERT INTO repository_images (registry, repository, digest) VALUES ('local', $1, $2)`,
        [index === 0 ? 'team/base' : `team/app-${index - 1}`, digest],
      );
      await dataSource.query(
        `INSERT INTO freshness (digest, status, reasons) VALUES ($1, $2, '[]')`,
        [digest, index === 1 || index === 2 ? 'stale' : 'fresh'],
      );
    }
    for (const [index, child] of children.entries()) {
      await dataSource.query(
        `INSERT INTO base_edges (child_digest, base_digest, base_layer_count, is_primary) VALUES ($1, $2, 1, true)`,
        [child, base],
      );
      if (index < 3) {
        await dataSource.query(
          `INSERT INTO tags (registry, repository, name, digest) VALUES ('local', $1, '1', $2)`,
          [`team/app-${index}`, child],
        );
      }
    }
  });

  afterAll(async () => {
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  it('pages through images with filters', async () => {
    const first = await getJson(`${api.url}/v1/images?limit=2`, ciKey);
    const second = await getJson(
      `${api.url}/v1/images?limit=2&cursor=${first.body.nextCursor}`,
      ciKey,
    );
    const third = await getJson(
      `${api.url}/v1/images?limit=2&cursor=${second.body.nextCursor}`,
      ciKey,
    );

    const pages = [first, second, third].map((page) =>
      page.body.items.map((item: { digest: string }) => item.digest),
    );
    expect(pages).toEqual([
      [children[4], children[3]],
      [children[2], children[1]],
      [children[0], base],
    ]);
    expect(third.body.nextCursor).toBeNull();

    const stale = await getJson(`${api.url}/v1/images?status=stale`, ciKey);
    expect(stale.body.items.map((item: { digest: string }) => item.digest)).toEqual([
      children[1],
      children[0],
    ]);
    const untagged = await getJson(`${api.url}/v1/images?tagged=false`, ciKey);
    expect(untagged.body.items.map((item: { digest: string }) => item.digest)).toEqual([
      children[4],
      children[3],
      base,
    ]);
    const repository = await getJson(
      `${api.url}/v1/images?registry=local&repository=team/app-2`,
      ciKey,
    );
    expect(repository.body.items).toHaveLength(1);
    expect(repository.body.items[0]).toMatchObject({
      digest: children[2],
      tags: [{ registry: 'local', repository: 'team/app-2', tag: '1' }],
    });
  });

  it.each([
    ['status=old', 'status must be one of'],
    ['tagged=yes', 'tagged must be true or false'],
    ['limit=0', 'limit must be an integer'],
    ['cursor=garbage', 'cursor is invalid'],
  ])('rejects %s with 400', async (query, detail) => {
    const response = await getJson(`${api.url}/v1/images?${query}`, ciKey);

    expect(response.status).toBe(400);
    expect(response.body.detail).toContain(detail);
  });

  it('pages through descendants', async () => {
    const first = await getJson(`${api.url}/v1/images/${base}/lineage?limit=3`, ciKey);
    const second = await getJson(
      `${api.url}/v1/images/${base}/lineage?limit=3&cursor=${first.body.descendants.nextCursor}`,
      ciKey,
    );

    const sorted = [...children].sort();
    expect(first.body.ancestors).toEqual([]);
    expect(first.body.descendants.items.map((item: { digest: string }) => item.digest)).toEqual(
      sorted.slice(0, 3),
    );
    expect(second.body.descendants.items.map((item: { digest: string }) => item.digest)).toEqual(
      sorted.slice(3),
    );
    expect(second.body.descendants.nextCursor).toBeNull();
    const child = await getJson(`${api.url}/v1/images/${children[0]}/lineage`, ciKey);
    expect(child.body.ancestors).toEqual([{ digest: base, depth: 1, status: 'fresh', tags: [] }]);
  });

  it('answers unknown and malformed digests', async () => {
    expect((await getJson(`${api.url}/v1/images/${digestOf('nothing')}`, ciKey)).status).toBe(404);
    expect((await getJson(`${api.url}/v1/images/sha256:XYZ`, ciKey)).status).toBe(400);
    expect((await getJson(`${api.url}/v1/freshness`, ciKey)).status).toBe(400);
    expect((await getJson(`${api.url}/v1/freshness?image=Not%20A%20Ref`, ciKey)).status).toBe(400);
    const otherHost = await getJson(
      `${api.url}/v1/freshness?image=elsewhere.example/team/app:1`,
      ciKey,
    );
    expect(otherHost.status).toBe(404);
    expect(otherHost.body.detail).toContain('not configured');
  });

  it('enforces roles and key lifecycle', async () => {
    expect((await getJson(`${api.url}/v1/images`)).status).toBe(401);
    expect(
      (await getJson(`${api.url}/v1/images`, 'ipk_000000000000_' + 'x'.repeat(32))).status,
    ).toBe(401);
    expect((await getJson(`${api.url}/v1/deliveries`, ciKey)).status).toBe(403);
    expect((await getJson(`${api.url}/v1/api-keys`, ciKey)).status).toBe(403);

    const created = await fetch(`${api.url}/v1/api-keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'security team', role: 'security' }),
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string; role: string };
    expect(key.role).toBe('security');
    const viaHeader = await fetch(`${api.url}/v1/deliveries`, {
      headers: { 'X-API-Key': key.key },
    });
    expect(viaHeader.status).toBe(200);

    const listed = await getJson(`${api.url}/v1/api-keys`, adminKey);
    expect(JSON.stringify(listed.body)).not.toContain(key.key);

    const revoked = await fetch(`${api.url}/v1/api-keys/${key.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${adminKey}` },
    });
    expect(revoked.status).toBe(200);
    expect((await getJson(`${api.url}/v1/deliveries`, key.key)).status).toBe(401);

    const badRole = await fetch(`${api.url}/v1/api-keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x', role: 'root' }),
    });
    expect(badRole.status).toBe(400);
  });

  it('counts webhook events in metrics', async () => {
    await fetch(`${api.url}/v1/webhooks/distribution/local`, {
      method: 'POST',
      headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}` },
      body: envelope(manifestPushEvent({ repository: 'team/app', digest: digestOf('metric') }), {
        action: 'pull',
        target: { repository: 'team/app' },
      }),
    });

    const metrics = await (await fetch(`${api.url}/metrics`)).text();

    expect(metrics).toContain(
      'provenance_webhook_events_total{registry="local",action="push",outcome="accepted"} 1',
    );
    expect(metrics).toContain(
      'provenance_webhook_events_total{registry="local",action="pull",outcome="ignored"} 1',
    );
    expect(metrics).toMatch(/provenance_queue_jobs\{queue="ingest",state="waiting"\} \d+/);
  });
});
