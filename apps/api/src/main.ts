import 'reflect-metadata';

import { createRootLogger } from '@app/common';
import { ConfigError, loadConfig } from '@app/config';

import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createRootLogger(config.logLevel, 'provenance-api');
  const app = await createApiApp(config, logger);
  await app.listen(config.port, config.host);
  logger.info({ port: config.port }, 'api started');
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
