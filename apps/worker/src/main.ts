import 'reflect-metadata';

import { createRootLogger, shutdownLogger } from '@app/common';
import { ConfigError, loadConfig } from '@app/config';

import { serveWorkerMetrics, startWorker } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createRootLogger(config.logLevel, 'provenance-worker');
  const worker = await startWorker(config, logger);
  const server = await serveWorkerMetrics(worker.metrics, config.host, config.workerMetricsPort);
  logger.info({ port: config.workerMetricsPort }, 'worker metrics listening');

  // Closing the Nest context closes the BullMQ workers, which finish their active jobs first.
  const stop = async (signal: string) => {
    logger.info({ signal }, 'worker stopping');
    server.close();
    await worker.close();
    shutdownLogger(logger, 'worker stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Invalid configuration: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(
    `Worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
