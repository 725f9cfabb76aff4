import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { ReconcileService } from '../../apps/worker/src/maintenance/reconcile.service';
import { buildImage, pushImage } from '../support/images';
import { RunningRegistry, startRegistry } from '../support/registry';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

describe('reconciliation with a registry that sent no notifications', () => {
  let registry: RunningRegistry;
  let worker: RunningWorker;
  let dataSource: DataSource;
  let workDir: string;
  let config: ReturnType<typeof buildTestConfig>;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'provenance-reconcile-'));
    registry = await startRegistry();
    config = buildTestConfig('reconcile', [
      { name: 'quiet', url: registry.url, hosts: [registry.host], webhookToken: randomToken() },
    ]);
    await migrateTestSchema(config);
    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await dataSource?.destroy();
    await registry?.stop();
    if (config) await dropTestSchema(config);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
    const [row] = await dataSource.query(
      `SELECT digest FROM tags WHERE registry = 'quiet' AND repository = $1 AND name = $2`,
      [repository, tag],
    );
    return row?.digest;
  }

  it('ingests missed pushes and removes deleted tags', async () => {
    const base = await buildImage({
      workDir,
      name: 'base',
      files: { '/etc/os-release': 'ID=quiet\n' },
    });
    const app = await buildImage({ workDir, name: 'app', base, files: { '/app': 'app\n' } });
    const baseDigest = await pushImage(base, registry.host, 'quiet/base', '1');
    const appDigest = await pushImage(app, registry.host, 'quiet/app', '1');
    await pushImage(app, registry.host, 'quiet/app', 'also');

    const [summary] = await worker.app.get(ReconcileService).run();
    expect(summary).toMatchObject({
      registry: 'quiet',
      repositories: 2,
      tags: 3,
      queued: 3,
      errors: 0,
    });

    await eventually(
      async () => ((await tagDigest('quiet/app', 'also')) === appDigest ? true : undefined),
      'quiet/app:also',
    );
    expect(await tagDigest('quiet/base', '1')).toBe(baseDigest);
    const verdict = await eventually(async () => {
      const [row] = await dataSource.query(`SELECT status FROM freshness WHERE digest = $1`, [
        appDigest,
      ]);
      return row?.status === 'fresh' ? row : undefined;
    }, 'quiet/app:1 to be fresh');
    expect(verdict.status).toBe('fresh');
    const [edge] = await dataSource.query(
      `SELECT base_digest FROM base_edges WHERE child_digest = $1 AND is_primary`,
      [appDigest],
    );
    expect(edge.base_digest).toBe(baseDigest);

    const again = await worker.app.get(ReconcileService).run();
    expect(again[0].queued).toBe(0);

    // Distribution deletes manifests by digest only; every tag on it goes with it.
    const deleted = await fetch(`${registry.url}/v2/quiet/app/manifests/${appDigest}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(202);
    const [afterDelete] = await worker.app.get(ReconcileService).run();
    expect(afterDelete.queued).toBe(2);

    await eventually(
      async () =>
        (await tagDigest('quiet/app', '1')) === undefined &&
        (await tagDigest('quiet/app', 'also')) === undefined
          ? true
          : undefined,
      'quiet/app tags to be removed',
    );
    const history = await dataSource.query(
      `SELECT tag, digest, previous_digest FROM tag_history WHERE repository = 'quiet/app' AND digest IS NULL ORDER BY tag`,
    );
    expect(history).toEqual([
      { tag: '1', digest: null, previous_digest: appDigest },
      { tag: 'also', digest: null, previous_digest: appDigest },
    ]);
  }, 180_000);
});
