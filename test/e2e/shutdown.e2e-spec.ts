import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { freePort } from '../support/processes';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
  TestConfig,
} from '../support/test-config';
import { eventually } from '../support/wait';

const DIST = join(__dirname, '../../dist/apps');

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(script: string, env: Record<string, string>): Started {
  const child = spawn('node', [join(DIST, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exit };
}

describe('graceful shutdown', () => {
  const config = buildTestConfig('shutdown', [
    {
      name: 'local',
      url: 'http://127.0.0.1:9',
      hosts: ['127.0.0.1:5000'],
      webhookToken: randomToken(),
    },
  ]);
  let env: Record<string, string>;

  beforeAll(async () => {
    await migrateTestSchema(config);
    env = {
      DATABASE_URL: config.databaseUrl,
      DATABASE_SCHEMA: config.databaseSchema,
      REDIS_URL: config.redisUrl,
      QUEUE_PREFIX: config.queuePrefix,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await dropTestSchema(config);
  });

  it.each([
    ['api', '1', 'api/src/main.js', 'PORT', 'api stopped'],
    ['api', '2', 'api/src/main.js', 'PORT', 'api supervisor stopped'],
    ['worker', '1', 'worker/src/main.js', 'WORKER_METRICS_PORT', 'worker stopped'],
  ])(
    'stops the %s (%s processes) on SIGTERM',
    async (_name, processes, script, portVariable, lastLine) => {
      const port = await freePort();
      const started = start(script, {
        ...env,
        ...configFileEnv(config),
        [portVariable]: String(port),
        API_PROCESSES: processes,
      });
      await eventually(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return response?.ok ? true : undefined;
        },
        `${script} to serve /healthz`,
        30_000,
      );

      started.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        started.exit,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), 15_000);
        }),
      ]);
      clearTimeout(timer);

      expect(exit).toEqual({ code: 0, signal: null });
      expect(started.output()).toContain(`"msg":"${lastLine}"`);
      expect(started.output()).not.toMatch(/"level":50/);
    },
    60_000,
  );
});

function configFileEnv(config: TestConfig): Record<string, string> {
  return { PROVENANCE_CONFIG: config.configPath, ...config.configEnv };
}
