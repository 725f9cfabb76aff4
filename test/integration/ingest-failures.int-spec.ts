import pino from 'pino';
import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { ReconcileService } from '../../apps/worker/src/maintenance/reconcile.service';
import { createTestApiKey, getJson, RunningApi, startApi } from '../support/api-client';
import { envelope, manifestPushEvent, V1_EVENTS } from '../support/distribution-events';
import { SignatureRegistryStandIn } from '../support/signature-registry';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('ingest of bad content and failing registries', () => {
  const token = randomToken();
  let registry: SignatureRegistryStandIn;
  let config: ReturnType<typeof buildTestConfig>;
  let api: RunningApi;
  let worker: RunningWorker;
  let dataSource: DataSource;
  let apiKey: string;

  beforeAll(async () => {
    registry = await SignatureRegistryStandIn.start();
    config = buildTestConfig(
      'failures',
      [{ name: 'fake', url: registry.url, hosts: [registry.host], webhookToken: token }],
      { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '50' },
    );
    await migrateTestSchema(config);
    api = await startApi(config);
    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
    apiKey = await createTestApiKey(config, 'security');
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await dataSource.destroy();
    await registry.close();
    await dropTestSchema(config);
  });

  /** Posts one manifest push and waits until its delivery finishes; returns the delivery. */
  async function pushAndWait(repository: string, digest: string, tag?: string) {
    const response = await fetch(`${api.url}/v1/webhooks/distribution/fake`, {
      method: 'POST',
      headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}` },
      body: envelope(manifestPushEvent({ repository, digest, tag, host: registry.host })),
    });
    const receipt = (await response.json()) as { deliveries: string[] };
    return eventually(
      async () => {
        const { body } = await getJson(`${api.url}/v1/deliveries/${receipt.deliveries[0]}`, apiKey);
        return ['done', 'failed', 'skipped'].includes(body.status) ? body : undefined;
      },
      `delivery of ${repository}@${digest} to finish`,
      60_000,
    );
  }

  it('records a body whose hash differs from its digest', async () => {
    const { digest } = registry.addImage('bad/tampered', '1', { layers: ['layer a'] });
    registry.tamper(digest, '{"schemaVersion":2,"tampered":true}');

    const delivery = await pushAndWait('bad/tampered', digest, '1');

    expect(delivery.status).toBe('failed');
    expect(delivery.error.code).toBe('digest-mismatch');
    expect(delivery.attempts).toBe(1);
  });

  it('records a config whose diff_ids do not match the layers', async () => {
    const { digest } = registry.addImage('bad/layers', '1', {
      layers: ['layer a', 'layer b'],
      diffIds: [`sha256:${'1'.repeat(64)}`],
    });

    const delivery = await pushAndWait('bad/layers', digest, '1');

    expect(delivery.status).toBe('failed');
    expect(delivery.error.code).toBe('layer-mismatch');
  });

  it('records a manifest with both layers and manifests', async () => {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${'2'.repeat(64)}`,
        size: 2,
      },
      layers: [],
      manifests: [],
    });
    const { digest } = registry.addManifest('bad/ambiguous', body, OCI_MANIFEST, '1');

    const delivery = await pushAndWait('bad/ambiguous', digest, '1');

    expect(delivery.error.code).toBe('ambiguous-manifest');
  });

  it('records a manifest with more than 1,000 layers', async () => {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${'3'.repeat(64)}`,
        size: 2,
      },
      layers: Array.from({ length: 1001 }, () => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${'4'.repeat(64)}`,
        size: 1,
      })),
    });
    const { digest } = registry.addManifest('bad/deep', body, OCI_MANIFEST, '1');

    const delivery = await pushAndWait('bad/deep', digest, '1');

    expect(delivery.error.code).toBe('too-many-entries');
  });

  it('refuses Docker schema 1 with a reason', async () => {
    const body = JSON.stringify({
      schemaVersion: 1,
      name: 'bad/old',
      tag: '1',
      fsLayers: [],
      history: [],
    });
    const { digest } = registry.addManifest(
      'bad/old',
      body,
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
      '1',
    );

    const delivery = await pushAndWait('bad/old', digest, '1');

    expect(delivery.error.code).toBe('schema1-unsupported');
    expect(delivery.error.message).toContain('schema 1');
  });

  it('refuses a manifest over 4 MiB', async () => {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      pad: 'x'.repeat(4 * 1024 * 1024),
    });
    const { digest } = registry.addManifest('bad/huge', body, OCI_MANIFEST, '1');

    const delivery = await pushAndWait('bad/huge', digest, '1');

    expect(delivery.error.code).toBe('too-large');
  });

  it('retries while the registry answers 500, then ingests', async () => {
    const { digest } = registry.addImage('flaky/app', '1', { layers: ['flaky layer'] });
    // The client makes five tries per job attempt, so seven failures span two job attempts.
    registry.failNext(new RegExp(`^GET /v2/flaky/app/manifests/${digest}$`), 7, 500);

    const delivery = await pushAndWait('flaky/app', digest, '1');

    expect(delivery.status).toBe('done');
    expect(delivery.attempts).toBe(2);
    const freshness = await getJson(
      `${api.url}/v1/freshness?image=${encodeURIComponent(`${registry.host}/flaky/app:1`)}`,
      apiKey,
    );
    expect(freshness.body).toMatchObject({ digest, status: 'fresh' });
  });

  it('records a registry that stays down, and reconciliation catches up', async () => {
    const { digest } = registry.addImage('down/app', '1', { layers: ['down layer'] });
    registry.failNext(/./, 1000, 500);

    const delivery = await pushAndWait('down/app', digest, '1');

    expect(delivery.status).toBe('failed');
    expect(delivery.error.code).toBe('unavailable');
    expect(delivery.attempts).toBe(3);

    registry.clearFailures();
    const summaries = await worker.app.get(ReconcileService).run('fake');
    expect(summaries[0].errors).toBe(0);
    await eventually(async () => {
      const [row] = await dataSource.query(
        `SELECT digest FROM tags WHERE registry = 'fake' AND repository = 'down/app' AND name = '1'`,
      );
      return row?.digest === digest ? true : undefined;
    }, 'reconciliation to ingest down/app:1');
    const [reconciled] = await dataSource.query(
      `SELECT status FROM webhook_deliveries WHERE source = 'reconcile' AND digest = $1`,
      [digest],
    );
    expect(reconciled.status).toBe('done');
  });
});
