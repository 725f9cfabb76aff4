import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { RegistryStartError } from './errors';
import { LongRunningProcess, freePort, spawnProcess, waitFor } from './processes';

export interface RunningRegistry {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port as image references and skopeo use it, e.g. 127.0.0.1:41234 */
  host: string;
  /** Temporary directory with the configuration and the blob storage, removed by stop(). */
  dataDir: string;
  stop(): Promise<void>;
  /** Returns the registry's stdout and stderr so far. */
  logs(): string;
}

export interface StartRegistryOptions {
  /** Webhook that receives the registry's notifications. No notifications are sent when absent. */
  notifyUrl?: string;
  /** Sent as `Authorization: Bearer <token>` with each notification. */
  token?: string;
  /** Maximum time in ms until the registry responds to GET /v2/ with 200. Default 20000. */
  startTimeoutMs?: number;
}

const START_ATTEMPTS = 3;

/**
 * Starts `docker-registry serve` (CNCF Distribution, Debian package docker-registry) on a
 * free 127.0.0.1 port with filesystem storage in a temporary directory and deletes enabled.
 * Resolves once GET /v2/ returns 200.
 *
 * With `notifyUrl`, one notification endpoint posts every event there. Distribution 2.8
 * retries a delivery that gets a non-2xx response until it succeeds, and later events wait
 * behind it, so the webhook should respond with 2xx quickly.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'registry-'));
  const configPath = join(dataDir, 'config.yml');

  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      await writeFile(
        configPath,
        stringify(registryConfig(host, join(dataDir, 'storage'), options)),
        {
          mode: 0o600,
        },
      );

      const registry = spawnProcess('docker-registry', ['serve', configPath]);
      const started = await waitUntilServing(
        registry,
        `http://${host}`,
        options.startTimeoutMs ?? 20_000,
      );
      if (started === 'serving') {
        return runningRegistry(registry, host, dataDir);
      }

      if (started.error !== undefined) {
        throw new RegistryStartError(started.error.message, registry.output(), started.error);
      }
      // Another process can take the port between freePort() and the registry's bind.
      const portTaken = registry.output().includes('address already in use');
      if (!portTaken || attempt === START_ATTEMPTS) {
        throw new RegistryStartError(
          `docker-registry exited while starting on ${host} (${describeExit(started)}).`,
          registry.output(),
        );
      }
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function registryConfig(host: string, storageDir: string, options: StartRegistryOptions): object {
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'info', formatter: 'text' },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: true },
    },
    http: { addr: host },
  };
  if (options.notifyUrl !== undefined) {
    const headers: Record<string, string[]> = {};
    if (options.token !== undefined) {
      headers.Authorization = [`Bearer ${options.token}`];
    }
    config.notifications = {
      // Adds the config and layer descriptors to manifest events as target.references.
      events: { includereferences: true },
      endpoints: [
        {
          name: 'webhook',
          url: options.notifyUrl,
          headers,
          timeout: '5s',
          threshold: 3,
          backoff: '1s',
        },
      ],
    };
  }
  return config;
}

type ExitedEarly = Awaited<LongRunningProcess['exited']>;

/** Returns 'serving' once GET /v2/ returns 200, or the exit status if the process ends first. */
async function waitUntilServing(
  registry: LongRunningProcess,
  url: string,
  timeoutMs: number,
): Promise<'serving' | ExitedEarly> {
  const serving = waitFor(
    async () => {
      if (registry.hasExited()) {
        return 'exited' as const;
      }
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
      return response.status === 200 ? ('serving' as const) : false;
    },
    { description: `docker-registry to respond to GET ${url}/v2/ with 200`, timeoutMs },
  );

  let result: 'serving' | 'exited';
  try {
    result = await Promise.race([serving, registry.exited.then(() => 'exited' as const)]);
  } catch (error) {
    await registry.stop();
    throw new RegistryStartError(
      `docker-registry did not start on ${url}.`,
      registry.output(),
      error,
    );
  }
  if (result === 'serving') {
    return result;
  }
  // Let the pending waitFor settle so it does not run after the caller moved on.
  await serving.catch(() => undefined);
  return registry.exited;
}

function describeExit(exit: ExitedEarly): string {
  return exit.signal === null ? `exit status ${exit.code}` : `killed by ${exit.signal}`;
}

function runningRegistry(
  registry: LongRunningProcess,
  host: string,
  dataDir: string,
): RunningRegistry {
  return {
    url: `http://${host}`,
    host,
    dataDir,
    logs: () => registry.output(),
    stop: async () => {
      await registry.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
