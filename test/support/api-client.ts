import { AddressInfo } from 'node:net';

import { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';

import { createApiApp } from '../../apps/api/src/bootstrap';
import { AppConfig } from '@app/config';
import { generateApiKey } from '@app/common';
import { ApiKeyEntity, openDataSource } from '@app/persistence';

export interface RunningApi {
  app: NestExpressApplication;
  url: string;
  close(): Promise<void>;
}

/** Starts the real API on an ephemeral 127.0.0.1 port. */
export async function startApi(config: AppConfig, port = 0): Promise<RunningApi> {
  const app = await createApiApp(config, pino({ level: config.logLevel }));
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** Inserts an API key with the given role straight into the test schema and returns it. */
export async function createTestApiKey(
  config: AppConfig,
  role: 'ci' | 'security' | 'admin',
): Promise<string> {
  const dataSource = await openDataSource({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    poolSize: 1,
  });
  try {
    const generated = generateApiKey();
    await dataSource.getRepository(ApiKeyEntity).insert({
      name: `test ${role}`,
      role,
      keyPrefix: generated.prefix,
      keyHash: generated.hash,
      createdBy: 'test',
      createdAt: new Date(),
    });
    return generated.key;
  } finally {
    await dataSource.destroy();
  }
}

/** A parsed JSON body; untyped because tests assert on its shape field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

/** Fetches JSON with an optional API key. */
export async function getJson(
  url: string,
  apiKey?: string,
): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(url, {
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
