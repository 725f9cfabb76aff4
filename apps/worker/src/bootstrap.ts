import { createServer, Server } from 'node:http';

import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { Logger } from 'pino';

import { PinoNestLogger, ServiceMetrics } from '@app/common';
import { AppConfig } from '@app/config';
import { JobName, QueueName } from '@app/queue';

import { WorkerModule } from './worker.module';

export interface RunningWorker {
  app: INestApplicationContext;
  metrics: ServiceMetrics;
  close(): Promise<void>;
}

/** Starts the queue processors and schedules the periodic reconciliation and outbox sweep. */
export async function startWorker(
  config: AppConfig,
  logger: Logger,
  options: { schedule?: boolean } = {},
): Promise<RunningWorker> {
  const metrics = new ServiceMetrics();
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(config, logger, metrics),
    {
      logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    },
  );

  if (options.schedule ?? true) {
    const maintenance = app.get<Queue>(getQueueToken(QueueName.Maintenance));
    await maintenance.upsertJobScheduler(
      JobName.Reconcile,
      { every: config.reconcileIntervalSeconds * 1000 },
      { name: JobName.Reconcile, data: {} },
    );
    await maintenance.upsertJobScheduler(
      JobName.ReverifyAll,
      { every: config.reverifyIntervalSeconds * 1000 },
      { name: JobName.ReverifyAll, data: {} },
    );
    await maintenance.upsertJobScheduler(
      JobName.SweepOutbox,
      { every: config.sweeperIntervalSeconds * 1000 },
      { name: JobName.SweepOutbox, data: {} },
    );
  }
  logger.info({ concurrency: config.workerConcurrency }, 'worker started');
  return { app, metrics, close: () => app.close() };
}

/** Serves /metrics and /healthz for the worker, which has no other HTTP surface. */
export function serveWorkerMetrics(
  metrics: ServiceMetrics,
  host: string,
  port: number,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          response.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          response.end(body);
        })
        .catch(() => {
          response.writeHead(500).end();
        });
      return;
    }
    if (request.url === '/healthz') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
