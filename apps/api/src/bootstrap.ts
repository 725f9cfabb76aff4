import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'pino';
import pinoHttp from 'pino-http';

import { PinoNestLogger, ServiceMetrics } from '@app/common';
import { AppConfig } from '@app/config';

import { ApiModule } from './api.module';

/**
 * Creates the API application; main.ts and the end-to-end tests both start it this way. The
 * caller closes it: main.ts on SIGTERM and SIGINT, tests when they finish.
 */
export async function createApiApp(
  config: AppConfig,
  logger: Logger,
): Promise<NestExpressApplication> {
  const metrics = new ServiceMetrics();
  const app = await NestFactory.create<NestExpressApplication>(
    ApiModule.forRoot(config, logger, metrics),
    {
      bodyParser: false,
      logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    },
  );
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(
    pinoHttp({
      logger,
      genReqId: (request, response) => {
        const incoming = request.headers['x-request-id'];
        const id =
          typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming)
            ? incoming
            : crypto.randomUUID();
        response.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500
          ? 'error'
          : response.statusCode >= 400
            ? 'warn'
            : 'info',
      autoLogging: {
        ignore: (request) => request.url === '/healthz' || request.url === '/metrics',
      },
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({
          id: request.id,
          method: request.method,
          url: request.url,
        }),
      },
    }),
  );
  return app;
}
