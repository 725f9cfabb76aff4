import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';

import { AppConfig } from '@app/config';
import { openDataSource, WebhookDeliveryEntity } from '@app/persistence';
import { QueueName } from '@app/queue';
import { TrustPolicy } from '@app/signatures';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { DeliveryHandlerService } from '../../apps/worker/src/ingest/delivery-handler.service';
import { SignatureSchedulerService } from '../../apps/worker/src/signatures/signature-scheduler.service';
import {
  cosignStatement,
  createLocalSigstore,
  dsseBundle,
  issueLeaf,
  LocalSigstore,
} from '../../libs/signatures/test-fixtures/sigstore';
import {
  atomicPayload,
  createGpgSigner,
  EXTENSIONS,
  GpgSigner,
  gpgSign,
  makeTempDir,
  opensslCertificate,
  OpensslCertificate,
} from '../../libs/signatures/test-fixtures/tools';
import { ServedManifest, SignatureRegistryStandIn } from '../support/signature-registry';
import {
  ArtifactManifest,
  CosignKey,
  cosignPayload,
  cosignSignatureManifest,
  cosignTag,
  generateCosignKey,
  NOTARY_SIGNATURE,
  notaryJwsEnvelope,
  NotarySigner,
  referrerManifest,
  SIGSTORE_BUNDLE,
  signPayload,
} from '../support/signing';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

interface VerdictRow {
  status: string;
  signers: Array<Record<string, string>>;
  reasons: Array<Record<string, unknown>>;
  policy_scope: string;
  policy_version: number | null;
}

interface SignatureRow {
  format: string;
  source: string;
  fingerprint: string;
  result: string;
  reason_code: string;
  signer: Record<string, string>;
  signed_digest: string | null;
  docker_reference: string | null;
  policy_version: number | null;
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const ISSUER = 'https://issuer.example.com';
const SUBJECT = 'signer@example.com';
const PINO_WARN = 40;

describe('signature verification in the worker', () => {
  const logLines: LogLine[] = [];
  const trustedKey = generateCosignKey();
  const otherKey = generateCosignKey();
  const temp = makeTempDir('signature-int-');
  let standIn: SignatureRegistryStandIn;
  let config: AppConfig;
  let worker: RunningWorker;
  let dataSource: DataSource;
  let lookasideDir: string;
  let notarySigner: NotarySigner;
  let notaryRoot: OpensslCertificate;
  let sigstore: LocalSigstore;
  let sigstoreLeaf: OpensslCertificate;
  let gpgSigner: GpgSigner;
  let gpgStranger: GpgSigner;
  let eventNumber = 0;

  function policy(): TrustPolicy {
    const host = standIn.host;
    return {
      default: [{ type: 'accept' }],
      scopes: {
        [`${host}/team`]: [
          {
            type: 'signedBy',
            anchors: [
              { kind: 'publicKey', name: 'release', publicKeyPem: trustedKey.publicKeyPem },
            ],
            // cosign signs the repository without a tag.
            signedIdentity: { type: 'matchRepository' },
          },
        ],
        [`${host}/notary`]: [
          {
            type: 'signedBy',
            anchors: [{ kind: 'x509Roots', name: 'notary root', rootsPem: notaryRoot.pem }],
          },
        ],
        [`${host}/bundle`]: [
          {
            type: 'signedBy',
            anchors: [
              {
                kind: 'sigstore',
                name: 'local sigstore',
                trustedRootJson: sigstore.trustedRootJson,
                identities: [{ issuer: ISSUER, subject: SUBJECT }],
                ctlogThreshold: 0,
              },
            ],
          },
        ],
        [`${host}/gpg`]: [
          {
            type: 'signedBy',
            anchors: [{ kind: 'gpgKeys', name: 'gpg', keyring: gpgSigner.armoredPublicKey }],
          },
        ],
      },
    };
  }

  beforeAll(async () => {
    standIn = await SignatureRegistryStandIn.start();
    lookasideDir = mkdtempSync(join(tmpdir(), 'lookaside-int-'));
    const base = buildTestConfig(
      'sigverify',
      [{ name: 'local', url: standIn.url, hosts: [standIn.host], webhookToken: randomToken() }],
      { JOB_BACKOFF_MS: '200', JOB_ATTEMPTS: '4', WORKER_CONCURRENCY: '2' },
    );
    config = {
      ...base,
      registries: base.registries.map((registry) => ({
        ...registry,
        lookaside: pathToFileURL(lookasideDir).href,
      })),
    };

    notaryRoot = opensslCertificate(temp.dir, 'notary-root', {
      subject: '/C=US/ST=WA/O=Test/CN=Notary Root',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.ca,
      days: 30,
    });
    const notaryLeaf = opensslCertificate(temp.dir, 'notary-leaf', {
      subject: '/C=US/ST=WA/O=Test/CN=Notary Signer',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.codeSigningLeaf,
      issuer: notaryRoot,
      days: 10,
    });
    notarySigner = {
      key: createPrivateKey(readFileSync(notaryLeaf.key.privatePath)),
      chain: [notaryLeaf.der, notaryRoot.der],
    };
    sigstore = createLocalSigstore(temp.dir);
    sigstoreLeaf = issueLeaf(temp.dir, sigstore, 'sigstore-leaf', {
      san: `email:${SUBJECT}`,
      issuer: ISSUER,
    });
    gpgSigner = createGpgSigner(temp.dir, 'trusted');
    gpgStranger = createGpgSigner(temp.dir, 'stranger');

    await migrateTestSchema(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 2,
    });
    await insertPolicy(policy());
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logLines.push(JSON.parse(line) as LogLine) },
    );
    worker = await startWorker(config, logger, { schedule: false });
  }, 120_000);

  afterAll(async () => {
    for (const name of Object.values(QueueName)) {
      await worker?.app.get<Queue>(getQueueToken(name)).obliterate({ force: true });
    }
    await worker?.close();
    await dataSource?.destroy();
    if (config) await dropTestSchema(config);
    await standIn?.close();
    rmSync(lookasideDir, { recursive: true, force: true });
    temp.cleanup();
  });

  async function insertPolicy(document: TrustPolicy): Promise<number> {
    const [row] = await dataSource.query(
      `INSERT INTO trust_policies (policy, source, created_by) VALUES ($1, 'api', 'test')
       RETURNING version`,
      [JSON.stringify(document)],
    );
    return row.version;
  }

  /** Runs one outbox row through the worker's delivery handler, as the ingest queue would. */
  async function deliver(
    action: 'push' | 'delete',
    repository: string,
    tag: string | null,
    digest: string | null,
  ) {
    eventNumber += 1;
    const delivery = Object.assign(new WebhookDeliveryEntity(), {
      id: randomUUID(),
      registry: 'local',
      eventId: `signature-test-${eventNumber}`,
      source: 'webhook',
      action,
      repository,
      tag,
      digest,
      mediaType: null,
      eventTime: new Date(),
      requestId: null,
      status: 'processing',
      attempts: 1,
      errorCode: null,
      errorMessage: null,
      detail: null,
      receivedAt: new Date(),
      enqueuedAt: null,
      finishedAt: null,
    });
    return worker.app.get(DeliveryHandlerService).handle(delivery);
  }

  async function waitForVerdict(
    digest: string,
    repository: string,
    status: string,
  ): Promise<VerdictRow> {
    return eventually(
      async () => {
        const [row]: VerdictRow[] = await dataSource.query(
          `SELECT status, signers, reasons, policy_scope, policy_version FROM signature_verdicts
            WHERE digest = $1 AND repository = $2`,
          [digest, repository],
        );
        return row?.status === status ? row : undefined;
      },
      `${repository}@${digest} to be ${status}`,
      60_000,
    );
  }

  async function signaturesOf(digest: string): Promise<SignatureRow[]> {
    return dataSource.query(
      `SELECT format, source, fingerprint, result, reason_code, signer, signed_digest,
              docker_reference, policy_version
         FROM image_signatures WHERE digest = $1 ORDER BY source`,
      [digest],
    );
  }

  function storeArtifact(
    repository: string,
    artifact: ArtifactManifest,
    tag?: string,
  ): ServedManifest {
    for (const blob of artifact.blobs) standIn.addBlob(blob);
    return standIn.addManifest(repository, artifact.bytes, artifact.mediaType, tag);
  }

  /** Stores a cosign `.sig` manifest for `digest` whose payload names `namedDigest`. */
  function addCosignSignature(
    repository: string,
    digest: string,
    key: CosignKey,
    namedDigest = digest,
  ): void {
    const payload = cosignPayload(namedDigest, `${standIn.host}/${repository}`);
    const signature = { payload, signatureBase64: signPayload(key, payload) };
    storeArtifact(repository, cosignSignatureManifest([signature]), cosignTag(digest));
  }

  it('judges cosign signatures found by tag', async () => {
    const signed = standIn.addImage('team/app', 'signed');
    const unsigned = standIn.addImage('team/app', 'unsigned');
    const tampered = standIn.addImage('team/app', 'tampered');
    const foreign = standIn.addImage('team/app', 'other-key');
    addCosignSignature('team/app', signed.digest, trustedKey);
    addCosignSignature('team/app', tampered.digest, trustedKey, signed.digest);
    addCosignSignature('team/app', foreign.digest, otherKey);
    await deliver('push', 'team/app', 'signed', signed.digest);
    await deliver('push', 'team/app', 'unsigned', unsigned.digest);
    await deliver('push', 'team/app', 'tampered', tampered.digest);
    await deliver('push', 'team/app', 'other-key', foreign.digest);

    const verified = await waitForVerdict(signed.digest, 'team/app', 'verified');
    expect(verified.signers).toEqual([
      { keyFingerprint: trustedKey.fingerprint, identity: 'release' },
    ]);
    expect(verified.policy_scope).toBe(`${standIn.host}/team`);
    expect(verified.policy_version).toBe(1);
    expect(verified.reasons[0]).toMatchObject({ code: 'verified', tags: ['signed'] });

    const missing = await waitForVerdict(unsigned.digest, 'team/app', 'unsigned');
    expect(missing.signers).toEqual([]);

    const invalid = await waitForVerdict(tampered.digest, 'team/app', 'invalid');
    expect(invalid.reasons).toContainEqual(
      expect.objectContaining({
        code: 'digest-mismatch',
        format: 'cosign',
        result: 'invalid',
        source: `tag:${cosignTag(tampered.digest)} layer 0`,
      }),
    );

    const untrusted = await waitForVerdict(foreign.digest, 'team/app', 'untrusted');
    expect(untrusted.reasons).toContainEqual(
      expect.objectContaining({ code: 'no-trusted-key', result: 'untrusted' }),
    );

    const [row] = await signaturesOf(signed.digest);
    expect(row).toEqual({
      format: 'cosign',
      source: `tag:${cosignTag(signed.digest)} layer 0`,
      fingerprint: expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
      result: 'valid',
      reason_code: 'signature-valid',
      signer: { keyFingerprint: trustedKey.fingerprint, identity: 'release' },
      signed_digest: signed.digest,
      docker_reference: `${standIn.host}/team/app`,
      policy_version: 1,
    });
    const [tamperedRow] = await signaturesOf(tampered.digest);
    expect(tamperedRow).toMatchObject({ result: 'invalid', signed_digest: signed.digest });
  });

  it('logs and counts invalid signatures', async () => {
    const tamperedWarning = await eventually(
      async () =>
        logLines.find(
          (line) =>
            line.level === PINO_WARN &&
            line.msg === 'invalid signature' &&
            line.repository === 'team/app',
        ),
      'an invalid signature warning',
      30_000,
    );
    expect(tamperedWarning).toMatchObject({
      registry: 'local',
      reasonCode: 'digest-mismatch',
      format: 'cosign',
      digest: expect.stringMatching(/^sha256:/),
      reason: expect.stringContaining('the signature names'),
    });

    const counter = worker.metrics.registry.getSingleMetric(
      'provenance_signature_verifications_total',
    ) as Counter;
    const values = (await counter.get()).values;
    const count = (result: string) =>
      values
        .filter((value) => value.labels.format === 'cosign' && value.labels.result === result)
        .reduce((sum, value) => sum + value.value, 0);
    expect(count('valid')).toBeGreaterThanOrEqual(1);
    expect(count('invalid')).toBeGreaterThanOrEqual(1);
    expect(count('untrusted')).toBeGreaterThanOrEqual(1);
    const exposition = await worker.metrics.registry.metrics();
    expect(exposition).toContain(
      'provenance_signature_verifications_total{format="cosign",result="valid"}',
    );
  });

  it('keeps one verdict per repository', async () => {
    const image = standIn.addImage('team/shared', '1');
    addCosignSignature('team/shared', image.digest, trustedKey);
    standIn.addManifest('plain/shared', image.bytes, image.mediaType, 'copy');
    await deliver('push', 'team/shared', '1', image.digest);
    await deliver('push', 'plain/shared', 'copy', image.digest);

    await waitForVerdict(image.digest, 'team/shared', 'verified');
    const plain = await waitForVerdict(image.digest, 'plain/shared', 'not-required');
    expect(plain.policy_scope).toBe('default');
    const rows = await signaturesOf(image.digest);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.result).toBe('valid');

    // Once the copy is deleted, the next verification drops its verdict.
    await deliver('delete', 'plain/shared', null, image.digest);
    await worker.app.get(SignatureSchedulerService).verify([image.digest], 'requested');
    await eventually(async () => {
      const rows: unknown[] = await dataSource.query(
        `SELECT 1 FROM signature_verdicts WHERE digest = $1 AND repository = 'plain/shared'`,
        [image.digest],
      );
      return rows.length === 0 ? true : undefined;
    }, 'the verdict of the deleted copy to be removed');
  });

  it('stores signatures a policy does not check', async () => {
    const image = standIn.addImage('plain/app', '1');
    addCosignSignature('plain/app', image.digest, trustedKey);
    await deliver('push', 'plain/app', '1', image.digest);

    await waitForVerdict(image.digest, 'plain/app', 'not-required');
    const rows = await eventually(
      async () =>
        (await signaturesOf(image.digest)).length === 1 ? signaturesOf(image.digest) : undefined,
      'the unchecked signature row',
    );
    expect(rows[0]).toMatchObject({ format: 'cosign', result: 'not-checked', signed_digest: null });
  });

  it('follows signature pushes and deletes', async () => {
    const image = standIn.addImage('team/late', '1');
    await deliver('push', 'team/late', '1', image.digest);
    await waitForVerdict(image.digest, 'team/late', 'unsigned');

    addCosignSignature('team/late', image.digest, trustedKey);
    const pushed = await deliver('push', 'team/late', cosignTag(image.digest), image.digest);
    expect(pushed.status).toBe('done');
    await waitForVerdict(image.digest, 'team/late', 'verified');
    expect(await signaturesOf(image.digest)).toHaveLength(1);

    standIn.untag('team/late', cosignTag(image.digest));
    const deleted = await deliver('delete', 'team/late', cosignTag(image.digest), null);
    expect(deleted.status).toBe('done');
    await waitForVerdict(image.digest, 'team/late', 'unsigned');
    await eventually(
      async () => ((await signaturesOf(image.digest)).length === 0 ? true : undefined),
      'the removed signature row to be deleted',
    );
  });

  it('skips a signature for an image not ingested yet', async () => {
    const image = standIn.addImage('team/early', '1');
    addCosignSignature('team/early', image.digest, trustedKey);
    const pushed = await deliver('push', 'team/early', cosignTag(image.digest), image.digest);
    expect(pushed).toEqual({
      status: 'skipped',
      detail: expect.stringContaining('not ingested yet'),
    });

    await deliver('push', 'team/early', '1', image.digest);
    await waitForVerdict(image.digest, 'team/early', 'verified');
  });

  it('verifies a Notary signature pushed as a referrer', async () => {
    standIn.referrersApi = true;
    const image = standIn.addImage('notary/app', '1');
    await deliver('push', 'notary/app', '1', image.digest);
    await waitForVerdict(image.digest, 'notary/app', 'unsigned');

    const envelope = await notaryJwsEnvelope(notarySigner, image);
    const referrer = storeArtifact(
      'notary/app',
      referrerManifest(image, NOTARY_SIGNATURE, [
        { mediaType: 'application/jose+json', bytes: envelope },
      ]),
    );
    const pushed = await deliver('push', 'notary/app', null, referrer.digest);
    expect(pushed.status).toBe('done');

    const verdict = await waitForVerdict(image.digest, 'notary/app', 'verified');
    expect(verdict.signers[0]?.subject).toContain('CN=Notary Signer');
    const [row] = await signaturesOf(image.digest);
    expect(row).toMatchObject({
      format: 'notation',
      source: `referrer:${referrer.digest}`,
      result: 'valid',
    });
    expect(
      standIn.countRequests(new RegExp(`GET /v2/notary/app/referrers/${image.digest}`)),
    ).toBeGreaterThan(0);
  });

  it('reads Sigstore bundles through the referrers tag', async () => {
    standIn.referrersApi = false;
    try {
      const image = standIn.addImage('bundle/app', '1');
      const other = standIn.addImage('bundle/app', '2');
      const bundle = Buffer.from(
        dsseBundle(cosignStatement(image.digest), {
          sigstore,
          leaf: sigstoreLeaf,
          version: '0.3',
        }),
      );
      const good = storeArtifact(
        'bundle/app',
        referrerManifest(image, SIGSTORE_BUNDLE, [{ mediaType: SIGSTORE_BUNDLE, bytes: bundle }]),
      );
      // Listed under the image, but its own subject names another image.
      const stray = storeArtifact(
        'bundle/app',
        referrerManifest(other, SIGSTORE_BUNDLE, [{ mediaType: SIGSTORE_BUNDLE, bytes: bundle }]),
      );
      const index = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [good, stray].map((entry) => ({
          mediaType: entry.mediaType,
          digest: entry.digest,
          size: entry.size,
          artifactType: SIGSTORE_BUNDLE,
        })),
      };
      standIn.addManifest(
        'bundle/app',
        JSON.stringify(index),
        'application/vnd.oci.image.index.v1+json',
        image.digest.replace(':', '-'),
      );
      await deliver('push', 'bundle/app', '1', image.digest);

      const verdict = await waitForVerdict(image.digest, 'bundle/app', 'verified');
      expect(verdict.signers[0]).toMatchObject({ subject: SUBJECT, issuer: ISSUER });
      expect(verdict.reasons).toContainEqual(
        expect.objectContaining({
          code: 'referrer-subject-mismatch',
          source: `referrer:${stray.digest}`,
        }),
      );
      const rows = await signaturesOf(image.digest);
      expect(rows.map((row) => [row.format, row.result])).toEqual([['sigstore-bundle', 'valid']]);
    } finally {
      standIn.referrersApi = true;
    }
  });

  it('verifies GPG signatures from the lookaside store', async () => {
    const image = standIn.addImage('gpg/app', '1');
    const reference = `${standIn.host}/gpg/app:1`;
    const directory = join(lookasideDir, 'gpg', `app@${image.digest.replace(':', '=')}`);
    mkdirSync(directory, { recursive: true });
    writeFileSync(
      join(directory, 'signature-1'),
      gpgSign(gpgStranger, atomicPayload(image.digest, reference)),
    );
    writeFileSync(
      join(directory, 'signature-2'),
      gpgSign(gpgSigner, atomicPayload(image.digest, reference)),
    );
    await deliver('push', 'gpg/app', '1', image.digest);

    const verdict = await waitForVerdict(image.digest, 'gpg/app', 'verified');
    expect(verdict.signers).toEqual([{ keyFingerprint: gpgSigner.fingerprint, identity: 'gpg' }]);
    const rows = await signaturesOf(image.digest);
    expect(rows.map((row) => [row.source, row.format, row.result])).toEqual([
      ['lookaside:signature-1', 'gpg', 'untrusted'],
      ['lookaside:signature-2', 'gpg', 'valid'],
    ]);
    expect(rows[1]?.docker_reference).toBe(reference);
  });

  it('judges an index and its platforms apart', async () => {
    const amd64 = standIn.addImage('team/multi', undefined, { architecture: 'amd64' });
    const arm64 = standIn.addImage('team/multi', undefined, { architecture: 'arm64' });
    const index = standIn.addIndex('team/multi', '1', [
      { manifest: amd64, architecture: 'amd64' },
      { manifest: arm64, architecture: 'arm64' },
    ]);
    addCosignSignature('team/multi', index.digest, trustedKey);
    addCosignSignature('team/multi', arm64.digest, trustedKey);
    await deliver('push', 'team/multi', '1', index.digest);

    await waitForVerdict(index.digest, 'team/multi', 'verified');
    await waitForVerdict(arm64.digest, 'team/multi', 'verified');
    // The index signature covers the index digest only, so the amd64 manifest is unsigned.
    const platform = await waitForVerdict(amd64.digest, 'team/multi', 'unsigned');
    expect(platform.reasons[0]).toMatchObject({ code: 'unsigned', tags: ['1'] });
  });

  it('retries transient registry errors', async () => {
    const image = standIn.addImage('team/flaky', '1');
    addCosignSignature('team/flaky', image.digest, trustedKey);
    const sigPath = new RegExp(`^GET /v2/team/flaky/manifests/${cosignTag(image.digest)}`);
    // The client tries each request 5 times, so 6 failures make the first job attempt fail.
    standIn.failNext(sigPath, 6, 503);
    await deliver('push', 'team/flaky', '1', image.digest);

    await waitForVerdict(image.digest, 'team/flaky', 'verified');
    expect(standIn.countRequests(sigPath)).toBeGreaterThanOrEqual(7);
    expect(
      logLines.some(
        (line) => line.msg === 'signature job failed, will retry' && line.digest === image.digest,
      ),
    ).toBe(true);
  }, 60_000);

  it('records an unreadable signature manifest', async () => {
    const image = standIn.addImage('team/broken', '1');
    standIn.addManifest(
      'team/broken',
      'not json',
      'application/vnd.oci.image.manifest.v1+json',
      cosignTag(image.digest),
    );
    await deliver('push', 'team/broken', '1', image.digest);

    const verdict = await waitForVerdict(image.digest, 'team/broken', 'unsigned');
    expect(verdict.reasons).toContainEqual(
      expect.objectContaining({
        code: 'signature-manifest-invalid',
        source: `tag:${cosignTag(image.digest)}`,
      }),
    );
  });
});
