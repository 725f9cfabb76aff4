import { createHash } from 'node:crypto';

import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';
import { DataSource } from 'typeorm';

import { computeChainIds } from '@app/oci';
import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { ImageStoreService } from '../../apps/worker/src/ingest/image-store.service';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

const CHAIN_LENGTH = 2000;
const config = buildTestConfig(
  'fanout',
  [
    {
      name: 'local',
      url: 'http://127.0.0.1:9',
      hosts: ['127.0.0.1:5000'],
      webhookToken: randomToken(),
    },
  ],
  { WORKER_CONCURRENCY: '2' },
);

function sha(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Inserts an image row the way ingest would, with layers diffIds. */
async function insertImage(
  dataSource: DataSource,
  digest: string,
  diffIds: string[],
): Promise<void> {
  const chainIds = computeChainIds(diffIds);
  await dataSource.query(
    `INSERT INTO images (digest, media_type, kind, size, architecture, os, layer_count, diff_ids, chain_ids, top_chain_id)
     VALUES ($1, 'application/vnd.oci.image.manifest.v1+json', 'image', 100, 'amd64', 'linux', $2, $3, $4, $5)`,
    [digest, diffIds.length, diffIds, chainIds, chainIds[chainIds.length - 1]],
  );
}

describe('tag-move fan-out', () => {
  let dataSource: DataSource;
  let worker: RunningWorker;
  let freshnessQueue: Queue;
  const diffIds = Array.from({ length: CHAIN_LENGTH + 1 }, (_, index) => sha(`layer ${index}`));
  const chain = Array.from({ length: CHAIN_LENGTH }, (_, index) => sha(`image ${index + 1}`));
  const baseDigest = sha('base v1');

  beforeAll(async () => {
    await migrateTestSchema(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 2,
    });
    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    freshnessQueue = worker.app.get<Queue>(getQueueToken(QueueName.Freshness));
    const store = worker.app.get(ImageStoreService);

    // base (1 layer) <- image 1 (2 layers) <- image 2 (3 layers) <- ... each tagged in its own repository.
    await insertImage(dataSource, baseDigest, diffIds.slice(0, 1));
    await store.setTag({
      registry: 'local',
      repository: 'base',
      tag: '1',
      digest: baseDigest,
      eventTime: null,
      source: 'test',
    });
    for (const [index, digest] of chain.entries()) {
      await insertImage(dataSource, digest, diffIds.slice(0, index + 2));
      await store.setTag({
        registry: 'local',
        repository: `chain/img-${index + 1}`,
        tag: '1',
        digest,
        eventTime: null,
        source: 'test',
      });
    }
  }, 120_000);

  afterAll(async () => {
    await freshnessQueue?.obliterate({ force: true });
    await worker?.close();
    await dataSource?.destroy();
    await dropTestSchema(config);
  });

  async function countByStatus(status: string): Promise<number> {
    const [row] = await dataSource.query(
      `SELECT count(*)::int AS n FROM freshness WHERE status = $1`,
      [status],
    );
    return row.n;
  }

  it('marks a 2000-image chain stale', async () => {
    await freshnessQueue.add(JobName.RecomputeFreshness, {
      digests: [baseDigest, ...chain],
      cause: 'test',
      relink: true,
    });
    await eventually(
      async () => ((await countByStatus('fresh')) === CHAIN_LENGTH + 1 ? true : undefined),
      `${CHAIN_LENGTH + 1} fresh verdicts`,
      300_000,
      250,
    );
    const [edge] = await dataSource.query(
      `SELECT base_digest FROM base_edges WHERE child_digest = $1 AND is_primary`,
      [chain[CHAIN_LENGTH - 1]],
    );
    expect(edge.base_digest).toBe(chain[CHAIN_LENGTH - 2]);

    const newBase = sha('base v2');
    await insertImage(dataSource, newBase, [sha('other layer')]);
    const store = worker.app.get(ImageStoreService);
    const change = await store.setTag({
      registry: 'local',
      repository: 'base',
      tag: '1',
      digest: newBase,
      eventTime: null,
      source: 'test',
    });
    expect(change).toEqual({ previousDigest: baseDigest, digest: newBase, changed: true });
    await freshnessQueue.add(JobName.TagMoved, {
      registry: 'local',
      repository: 'base',
      tag: '1',
      previousDigest: baseDigest,
      digest: newBase,
    });

    await eventually(
      async () => ((await countByStatus('stale')) === CHAIN_LENGTH ? true : undefined),
      `${CHAIN_LENGTH} stale verdicts`,
      300_000,
      250,
    );
    const [first] = await dataSource.query(`SELECT reasons FROM freshness WHERE digest = $1`, [
      chain[0],
    ]);
    expect(first.reasons[0]).toMatchObject({
      code: 'base-tag-moved',
      tag: 'local/base:1',
      builtOn: baseDigest,
      current: newBase,
    });
    const [last] = await dataSource.query(`SELECT reasons FROM freshness WHERE digest = $1`, [
      chain[CHAIN_LENGTH - 1],
    ]);
    expect(last.reasons[0].code).toBe('ancestor-stale');
    expect(last.reasons[0].path).toHaveLength(64);
    expect(last.reasons[0].path[0]).toBe(chain[CHAIN_LENGTH - 2]);
    expect(last.reasons[0].pathTruncated).toBe(true);
    const [short] = await dataSource.query(`SELECT reasons FROM freshness WHERE digest = $1`, [
      chain[3],
    ]);
    expect(short.reasons[0].path).toEqual([chain[2], chain[1], chain[0]]);
  }, 600_000);
});
