import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';
import { Queue } from 'bullmq';

import { RunningApi, startApi } from '../support/api-client';
import { blobEvent, envelope, manifestPushEvent, V1_EVENTS } from '../support/distribution-events';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

interface Receipt {
  accepted: number;
  duplicates: number;
  deliveries: string[];
  rejections: string[];
}

interface Problem {
  status: number;
  detail: string;
}

const token = randomToken();
const digest = `sha256:${'a'.repeat(64)}`;
const config = buildTestConfig('intake', [
  // Port 9 (discard) on loopback: nothing is fetched while serving a webhook.
  { name: 'local', url: 'http://127.0.0.1:9', hosts: ['127.0.0.1:5000'], webhookToken: token },
]);

function post(
  api: RunningApi,
  body: string,
  headers: Record<string, string> = {},
  registry = 'local',
) {
  return fetch(`${api.url}/v1/webhooks/distribution/${registry}`, {
    method: 'POST',
    headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}`, ...headers },
    body,
  });
}

describe('webhook intake', () => {
  let api: RunningApi;
  let dataSource: DataSource;
  let queue: Queue;

  beforeAll(async () => {
    await migrateTestSchema(config);
    api = await startApi(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
    queue = new Queue('ingest', {
      connection: { url: config.redisUrl },
      prefix: config.queuePrefix,
    });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  it('stores a manifest push once and enqueues its job', async () => {
    const event = manifestPushEvent({ repository: 'team/app', digest, tag: '1' });

    const first = await post(api, envelope(event));
    const second = await post(api, envelope(event));

    expect(first.status).toBe(202);
    const receipt = (await first.json()) as Receipt;
    expect(receipt).toMatchObject({ accepted: 1, duplicates: 0, ignored: 0, rejected: 0 });
    expect(await second.json()).toMatchObject({ accepted: 0, duplicates: 1 });

    const rows = await dataSource.query(`SELECT * FROM webhook_deliveries WHERE event_id = $1`, [
      event.id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      repository: 'team/app',
      tag: '1',
      digest,
      status: 'pending',
      source: 'webhook',
    });
    // The enqueue time is recorded after the response, because only the sweeper reads it.
    const enqueuedAt = await eventually(async () => {
      const [row] = await dataSource.query(
        `SELECT enqueued_at FROM webhook_deliveries WHERE event_id = $1`,
        [event.id],
      );
      return row.enqueued_at ?? undefined;
    }, 'the enqueue time to be recorded');
    expect(enqueuedAt).toBeInstanceOf(Date);

    const job = await queue.getJob(receipt.deliveries[0]);
    expect(job?.data).toEqual({ deliveryId: receipt.deliveries[0] });
  });

  it('stores concurrent redeliveries once', async () => {
    const event = manifestPushEvent({ repository: 'team/app', digest, tag: 'same' });

    const responses = await Promise.all(
      Array.from({ length: 5 }, () => post(api, envelope(event))),
    );
    const receipts = (await Promise.all(responses.map((response) => response.json()))) as Receipt[];

    expect(receipts.map((receipt) => receipt.accepted).sort()).toEqual([0, 0, 0, 0, 1]);
    expect(receipts.map((receipt) => receipt.duplicates).sort()).toEqual([0, 1, 1, 1, 1]);
    const rows = await dataSource.query(`SELECT id FROM webhook_deliveries WHERE event_id = $1`, [
      event.id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('counts pulls, mounts and blob pushes as ignored', async () => {
    const response = await post(
      api,
      envelope(
        blobEvent('pull', 'team/app', digest),
        blobEvent('mount', 'team/app', digest),
        blobEvent('push', 'team/app', digest),
        { ...manifestPushEvent({ repository: 'team/app', digest }), action: 'frobnicate' },
      ),
    );

    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: 0, ignored: 4, rejected: 0 });
  });

  it('rejects malformed events one by one', async () => {
    const response = await post(
      api,
      envelope(
        manifestPushEvent({ repository: 'Team/App', digest }),
        manifestPushEvent({ repository: 'team/app', digest: 'sha256:short' }),
        manifestPushEvent({ repository: 'team/ok', digest }),
      ),
    );

    const receipt = (await response.json()) as Receipt;
    expect(receipt).toMatchObject({ accepted: 1, rejected: 2 });
    expect(receipt.rejections[0]).toContain('invalid repository');
  });

  it('accepts the three envelope media types', async () => {
    for (const contentType of [
      V1_EVENTS,
      'application/vnd.docker.distribution.events.v2+json',
      'application/json',
    ]) {
      const response = await post(api, envelope(), { 'Content-Type': contentType });
      expect(response.status).toBe(202);
    }
  });

  it.each([
    ['no token', 401, { Authorization: '' }],
    ['wrong token', 401, { Authorization: 'Bearer wrong-token-wrong-token' }],
    ['wrong content type', 415, { 'Content-Type': 'text/plain' }],
  ])('answers %s with %i', async (_case, status, headers) => {
    const response = await post(api, envelope(), headers);

    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as Problem;
    expect(problem.status).toBe(status);
  });

  it('answers non-JSON with 400', async () => {
    const response = await post(api, '{not json');

    expect(response.status).toBe(400);
    expect(((await response.json()) as Problem).detail).toContain('not valid JSON');
  });

  it('answers a body without events with 400', async () => {
    const response = await post(api, JSON.stringify({ hello: 'world' }));

    expect(response.status).toBe(400);
  });

  it('answers a body over 1 MiB with 413', async () => {
    const response = await post(api, JSON.stringify({ events: [], pad: 'x'.repeat(1024 * 1024) }));

    expect(response.status).toBe(413);
  });

  it('answers an unknown registry with 404', async () => {
    const response = await post(api, envelope(), {}, 'elsewhere');

    expect(response.status).toBe(404);
  });

  it('stores deletes of manifests and tags', async () => {
    const deleteDigest = {
      ...manifestPushEvent({ repository: 'team/app', digest }),
      action: 'delete',
    };
    const deleteTag = {
      ...manifestPushEvent({ repository: 'team/app', digest }),
      action: 'delete',
      target: { repository: 'team/app', tag: 'old' },
    };

    const response = await post(api, envelope(deleteDigest, deleteTag));

    expect(await response.json()).toMatchObject({ accepted: 2 });
  });
});
