import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';

import { buildTestConfig, dropTestSchema } from '../support/test-config';

const config = buildTestConfig('migrations', [
  {
    name: 'local',
    url: 'http://127.0.0.1:1',
    hosts: ['127.0.0.1:1'],
    webhookToken: 'x'.repeat(32),
  },
]);

async function tablesIn(dataSource: DataSource): Promise<string[]> {
  const rows: Array<{ table_name: string }> = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [config.databaseSchema],
  );
  return rows.map((row) => row.table_name);
}

describe('migrations', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  it('creates every table and reverts cleanly', async () => {
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await tablesIn(dataSource)).toEqual([
      'api_keys',
      'base_edges',
      'findings',
      'freshness',
      'image_signatures',
      'images',
      'index_children',
      'repository_images',
      'schema_migrations',
      'signature_verdicts',
      'tag_history',
      'tags',
      'tracked_base_tags',
      'trust_policies',
      'webhook_deliveries',
    ]);

    await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tablesIn(dataSource)).toHaveLength(12);
    await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tablesIn(dataSource)).toEqual(['schema_migrations']);

    await dataSource.runMigrations({ transaction: 'each' });
    expect(await tablesIn(dataSource)).toHaveLength(15);
  });

  it('keeps the tag history append-only', async () => {
    await dataSource.query(
      `INSERT INTO tag_history (registry, repository, tag, digest, source) VALUES ('r', 'a', 't', NULL, 'test')`,
    );

    await expect(dataSource.query(`DELETE FROM tag_history`)).rejects.toThrow(/append-only/);
    await expect(dataSource.query(`UPDATE tag_history SET tag = 'u'`)).rejects.toThrow(
      /append-only/,
    );
  });
});
