/**
 * Benchmarks: webhook intake rate, freshness query latency at 100k images, and tag-move fan-out
 * over 10k descendants. Every load goes to 127.0.0.1 and every loop is bounded in time or count.
 * Run with `make bench` (or bench/run-all.sh); results print as JSON lines.
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';

import { computeChainIds } from '@app/oci';
import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';

import { startWorker } from '../apps/worker/src/bootstrap';
import { createTestApiKey, startApi } from '../test/support/api-client';
import { envelope, manifestPushEvent, V1_EVENTS } from '../test/support/distribution-events';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../test/support/test-config';

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Runs `request` from `concurrency` loops for `seconds`; returns the count and latencies in ms. */
async function load(concurrency: number, seconds: number, request: () => Promise<void>) {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const loops = Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      await request();
      latencies.push(performance.now() - started);
    }
  });
  const started = performance.now();
  await Promise.all(loops);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    requests: latencies.length,
    perSecond: Math.round(latencies.length / elapsed),
    p50Ms: +at(0.5).toFixed(2),
    p99Ms: +at(0.99).toFixed(2),
  };
}

async function main(): Promise<void> {
  const token = randomToken();
  const config = buildTestConfig('bench', [
    { name: 'local', url: 'http://127.0.0.1:9', hosts: ['127.0.0.1:5000'], webhookToken: token },
  ]);
  await migrateTestSchema(config);
  const api = await startApi(config);
  const dataSource = await openDataSource({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    poolSize: 4,
  });
  try {
    // 1. Webhook intake: each request is one manifest push (one outbox row and one queue job).
    const ingest = await load(32, 15, async () => {
      const event = manifestPushEvent({
        repository: 'bench/app',
        digest: sha(randomUUID()),
        tag: 'x',
      });
      const response = await fetch(`${api.url}/v1/webhooks/distribution/local`, {
        method: 'POST',
        headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}` },
        body: envelope(event),
      });
      if (response.status !== 202) throw new Error(`webhook returned HTTP ${response.status}`);
      await response.arrayBuffer();
    });
    console.log(
      JSON.stringify({ benchmark: 'webhook-intake', concurrency: 32, seconds: 15, ...ingest }),
    );
    const ingestQueue = new Queue(QueueName.Ingest, {
      connection: { url: config.redisUrl },
      prefix: config.queuePrefix,
    });
    await ingestQueue.obliterate({ force: true });
    await ingestQueue.close();

    // 2. Freshness queries at 100k images, each tagged, with a fresh verdict and one base edge.
    await dataSource.query(`
      INSERT INTO images (digest, media_type, kind, size, layer_count, diff_ids, chain_ids, top_chain_id)
      SELECT 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex'), 'application/vnd.oci.image.manifest.v1+json',
             'image', 1000, 2, '{}', '{}', 'sha256:' || encode(sha256(('top' || g)::bytea), 'hex')
        FROM generate_series(1, 100000) g`);
    await dataSource.query(`
      INSERT INTO tags (registry, repository, name, digest)
      SELECT 'local', 'bench/repo-' || (g % 1000), 't' || g, 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex')
        FROM generate_series(1, 100000) g`);
    await dataSource.query(`
      INSERT INTO base_edges (child_digest, base_digest, base_layer_count, is_primary)
      SELECT 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex'), 'sha256:' || encode(sha256(('img' || (g - 1))::bytea), 'hex'), 1, true
        FROM generate_series(2, 100000) g WHERE g % 10 <> 1`);
    await dataSource.query(`
      INSERT INTO freshness (digest, status, reasons)
      SELECT digest, 'fresh', '[]' FROM images`);
    await dataSource.query(`ANALYZE`);
    const key = await createTestApiKey(config, 'ci');
    let counter = 0;
    const query = await load(16, 15, async () => {
      counter += 1;
      const n = 1 + ((counter * 7919) % 100000);
      const image = encodeURIComponent(`127.0.0.1:5000/bench/repo-${n % 1000}:t${n}`);
      const response = await fetch(`${api.url}/v1/freshness?image=${image}`, {
        headers: { Authorization: `Bearer ${key}` },
      });
      if (response.status !== 200)
        throw new Error(`freshness query returned HTTP ${response.status}`);
      await response.arrayBuffer();
    });
    console.log(
      JSON.stringify({
        benchmark: 'freshness-query',
        images: 100000,
        concurrency: 16,
        seconds: 15,
        ...query,
      }),
    );

    // 3. Fan-out: a base with 10k direct descendants that track its tag; move the tag.
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
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
