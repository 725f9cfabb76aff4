import { DataSource, DataSourceOptions } from 'typeorm';

import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';

export interface DatabaseSettings {
  url: string;
  /** Schema that contains every table. Each test file uses its own. */
  schema: string;
  poolSize?: number;
}

/** Options shared by the Nest module, the CLI and the tests. Schema changes only via migrations. */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: settings.poolSize ?? 10,
      options: `-c search_path=${settings.schema}`,
      connectionTimeoutMillis: 5000,
      statement_timeout: 30000,
    },
  };
}

/** Opens a data source, creating the schema first when it is missing. */
export async function openDataSource(settings: DatabaseSettings): Promise<DataSource> {
  const dataSource = new DataSource(buildDataSourceOptions(settings));
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${settings.schema}"`);
  return dataSource;
}
