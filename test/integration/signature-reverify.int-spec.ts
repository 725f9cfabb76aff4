import { createHash } from 'node:crypto';

import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import pino from 'pino';
import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';
import { JobName, QueueName, ReverifyPolicyJobData } from '@app/queue';
import { TrustPolicy } from '@app/signatures';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import {
  PolicyReverificationService,
  REVERIFY_BATCH_SIZE,
} from '../../apps/worker/src/signatures/policy-reverification.service';
import { SignatureRegistryStandIn } from '../support/signature-registry';
import {
  CosignKey,
  cosignPayload,
  cosignSignatureManifest,
  cosignTag,
  generateCosignKey,
  signPayload,
} from '../support/signing';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

/** More than two batches, so the walk needs three ReverifyPolicy jobs. */
const BULK_IMAGES = 2 * REVERIFY_BATCH_SIZE + 50;

function sha(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

describe('policy re-verification', () => {
  const keyOne = generateCosignKey();
  const keyTwo = generateCosignKey();
  const signedByOne = sha('signed by one');
  const signedByTwo = sha('signed by two');
  const index = sha('index');
  const platforms = [sha('platform amd64'), sha('platform arm64')];
  const bulk = Array.from({ length: BULK_IMAGES }, (_, number) => sha(`bulk ${number}`));
  let standIn: SignatureRegistryStandIn;
  let config: ReturnType<typeof buildTestConfig>;
  let worker: RunningWorker;
  let dataSource: DataSource;
  let queue: Queue;

  function teamPolicy(key: CosignKey, defaultRequirement: TrustPolicy['default']): TrustPolicy {
    return {
      default: defaultRequirement,
      scopes: {
        [`${standIn.host}/team`]: [
          {
            type: 'signedBy',
            anchors: [{ kind: 'publicKey', publicKeyPem: key.publicKeyPem }],
            signedIdentity: { type: 'matchRepository' },
          },
        ],
      },
    };
  }

  async function insertImage(digest: string, repository: string, tag?: string): Promise<void> {
    await dataSource.query(
      `INSERT INTO images (digest, media_type, kind, size)
       VALUES ($1, 'application/vnd.oci.image.manifest.v1+json', 'image', 500)`,
      [digest],
    );
    await dataSource.query(
      `INSERT INTO repository_images (registry, repository, digest) VALUES ('local', $1, $2)`,
      [repository, digest],
    );
    if (tag !== undefined) {
      await dataSource.query(
        `INSERT INTO tags (registry, repository, name, digest) VALUES ('local', $1, $2, $3)`,
        [repository, tag, digest],
      );
    }
  }

  function addCosignSignature(repository: string, digest: string, key: CosignKey): void {
    const payload = cosignPayload(digest, `${standIn.host}/${repository}`);
    const manifest = cosignSignatureManifest([
      { payload, signatureBase64: signPayload(key, payload) },
    ]);
    for (const blob of manifest.blobs) standIn.addBlob(blob);
    standIn.addManifest(repository, manifest.bytes, manifest.mediaType, cosignTag(digest));
  }

  async function insertPolicy(document: TrustPolicy): Promise<number> {
    const [row] = await dataSource.query(
      `INSERT INTO trust_policies (policy, source, created_by) VALUES ($1, 'api', 'test')
       RETURNING version`,
      [JSON.stringify(document)],
    );
    return row.version;
  }

  async function statusOf(digest: string, repository: string): Promise<[string, number] | null> {
    const [row] = await dataSource.query(
      `SELECT status, policy_version FROM signature_verdicts WHERE digest = $1 AND repository = $2`,
      [digest, repository],
    );
    return row ? [row.status, row.policy_version] : null;
  }

  async function countVerdicts(status: string, version: number): Promise<number> {
    const [row] = await dataSource.query(
      `SELECT count(*)::int AS n FROM signature_verdicts WHERE status = $1 AND policy_version = $2`,
      [status, version],
    );
    return row.n;
  }

  async function reverifyJobs(version: number): Promise<Job<ReverifyPolicyJobData>[]> {
    const jobs: Job<ReverifyPolicyJobData>[] = await queue.getJobs(['completed']);
    return jobs.filter(
      (job) => job.name === JobName.ReverifyPolicy && job.data.policyVersion === version,
    );
  }

  beforeAll(async () => {
    standIn = await SignatureRegistryStandIn.start();
    // Distribution 2.8 has no referrers API, so each digest costs a 404 and a referrers tag lookup.
    standIn.referrersApi = false;
    config = buildTestConfig(
      'sigreverify',
      [{ name: 'local', url: standIn.url, hosts: [standIn.host], webhookToken: randomToken() }],
      { WORKER_CONCURRENCY: '4' },
    );
    await migrateTestSchema(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 2,
    });

    await insertImage(signedByOne, 'team/app', 'one');
    await insertImage(signedByTwo, 'team/app', 'two');
    addCosignSignature('team/app', signedByOne, keyOne);
    addCosignSignature('team/app', signedByTwo, keyTwo);
    await dataSource.query(
      `INSERT INTO images (digest, media_type, kind, size)
       VALUES ($1, 'application/vnd.oci.image.index.v1+json', 'index', 300)`,
      [index],
    );
    await dataSource.query(
      `INSERT INTO repository_images (registry, repository, digest) VALUES ('local', 'team/multi', $1)`,
      [index],
    );
    await dataSource.query(
      `INSERT INTO tags (registry, repository, name, digest) VALUES ('local', 'team/multi', 'm', $1)`,
      [index],
    );
    for (const [position, platform] of platforms.entries()) {
      await insertImage(platform, 'team/multi');
      await dataSource.query(
        `INSERT INTO index_children (index_digest, position, child_digest) VALUES ($1, $2, $3)`,
        [index, position, platform],
      );
    }
    addCosignSignature('team/multi', platforms[1] as string, keyTwo);
    for (const digest of bulk) await insertImage(digest, 'bulk/app');

    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    queue = worker.app.get<Queue>(getQueueToken(QueueName.Signatures));
  }, 120_000);

  afterAll(async () => {
    for (const name of Object.values(QueueName)) {
      await worker?.app.get<Queue>(getQueueToken(name)).obliterate({ force: true });
    }
    await worker?.close();
    await dataSource?.destroy();
    if (config) await dropTestSchema(config);
    await standIn?.close();
  });

  it('skips the periodic walk without a policy', async () => {
    const outcome = await worker.app.get(PolicyReverificationService).startFullWalk();

    expect(outcome).toEqual({
      status: 'skipped',
      detail: 'No trust policy is saved; every image is not-required.',
    });
  });

  it('walks every image when a policy is saved', async () => {
    const first = await insertPolicy(teamPolicy(keyOne, [{ type: 'accept' }]));
    await queue.add(JobName.ReverifyPolicy, { policyVersion: first });

    await eventually(
      async () => ((await countVerdicts('not-required', first)) === BULK_IMAGES ? true : undefined),
      `${BULK_IMAGES} not-required verdicts under version ${first}`,
      120_000,
      250,
    );
    await eventually(
      async () =>
        (await statusOf(platforms[1] as string, 'team/multi'))?.[0] === 'untrusted'
          ? true
          : undefined,
      'the arm64 platform to be judged through its index',
    );
    expect(await statusOf(signedByOne, 'team/app')).toEqual(['verified', first]);
    expect(await statusOf(signedByTwo, 'team/app')).toEqual(['untrusted', first]);
    expect(await statusOf(index, 'team/multi')).toEqual(['unsigned', first]);
    expect(await statusOf(platforms[0] as string, 'team/multi')).toEqual(['unsigned', first]);

    const second = await insertPolicy(teamPolicy(keyTwo, [{ type: 'reject' }]));
    await queue.add(JobName.ReverifyPolicy, { policyVersion: second });

    await eventually(
      async () => ((await countVerdicts('rejected', second)) === BULK_IMAGES ? true : undefined),
      `${BULK_IMAGES} rejected verdicts under version ${second}`,
      120_000,
      250,
    );
    await eventually(
      async () =>
        (await statusOf(platforms[1] as string, 'team/multi'))?.[0] === 'verified'
          ? true
          : undefined,
      'the arm64 platform to follow the new key',
    );
    expect(await statusOf(signedByOne, 'team/app')).toEqual(['untrusted', second]);
    expect(await statusOf(signedByTwo, 'team/app')).toEqual(['verified', second]);

    const walk = await eventually(async () => {
      const jobs = await reverifyJobs(second);
      return jobs.length === 3 ? jobs : undefined;
    }, 'three ReverifyPolicy jobs for the second version');
    const cursors = walk.map((job) => job.data.afterDigest ?? null).sort();
    const walked = [signedByOne, signedByTwo, index, ...bulk].sort();
    expect(cursors).toEqual(
      [null, walked[REVERIFY_BATCH_SIZE - 1], walked[2 * REVERIFY_BATCH_SIZE - 1]].sort(),
    );
  }, 300_000);

  it('skips the walk of a superseded version', async () => {
    const job = await queue.add(JobName.ReverifyPolicy, { policyVersion: 1 });
    const finished = await eventually(async () => {
      const current = await Job.fromId(queue, job.id as string);
      return current?.finishedOn ? current : undefined;
    }, 'the superseded walk to finish');
    expect(finished.returnvalue).toBe(
      'skipped: Trust policy version 1 was superseded by version 2.',
    );
  });

  it('starts the periodic walk under the newest version', async () => {
    const maintenance = worker.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    await maintenance.add(JobName.ReverifyAll, {});

    const walk = await eventually(async () => {
      const jobs = await reverifyJobs(2);
      return jobs.find(
        (job) => job.data.afterDigest === undefined && job.timestamp > Date.now() - 30_000,
      );
    }, 'the periodic walk to start under version 2');
    expect(walk.data).toEqual({ policyVersion: 2 });
  });
});
