import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { AppConfig, loadConfig } from '@app/config';
import { openDataSource } from '@app/persistence';

export const TEST_DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRegistry {
  name: string;
  url: string;
  hosts: string[];
  webhookToken: string;
}

/** A loaded test configuration plus what a child process needs to load the same one. */
export type TestConfig = AppConfig & {
  configPath: string;
  /** Environment variables holding the webhook tokens the config file refers to. */
  configEnv: Record<string, string>;
};

/**
 * Builds a configuration whose schema and queue prefix are unique to one test file, so test
 * files never see each other's rows or jobs.
 */
export function buildTestConfig(
  label: string,
  registries: TestRegistry[],
  overrides: Record<string, string> = {},
): TestConfig {
  const suffix = randomBytes(4).toString('hex');
  const directory = mkdtempSync(join(tmpdir(), 'provenance-config-'));
  const path = join(directory, 'provenance.yaml');
  const env: Record<string, string> = {
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    PROVENANCE_CONFIG: path,
    DATABASE_SCHEMA: `t_${label.replace(/[^a-z0-9]/g, '_')}_${suffix}`,
    QUEUE_PREFIX: `test-${label}-${suffix}`,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
  const file = {
    registries: registries.map((registry, index) => {
      env[`TEST_WEBHOOK_TOKEN_${index}`] = registry.webhookToken;
      return {
        name: registry.name,
        url: registry.url,
        hosts: registry.hosts,
        webhookToken: { env: `TEST_WEBHOOK_TOKEN_${index}` },
      };
    }),
    reconcileIntervalSeconds: 3600,
    sweeperIntervalSeconds: 3600,
    sweeperMinAgeSeconds: 1,
  };
  writeFileSync(path, stringify(file));
  const configEnv = Object.fromEntries(
    Object.entries(env).filter(([name]) => name.startsWith('TEST_WEBHOOK_TOKEN_')),
  );
  return { ...loadConfig(env), configPath: path, configEnv };
}

/** Creates the config's schema and applies every migration. */
export async function migrateTestSchema(config: AppConfig): Promise<void> {
  const dataSource = await openDataSource({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    poolSize: 1,
  });
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

export async function dropTestSchema(config: AppConfig): Promise<void> {
  const dataSource = await openDataSource({
    url: config.databaseUrl,
    schema: 'public',
    poolSize: 1,
  });
  try {
    await dataSource.query(`DROP SCHEMA IF EXISTS "${config.databaseSchema}" CASCADE`);
  } finally {
    await dataSource.destroy();
  }
}

export function randomToken(): string {
  return randomBytes(24).toString('hex');
}
