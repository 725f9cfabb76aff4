/**
 * Benchmark: a base with 10k direct descendants that track its tag; the tag moves and one worker
 * (concurrency 4) fans the move out. Prints one JSON line. Run through bench/run-all.sh.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';

import { computeChainIds } from '@app/oci';
import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';

import { startWorker } from '../apps/worker/src/bootstrap';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../test/support/test-config';

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

async function main(): Promise<void> {
  const config = buildTestConfig(
    'bench',
    [
      {
        name: 'local',
        url: 'http://127.0.0.1:9',
        hosts: ['127.0.0.1:5000'],
        webhookToken: randomToken(),
      },
    ],
    { WORKER_CONCURRENCY: '4' },
  );
  await migrateTestSchema(config);
  const dataSource = await openDataSource({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    poolSize: 2,
  });
  try {
    const worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    const base = sha('fanout base');
    const diff = [sha('fanout layer 0')];
    const chain = computeChainIds(diff);
    await dataSource.query(
      `INSERT INTO images (digest, media_type, kind, size, layer_count, diff_ids, chain_ids, top_chain_id)
       VALUES ($1, 'application/vnd.oci.image.manifest.v1+json', 'image', 1, 1, $2, $3, $4),
              ($5, 'application/vnd.oci.image.manifest.v1+json', 'image', 1, 1, $6, $6, $7)`,
      [base, diff, chain, chain[0], sha('fanout base v2'), [sha('other')], sha('other')],
    );
    await dataSource.query(
      `INSERT INTO tags (registry, repository, name, digest) VALUES ('local', 'fan/base', '1', $1)`,
      [base],
    );
    await dataSource.query(
      `INSERT INTO images (digest, media_type, kind, size, layer_count, diff_ids, chain_ids, top_chain_id)
       SELECT 'sha256:' || encode(sha256(('fan' || g)::bytea), 'hex'), 'application/vnd.oci.image.manifest.v1+json', 'image', 1, 2, '{}', '{}', NULL
         FROM generate_series(1, 10000) g`,
    );
    await dataSource.query(
      `INSERT INTO base_edges (child_digest, base_digest, base_layer_count, is_primary)
       SELECT 'sha256:' || encode(sha256(('fan' || g)::bytea), 'hex'), $1, 1, true FROM generate_series(1, 10000) g`,
      [base],
    );
    await dataSource.query(
      `INSERT INTO tracked_base_tags (child_digest, registry, repository, tag, base_digest)
       SELECT 'sha256:' || encode(sha256(('fan' || g)::bytea), 'hex'), 'local', 'fan/base', '1', $1 FROM generate_series(1, 10000) g`,
      [base],
    );
    await dataSource.query(`UPDATE tags SET digest = $1 WHERE repository = 'fan/base'`, [
      sha('fanout base v2'),
    ]);
    const freshnessQueue = worker.app.get<Queue>(getQueueToken(QueueName.Freshness));
    const started = performance.now();
    await freshnessQueue.add(JobName.TagMoved, {
      registry: 'local',
      repository: 'fan/base',
      tag: '1',
      previousDigest: base,
      digest: sha('fanout base v2'),
    });
    const deadline = Date.now() + 600_000;
    for (;;) {
      const [row] = await dataSource.query(
        `SELECT count(*)::int AS n FROM freshness f JOIN tracked_base_tags t ON t.child_digest = f.digest
          WHERE t.repository = 'fan/base' AND f.status = 'stale'`,
      );
      if (row.n === 10000) break;
      if (Date.now() > deadline) throw new Error(`fan-out incomplete: ${row.n} of 10000 stale`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(
      JSON.stringify({
        benchmark: 'tag-move-fan-out',
        descendants: 10000,
        seconds: +((performance.now() - started) / 1000).toFixed(1),
      }),
    );
    await freshnessQueue.obliterate({ force: true });
    await worker.close();
  } finally {
    await dataSource.destroy();
    await dropTestSchema(config);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
