import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';

import { createTestApiKey, getJson, RunningApi, startApi } from '../support/api-client';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';

const config = buildTestConfig('signatures_api', [
  // Port 9 (discard) on loopback: these tests never contact a registry.
  {
    name: 'local',
    url: 'http://127.0.0.1:9',
    hosts: ['127.0.0.1:5000'],
    webhookToken: randomToken(),
  },
]);

/** A parsed JSON body; tests assert on it field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

const digestOf = (character: string) => `sha256:${character.repeat(64)}`;
/** A multi-platform index and its two platform manifests. */
const INDEX = digestOf('1');
const AMD64 = digestOf('2');
const ARM64 = digestOf('3');
/** A single-platform image pushed to two repositories. */
const APP = digestOf('4');
/** An unsigned image in team/app. */
const UNSIGNED = digestOf('5');
/** An image whose signatures were never checked. */
const UNCHECKED = digestOf('6');
const ABSENT = digestOf('f');

interface VerdictInput {
  digest: string;
  repository: string;
  status: string;
  signers?: unknown[];
  reasons?: unknown[];
  policyScope?: string;
  policyVersion?: number | null;
}

interface SignatureInput {
  digest: string;
  format: string;
  source: string;
  fingerprint: string;
  result: string;
  reasonCode: string;
  reason: string;
  signer: Record<string, string>;
  signedDigest: string;
  dockerReference: string | null;
  policyVersion: number | null;
}

async function insertImage(
  dataSource: DataSource,
  digest: string,
  kind: 'image' | 'index',
  repositories: string[],
  firstSeen: string,
): Promise<void> {
  await dataSource.query(
    `INSERT INTO images (digest, media_type, kind, size, architecture, os, layer_count, first_seen_at)
     VALUES ($1, $2, $3, 1000, $4, $5, $6, $7)`,
    [
      digest,
      kind === 'index'
        ? 'application/vnd.oci.image.index.v1+json'
        : 'application/vnd.oci.image.manifest.v1+json',
      kind,
      kind === 'index' ? null : 'amd64',
      kind === 'index' ? null : 'linux',
      kind === 'index' ? 0 : 2,
      firstSeen,
    ],
  );
  for (const repository of repositories) {
    await dataSource.query(
      `INSERT INTO repository_images (registry, repository, digest) VALUES ('local', $1, $2)`,
      [repository, digest],
    );
  }
  await dataSource.query(
    `INSERT INTO freshness (digest, status, reasons) VALUES ($1, 'fresh', '[]')`,
    [digest],
  );
}

async function insertVerdict(dataSource: DataSource, verdict: VerdictInput): Promise<void> {
  await dataSource.query(
    `INSERT INTO signature_verdicts
       (digest, registry, repository, status, signers, reasons, policy_scope, policy_version, checked_at)
     VALUES ($1, 'local', $2, $3, $4, $5, $6, $7, '2026-01-02T03:04:05Z')`,
    [
      verdict.digest,
      verdict.repository,
      verdict.status,
      JSON.stringify(verdict.signers ?? []),
      JSON.stringify(verdict.reasons ?? []),
      verdict.policyScope ?? '127.0.0.1:5000/team',
      verdict.policyVersion === undefined ? 7 : verdict.policyVersion,
    ],
  );
}

async function insertSignature(dataSource: DataSource, signature: SignatureInput): Promise<void> {
  await dataSource.query(
    `INSERT INTO image_signatures
       (digest, format, source, fingerprint, result, reason_code, reason, signer, signed_digest,
        docker_reference, policy_version, checked_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '2026-01-02T03:04:05Z')`,
    [
      signature.digest,
      signature.format,
      signature.source,
      signature.fingerprint,
      signature.result,
      signature.reasonCode,
      signature.reason,
      JSON.stringify(signature.signer),
      signature.signedDigest,
      signature.dockerReference,
      signature.policyVersion,
    ],
  );
}

const CI_SIGNER = { identity: 'ci key', keyFingerprint: 'ab'.repeat(32) };

describe('signature read API', () => {
  let api: RunningApi;
  let dataSource: DataSource;
  let queue: Queue;
  let ciKey: string;
  let securityKey: string;

  async function post(path: string, key: string): Promise<{ status: number; body: JsonBody }> {
    const response = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  async function listDigests(query: string, key: string): Promise<string[]> {
    const response = await getJson(`${api.url}/v1/images?${query}`, key);
    expect(response.status).toBe(200);
    return response.body.items.map((item: { digest: string }) => item.digest);
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

    await insertImage(dataSource, INDEX, 'index', ['team/multi'], '2026-01-01T00:00:01Z');
    await insertImage(dataSource, AMD64, 'image', ['team/multi'], '2026-01-01T00:00:02Z');
    await insertImage(dataSource, ARM64, 'image', ['team/multi'], '2026-01-01T00:00:03Z');
    await insertImage(
      dataSource,
      APP,
      'image',
      ['team/app', 'team/mirror'],
      '2026-01-01T00:00:04Z',
    );
    await insertImage(dataSource, UNSIGNED, 'image', ['team/app'], '2026-01-01T00:00:05Z');
    await insertImage(dataSource, UNCHECKED, 'image', ['team/app'], '2026-01-01T00:00:06Z');
    for (const [position, child, architecture] of [
      [0, AMD64, 'amd64'],
      [1, ARM64, 'arm64'],
    ] as const) {
      await dataSource.query(
        `INSERT INTO index_children (index_digest, position, child_digest, platform_os, platform_architecture)
         VALUES ($1, $2, $3, 'linux', $4)`,
        [INDEX, position, child, architecture],
      );
    }
    await dataSource.query(
      `INSERT INTO tags (registry, repository, name, digest) VALUES
         ('local', 'team/app', '1', $1), ('local', 'team/mirror', '1', $1),
         ('local', 'team/app', 'unsigned', $2), ('local', 'team/app', 'new', $3),
         ('local', 'team/multi', '1', $4)`,
      [APP, UNSIGNED, UNCHECKED, INDEX],
    );

    await insertSignature(dataSource, {
      digest: INDEX,
      format: 'cosign',
      source: `tag:sha256-${'1'.repeat(64)}.sig`,
      fingerprint: 'f1',
      result: 'valid',
      reasonCode: 'verified',
      reason: 'signed by a trusted key',
      signer: CI_SIGNER,
      signedDigest: INDEX,
      dockerReference: '127.0.0.1:5000/team/multi',
      policyVersion: 7,
    });
    await insertSignature(dataSource, {
      digest: AMD64,
      format: 'gpg',
      source: 'lookaside:signature-1',
      fingerprint: 'f2',
      result: 'invalid',
      reasonCode: 'digest-mismatch',
      reason: `the payload names ${ABSENT}`,
      signer: { keyFingerprint: 'ABCDEF0123' },
      signedDigest: ABSENT,
      dockerReference: '127.0.0.1:5000/team/multi:1',
      policyVersion: 7,
    });
    await insertSignature(dataSource, {
      digest: APP,
      format: 'notation',
      source: `referrer:${digestOf('9')}`,
      fingerprint: 'f3',
      result: 'valid',
      reasonCode: 'verified',
      reason: 'chain to a trusted root',
      signer: { identity: 'CN=release,O=Example', subject: 'CN=release,O=Example' },
      signedDigest: APP,
      dockerReference: null,
      policyVersion: 7,
    });

    await insertVerdict(dataSource, {
      digest: INDEX,
      repository: 'team/multi',
      status: 'verified',
      signers: [CI_SIGNER],
    });
    await insertVerdict(dataSource, {
      digest: AMD64,
      repository: 'team/multi',
      status: 'invalid',
      reasons: [{ code: 'digest-mismatch', message: 'a signature names another digest' }],
    });
    await insertVerdict(dataSource, {
      digest: APP,
      repository: 'team/app',
      status: 'verified',
      signers: [{ identity: 'CN=release,O=Example' }],
    });
    await insertVerdict(dataSource, {
      digest: APP,
      repository: 'team/mirror',
      status: 'unsigned',
      reasons: ['no signatures were found'],
      policyScope: 'default',
    });
    await insertVerdict(dataSource, {
      digest: UNSIGNED,
      repository: 'team/app',
      status: 'unsigned',
      reasons: ['no signatures were found'],
      policyVersion: null,
    });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  describe('GET /v1/images/{digest}/signatures', () => {
    it('lists index and platform signatures for an index', async () => {
      const response = await getJson(`${api.url}/v1/images/${INDEX}/signatures`, securityKey);

      expect(response.status).toBe(200);
      expect(response.body.digest).toBe(INDEX);
      expect(response.body.kind).toBe('index');
      expect(response.body.signatures).toEqual([
        {
          format: 'cosign',
          source: `tag:sha256-${'1'.repeat(64)}.sig`,
          manifest: { digest: INDEX, relation: 'self', platform: null },
          signer: CI_SIGNER,
          result: 'valid',
          reasonCode: 'verified',
          reason: 'signed by a trusted key',
          signedDigest: INDEX,
          dockerReference: '127.0.0.1:5000/team/multi',
          policyVersion: 7,
          checkedAt: '2026-01-02T03:04:05.000Z',
        },
        expect.objectContaining({
          format: 'gpg',
          manifest: { digest: AMD64, relation: 'platform', platform: 'linux/amd64' },
          signer: { keyFingerprint: 'ABCDEF0123' },
          result: 'invalid',
          reasonCode: 'digest-mismatch',
        }),
      ]);
      expect(response.body.verdicts).toEqual([
        {
          registry: 'local',
          repository: 'team/multi',
          status: 'verified',
          signers: [CI_SIGNER],
          reasons: [],
          policyScope: '127.0.0.1:5000/team',
          policyVersion: 7,
          checkedAt: '2026-01-02T03:04:05.000Z',
        },
      ]);
    });

    it('lists the index signature for a platform image', async () => {
      const response = await getJson(`${api.url}/v1/images/${AMD64}/signatures`, securityKey);

      expect(response.status).toBe(200);
      expect(response.body.kind).toBe('image');
      const carriers = response.body.signatures.map(
        (signature: { manifest: unknown }) => signature.manifest,
      );
      expect(carriers).toEqual([
        { digest: AMD64, relation: 'self', platform: null },
        { digest: INDEX, relation: 'index', platform: 'linux/amd64' },
      ]);
      expect(response.body.verdicts.map((verdict: { status: string }) => verdict.status)).toEqual([
        'invalid',
      ]);
    });

    it('returns empty lists for a platform without signatures of its own', async () => {
      const response = await getJson(`${api.url}/v1/images/${ARM64}/signatures`, securityKey);

      expect(response.status).toBe(200);
      expect(response.body.verdicts).toEqual([]);
      expect(response.body.signatures).toHaveLength(1);
      expect(response.body.signatures[0].manifest.relation).toBe('index');
    });

    it('returns each repository verdict of an image', async () => {
      const response = await getJson(`${api.url}/v1/images/${APP}/signatures`, securityKey);

      expect(response.body.signatures).toHaveLength(1);
      expect(response.body.signatures[0].signer).toEqual({
        identity: 'CN=release,O=Example',
        subject: 'CN=release,O=Example',
      });
      expect(
        response.body.verdicts.map((verdict: { repository: string; status: string }) => [
          verdict.repository,
          verdict.status,
        ]),
      ).toEqual([
        ['team/app', 'verified'],
        ['team/mirror', 'unsigned'],
      ]);
    });

    it('rejects the ci role', async () => {
      const response = await getJson(`${api.url}/v1/images/${APP}/signatures`, ciKey);

      expect(response.status).toBe(403);
    });

    it('returns 404 for an unknown image', async () => {
      const response = await getJson(`${api.url}/v1/images/${ABSENT}/signatures`, securityKey);

      expect(response.status).toBe(404);
      expect(response.body.detail).toContain(ABSENT);
    });

    it('returns 400 for an invalid digest', async () => {
      const response = await getJson(`${api.url}/v1/images/sha256:abc/signatures`, securityKey);

      expect(response.status).toBe(400);
    });
  });

  describe('POST /v1/images/{digest}/verify', () => {
    it('enqueues a requested verification', async () => {
      const response = await post(`/v1/images/${APP}/verify`, securityKey);

      expect(response.status).toBe(202);
      expect(response.body.digest).toBe(APP);
      expect(response.body.cause).toBe('requested');
      const job = await queue.getJob(response.body.jobId);
      expect(job?.name).toBe(JobName.VerifyImage);
      expect(job?.data).toEqual({ digest: APP, cause: 'requested' });
    });

    it('returns 404 for an unknown image and enqueues nothing', async () => {
      const waiting = await queue.getWaitingCount();

      const response = await post(`/v1/images/${ABSENT}/verify`, securityKey);

      expect(response.status).toBe(404);
      expect(await queue.getWaitingCount()).toBe(waiting);
    });

    it('rejects the ci role', async () => {
      const response = await post(`/v1/images/${APP}/verify`, ciKey);

      expect(response.status).toBe(403);
    });
  });

  describe('GET /v1/images?signature=', () => {
    it.each([
      ['verified', [APP, INDEX]],
      ['unsigned', [UNSIGNED, APP]],
      ['invalid', [AMD64]],
      ['untrusted', []],
      ['not-required', []],
      ['rejected', []],
    ])('lists the images whose verdict is %s', async (status, expected) => {
      expect(await listDigests(`signature=${status}`, securityKey)).toEqual(expected);
    });

    it('never lists an image without a verdict', async () => {
      for (const status of ['verified', 'unsigned', 'untrusted', 'invalid']) {
        expect(await listDigests(`signature=${status}`, securityKey)).not.toContain(UNCHECKED);
      }
    });

    it('matches the verdict in the repository filtered on', async () => {
      expect(await listDigests('signature=unsigned&repository=team/app', securityKey)).toEqual([
        UNSIGNED,
      ]);
      expect(await listDigests('signature=unsigned&repository=team/mirror', securityKey)).toEqual([
        APP,
      ]);
      expect(await listDigests('signature=verified&repository=team/mirror', securityKey)).toEqual(
        [],
      );
    });

    it('rejects an unknown status', async () => {
      const response = await getJson(`${api.url}/v1/images?signature=signed`, securityKey);

      expect(response.status).toBe(400);
      expect(response.body.detail).toContain('not-required');
    });

    it('rejects the filter for the ci role', async () => {
      const response = await getJson(`${api.url}/v1/images?signature=verified`, ciKey);

      expect(response.status).toBe(403);
      expect(response.body.detail).toContain('security role');
    });

    it('adds the signature summary to each listed image', async () => {
      const response = await getJson(`${api.url}/v1/images`, ciKey);

      const byDigest = new Map<string, { signature: { status: string } | null }>(
        response.body.items.map((item: { digest: string }) => [item.digest, item]),
      );
      expect(byDigest.get(UNCHECKED)?.signature).toBeNull();
      expect(byDigest.get(INDEX)?.signature?.status).toBe('verified');
      expect(byDigest.get(APP)?.signature?.status).toBe('unsigned');
    });
  });

  describe('signature summary in freshness and image responses', () => {
    it('carries the verdict of the referenced repository', async () => {
      const app = await getJson(`${api.url}/v1/freshness?image=127.0.0.1:5000/team/app:1`, ciKey);
      const mirror = await getJson(
        `${api.url}/v1/freshness?image=127.0.0.1:5000/team/mirror:1`,
        ciKey,
      );

      expect(app.status).toBe(200);
      expect(app.body.digest).toBe(APP);
      expect(app.body.signature).toEqual({
        status: 'verified',
        signers: [{ identity: 'CN=release,O=Example' }],
        reasons: [],
        policyScope: '127.0.0.1:5000/team',
        policyVersion: 7,
        checkedAt: '2026-01-02T03:04:05.000Z',
      });
      expect(mirror.body.signature.status).toBe('unsigned');
      expect(mirror.body.signature.reasons).toEqual(['no signatures were found']);
    });

    it('carries the verdict of a digest reference', async () => {
      const response = await getJson(
        `${api.url}/v1/freshness?image=127.0.0.1:5000/team/multi@${INDEX}`,
        ciKey,
      );

      expect(response.status).toBe(200);
      expect(response.body.signature.status).toBe('verified');
      expect(response.body.signature.signers).toEqual([CI_SIGNER]);
    });

    it('is null until the image was checked', async () => {
      const response = await getJson(
        `${api.url}/v1/freshness?image=127.0.0.1:5000/team/app:new`,
        ciKey,
      );

      expect(response.status).toBe(200);
      expect(response.body.signature).toBeNull();
    });

    it('keeps a null policy version of the accept-all policy', async () => {
      const response = await getJson(
        `${api.url}/v1/freshness?image=127.0.0.1:5000/team/app:unsigned`,
        ciKey,
      );

      expect(response.body.signature.status).toBe('unsigned');
      expect(response.body.signature.policyVersion).toBeNull();
    });

    it('summarizes every repository in the image detail', async () => {
      const response = await getJson(`${api.url}/v1/images/${APP}`, ciKey);

      expect(response.status).toBe(200);
      expect(response.body.signature.status).toBe('unsigned');
      expect(response.body.signature.policyScope).toBe('default');
      expect(response.body.signature.repositories).toEqual([
        { registry: 'local', repository: 'team/app', status: 'verified' },
        { registry: 'local', repository: 'team/mirror', status: 'unsigned' },
      ]);
    });

    it('is null in the detail of an unchecked image', async () => {
      const response = await getJson(`${api.url}/v1/images/${UNCHECKED}`, ciKey);

      expect(response.status).toBe(200);
      expect(response.body.signature).toBeNull();
    });
  });
});
