import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Builds the process-wide pino logger: JSON lines on stdout, secrets redacted by path. Lines are
 * written asynchronously, because a synchronous write per request halved the webhook rate in the
 * intake benchmark. Call `shutdownLogger` before the process exits so that none are lost.
 */
export function createRootLogger(level: string, name: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  return pino(
    {
      name,
      level,
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'headers.authorization',
          '*.password',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Logs a last line and writes out every buffered line; for a shutdown that ends in exit(). */
export function shutdownLogger(
  logger: Logger,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  logger.info(fields, message);
  logger.flush();
}

/** Routes Nest's own framework logs through pino so every line has one format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
