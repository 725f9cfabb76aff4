import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';
import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';
import { QueueName } from '@app/queue';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { OutboxSweeperService } from '../../apps/worker/src/maintenance/outbox-sweeper.service';
import { RunningApi, startApi } from '../support/api-client';
import { envelope, manifestPushEvent, V1_EVENTS } from '../support/distribution-events';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

const token = randomToken();
const config = buildTestConfig('sweeper', [
  { name: 'local', url: 'http://127.0.0.1:9', hosts: ['127.0.0.1:5000'], webhookToken: token },
]);

describe('outbox sweeper', () => {
  let api: RunningApi;
  let dataSource: DataSource;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    await migrateTestSchema(config);
    api = await startApi(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  it('re-enqueues rows whose jobs Redis lost', async () => {
    // Tag deletes of unknown tags finish without contacting a registry.
    const events = Array.from({ length: 20 }, (_, index) => ({
      ...manifestPushEvent({ repository: 'team/app', digest: `sha256:${'c'.repeat(64)}` }),
      action: 'delete',
      target: { repository: 'team/app', tag: `gone-${index}` },
    }));
    const response = await fetch(`${api.url}/v1/webhooks/distribution/local`, {
      method: 'POST',
      headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}` },
      body: envelope(...events),
    });
    expect(response.status).toBe(202);

    const lost = new Queue(QueueName.Ingest, {
      connection: { url: config.redisUrl },
      prefix: config.queuePrefix,
    });
    expect(await lost.getJobCountByTypes('waiting')).toBe(20);
    await lost.obliterate({ force: true });
    await lost.close();

    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    const queue = worker.app.get<Queue>(getQueueToken(QueueName.Ingest));
    const [pending] = await dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`,
    );
    expect(pending.n).toBe(20);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await worker.app.get(OutboxSweeperService).sweep(1);
    expect(result).toEqual({ examined: 20, requeued: 20 });

    await eventually(async () => {
      const [row] = await dataSource.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'skipped'`,
      );
      return row.n === 20 ? true : undefined;
    }, 'all 20 rows to be processed');
    const again = await worker.app.get(OutboxSweeperService).sweep(0);
    expect(again).toEqual({ examined: 0, requeued: 0 });
    await queue.obliterate({ force: true });
  });
});
