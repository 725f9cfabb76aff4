import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { RunningApi, startApi } from '../support/api-client';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';

const config = buildTestConfig('openapi', [
  {
    name: 'local',
    url: 'http://127.0.0.1:9',
    hosts: ['127.0.0.1:5000'],
    webhookToken: randomToken(),
  },
]);

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

function readDocument(): OpenApiDocument {
  return parse(readFileSync(join(__dirname, '../../openapi.yaml'), 'utf8')) as OpenApiDocument;
}

/** Lists every operation that openapi.yaml documents, as "METHOD /path". */
function documentedOperations(): string[] {
  return Object.entries(readDocument().paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

function samplePath(path: string): string {
  return path
    .replace('{registry}', 'local')
    .replace('{digest}', `sha256:${'0'.repeat(64)}`)
    .replace('{id}', '00000000-0000-4000-8000-000000000000');
}

describe('openapi.yaml', () => {
  let api: RunningApi;

  beforeAll(async () => {
    await migrateTestSchema(config);
    api = await startApi(config);
  });

  afterAll(async () => {
    await api.close();
    await dropTestSchema(config);
  });

  it('documents only routes the app serves', async () => {
    const operations = documentedOperations();
    expect(operations.length).toBeGreaterThan(10);
    for (const operation of operations) {
      const [method, path] = operation.split(' ');
      const response = await fetch(`${api.url}${samplePath(path)}`, { method });
      const body = response.headers.get('content-type')?.includes('json')
        ? await response.json()
        : {};
      // An unknown route returns 404 with the code not-found and "No route" in its detail.
      const missing =
        response.status === 404 &&
        String((body as { detail?: string }).detail).startsWith('No route');
      expect({ operation, missing }).toEqual({ operation, missing: false });
    }
  });

  it('documents the status of a request without credentials', async () => {
    const document = readDocument();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const response = await fetch(`${api.url}${samplePath(path)}`, {
          method: method.toUpperCase(),
        });
        const documented = Object.keys(operation.responses ?? {});
        expect({ operation: `${method} ${path}`, status: response.status, documented }).toEqual({
          operation: `${method} ${path}`,
          status: response.status,
          documented: expect.arrayContaining([String(response.status)]),
        });
      }
    }
  });

  it('serves no /v1 route that is not documented', () => {
    type Router = { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    const express = api.app.getHttpAdapter().getInstance() as { router?: Router; _router?: Router };
    const router = (express.router ?? express._router) as Router;
    const served = router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) =>
        Object.keys(layer.route!.methods).map(
          (method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`,
        ),
      )
      .filter((operation) => !operation.startsWith('HEAD '));
    expect(served.sort()).toEqual(documentedOperations().sort());
  });
});
