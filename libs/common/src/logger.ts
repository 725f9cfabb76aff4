import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Builds the process-wide pino logger: JSON lines on stdout, secrets redacted by path. Lines are
 * written asynchronously in 4 KiB chunks, because a synchronous write per request halved the
 * webhook rate in the intake benchmark; pino flushes the buffer when the process exits.
 */
export function createRootLogger(level: string, name: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
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
