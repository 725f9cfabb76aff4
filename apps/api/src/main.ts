import 'reflect-metadata';

import cluster from 'node:cluster';

import { createRootLogger, shutdownLogger } from '@app/common';
import { ConfigError, loadConfig } from '@app/config';

import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createRootLogger(config.logLevel, 'provenance-api');

  if (cluster.isPrimary && config.apiProcesses > 1) {
    superviseProcesses(config.apiProcesses, logger);
    return;
  }
  const app = await createApiApp(config, logger);
  await app.listen(config.port, config.host);
  logger.info({ port: config.port, pid: process.pid }, 'api started');

  // Stops accepting connections, lets requests in flight finish, then closes the database pool.
  const stop = async (signal: string) => {
    logger.info({ signal, pid: process.pid }, 'api stopping');
    await app.close();
    shutdownLogger(logger, 'api stopped', { pid: process.pid });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/**
 * Forks API processes that share the listening port (node:cluster), replaces one that dies, and
 * passes SIGTERM and SIGINT on so that each closes gracefully, then exits when all have.
 */
function superviseProcesses(count: number, logger: ReturnType<typeof createRootLogger>): void {
  let stopping = false;
  for (let index = 0; index < count; index += 1) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        shutdownLogger(logger, 'api supervisor stopped');
        process.exit(0);
      }
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'api process exited, starting another');
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    logger.info({ signal }, 'api stopping');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  logger.info({ processes: count }, 'api supervisor started');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Invalid configuration: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(
    `API failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
