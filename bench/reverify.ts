/**
 * Benchmark: re-verifying the signatures of every image after a trust policy change. Seeds
 * BENCH_IMAGES images (default 10,000), each tagged in one of 100 repositories of a registry
 * stand-in on 127.0.0.1. Nine in ten have a cosign ECDSA P-256 signature in their `.sig` tag and
 * the rest are unsigned. The stand-in has no referrers API, as Distribution 2.8, so each image
 * also costs a referrers request and a referrers tag lookup. One worker runs in this process at
 * concurrency 4. A first policy accepts every image and is walked untimed, so that every image
 * has a verdict and signature rows, as in a running service. The timed walk starts when a
 * second policy that requires the key is saved and its ReverifyPolicy job is queued, and ends
 * when every image's verdict carries that policy version. Prints one JSON line.
 * Run through bench/run-all.sh.
 */
import { performance } from 'node:perf_hooks';

import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';
import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';
import { TrustPolicy } from '@app/signatures';

import { RunningWorker, startWorker } from '../apps/worker/src/bootstrap';
import { HarnessError } from '../test/support/errors';
import { SignatureRegistryStandIn } from '../test/support/signature-registry';
import {
  CosignKey,
  cosignPayload,
  cosignSignatureManifest,
  cosignTag,
  generateCosignKey,
  signPayload,
} from '../test/support/signing';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
  TestConfig,
} from '../test/support/test-config';

const DEFAULT_IMAGES = 10_000;
/** The stand-in keeps every manifest and blob in memory, which bounds the image count. */
const MAX_IMAGES = 100_000;
const REPOSITORIES = 100;
/** Every image whose number is a multiple of this has no signature. */
const UNSIGNED_EVERY = 10;
const WALK_TIMEOUT_MS = 15 * 60_000;
const POLL_INTERVAL_MS = 250;
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** A benchmark setting from the environment is not a number in its allowed range. */
class InvalidBenchmarkSettingError extends HarnessError {
  constructor(name: string, value: string, expected: string) {
    super('BENCH_SETTING_INVALID', `${name}=${JSON.stringify(value)} is invalid: ${expected}.`);
  }
}

/** A policy walk did not give every image a verdict under its version within the time limit. */
class WalkTimeoutError extends HarnessError {
  constructor(version: number, done: number, images: number, queueState: string) {
    const seconds = WALK_TIMEOUT_MS / 1000;
    super(
      'BENCH_WALK_TIMEOUT',
      `Re-verification under policy version ${version} timed out after ${seconds} s: ` +
        `${done} of ${images} images have a verdict under that version. ` +
        `Signatures queue: ${queueState}.`,
    );
  }
}

/** The timed walk finished with verdicts other than the seeded signatures imply. */
class UnexpectedVerdictsError extends HarnessError {
  constructor(expected: Record<string, number>, found: Record<string, number>) {
    super(
      'BENCH_VERDICTS_UNEXPECTED',
      `Verdicts after the walk are ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}.`,
    );
  }
}

/** A seeded image: its manifest digest and size in the stand-in, and its repository and tag. */
interface SeededImage {
  digest: string;
  size: number;
  repository: string;
  tag: string;
  signed: boolean;
}

function readImageCount(): number {
  const raw = process.env.BENCH_IMAGES;
  if (raw === undefined || raw === '') return DEFAULT_IMAGES;
  const images = Number(raw);
  if (!Number.isInteger(images) || images < 1 || images > MAX_IMAGES) {
    throw new InvalidBenchmarkSettingError(
      'BENCH_IMAGES',
      raw,
      `expected a whole number of images from 1 to ${MAX_IMAGES}`,
    );
  }
  return images;
}

/** Adds the images, and the cosign signatures of the signed ones, to the stand-in. */
function seedRegistry(
  standIn: SignatureRegistryStandIn,
  key: CosignKey,
  count: number,
): SeededImage[] {
  const images: SeededImage[] = [];
  for (let number = 1; number <= count; number += 1) {
    const repository = `bench/repo-${number % REPOSITORIES}`;
    const tag = `v${number}`;
    const manifest = standIn.addImage(repository, tag);
    const signed = number % UNSIGNED_EVERY !== 0;
    if (signed) {
      // The payload names the repository without a tag, so the policy uses matchRepository.
      const payload = cosignPayload(manifest.digest, `${standIn.host}/${repository}`);
      const signature = cosignSignatureManifest([
        { payload, signatureBase64: signPayload(key, payload) },
      ]);
      for (const blob of signature.blobs) standIn.addBlob(blob);
      standIn.addManifest(
        repository,
        signature.bytes,
        signature.mediaType,
        cosignTag(manifest.digest),
      );
    }
    images.push({ digest: manifest.digest, size: manifest.size, repository, tag, signed });
  }
  return images;
}

/** Inserts the images as ingested manifests, each present and tagged in its repository. */
async function seedDatabase(dataSource: DataSource, images: readonly SeededImage[]): Promise<void> {
  const digests = images.map((image) => image.digest);
  await dataSource.query(
    `INSERT INTO images (digest, media_type, kind, size)
     SELECT digest, $3, 'image', size
       FROM unnest($1::text[], $2::bigint[]) AS seed (digest, size)`,
    [digests, images.map((image) => image.size), MANIFEST_MEDIA_TYPE],
  );
  await dataSource.query(
    `INSERT INTO repository_images (registry, repository, digest)
     SELECT 'local', repository, digest
       FROM unnest($1::text[], $2::text[]) AS seed (repository, digest)`,
    [images.map((image) => image.repository), digests],
  );
  await dataSource.query(
    `INSERT INTO tags (registry, repository, name, digest)
     SELECT 'local', repository, name, digest
       FROM unnest($1::text[], $2::text[], $3::text[]) AS seed (repository, name, digest)`,
    [images.map((image) => image.repository), images.map((image) => image.tag), digests],
  );
  await dataSource.query(`ANALYZE`);
}

async function insertPolicy(dataSource: DataSource, policy: TrustPolicy): Promise<number> {
  const [row]: Array<{ version: number }> = await dataSource.query(
    `INSERT INTO trust_policies (policy, source, created_by, comment)
     VALUES ($1, 'api', 'bench', 'bench/reverify.ts') RETURNING version`,
    [JSON.stringify(policy)],
  );
  if (row === undefined) {
    throw new HarnessError('BENCH_SEED_FAILED', 'INSERT INTO trust_policies returned no version.');
  }
  return row.version;
}

async function countVerdicts(dataSource: DataSource, version: number): Promise<number> {
  const [row]: Array<{ n: number }> = await dataSource.query(
    `SELECT count(*)::int AS n FROM signature_verdicts WHERE policy_version = $1`,
    [version],
  );
  return row?.n ?? 0;
}

async function describeQueue(queue: Queue): Promise<string> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
  return Object.entries(counts)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
}

/** Queues the walk of `version` and returns the seconds until every image has its verdict. */
async function walk(
  dataSource: DataSource,
  queue: Queue,
  version: number,
  images: number,
): Promise<number> {
  const started = performance.now();
  await queue.add(JobName.ReverifyPolicy, { policyVersion: version });
  const deadline = started + WALK_TIMEOUT_MS;
  for (;;) {
    const done = await countVerdicts(dataSource, version);
    if (done === images) break;
    if (performance.now() > deadline) {
      throw new WalkTimeoutError(version, done, images, await describeQueue(queue));
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return (performance.now() - started) / 1000;
}

async function checkVerdicts(
  dataSource: DataSource,
  version: number,
  images: readonly SeededImage[],
): Promise<void> {
  const signed = images.filter((image) => image.signed).length;
  const expected: Record<string, number> = { verified: signed };
  if (images.length > signed) expected['unsigned'] = images.length - signed;
  const rows: Array<{ status: string; n: number }> = await dataSource.query(
    `SELECT status, count(*)::int AS n FROM signature_verdicts WHERE policy_version = $1
      GROUP BY status ORDER BY status`,
    [version],
  );
  const found = Object.fromEntries(rows.map((row) => [row.status, row.n]));
  const matches =
    rows.length === Object.keys(expected).length &&
    rows.every((row) => expected[row.status] === row.n);
  if (!matches) throw new UnexpectedVerdictsError(expected, found);
}

function requireKeyPolicy(host: string, key: CosignKey): TrustPolicy {
  return {
    default: [{ type: 'accept' }],
    scopes: {
      [`${host}/bench`]: [
        {
          type: 'signedBy',
          anchors: [{ kind: 'publicKey', name: 'bench', publicKeyPem: key.publicKeyPem }],
          signedIdentity: { type: 'matchRepository' },
        },
      ],
    },
  };
}

async function run(
  config: TestConfig,
  standIn: SignatureRegistryStandIn,
  dataSource: DataSource,
  images: SeededImage[],
  key: CosignKey,
): Promise<void> {
  // Warnings and errors go to stderr, so that stdout carries only the result line.
  const logger = pino({ level: 'warn' }, pino.destination(2));
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker(config, logger, { schedule: false });
    const queue = worker.app.get<Queue>(getQueueToken(QueueName.Signatures));

    const acceptAll = await insertPolicy(dataSource, { default: [{ type: 'accept' }], scopes: {} });
    const firstSeconds = await walk(dataSource, queue, acceptAll, images.length);
    console.error(`untimed walk under the accept-all policy: ${firstSeconds.toFixed(1)} s`);

    const requireKey = await insertPolicy(dataSource, requireKeyPolicy(standIn.host, key));
    const seconds = await walk(dataSource, queue, requireKey, images.length);
    await checkVerdicts(dataSource, requireKey, images);
    console.log(
      JSON.stringify({
        benchmark: 'reverify-policy',
        images: images.length,
        signed: images.filter((image) => image.signed).length,
        seconds: +seconds.toFixed(1),
        imagesPerSecond: +(images.length / seconds).toFixed(1),
      }),
    );
  } finally {
    if (worker !== undefined) {
      for (const name of Object.values(QueueName)) {
        await worker.app.get<Queue>(getQueueToken(name)).obliterate({ force: true });
      }
      await worker.close();
    }
  }
}

async function main(): Promise<void> {
  const count = readImageCount();
  const standIn = await SignatureRegistryStandIn.start();
  let config: TestConfig | undefined;
  let dataSource: DataSource | undefined;
  try {
    standIn.referrersApi = false;
    const key = generateCosignKey();
    const images = seedRegistry(standIn, key, count);
    config = buildTestConfig(
      'bench-reverify',
      [{ name: 'local', url: standIn.url, hosts: [standIn.host], webhookToken: randomToken() }],
      { WORKER_CONCURRENCY: '4' },
    );
    await migrateTestSchema(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 2,
    });
    await seedDatabase(dataSource, images);
    await run(config, standIn, dataSource, images, key);
  } finally {
    await dataSource?.destroy();
    if (config !== undefined) await dropTestSchema(config);
    await standIn.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
