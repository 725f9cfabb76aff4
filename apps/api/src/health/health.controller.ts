import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, Header, Injectable, OnModuleInit } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Queue } from 'bullmq';

import { ServiceMetrics } from '@app/common';
import { QueueName } from '@app/queue';

import { PublicRoute } from '../auth/roles.decorator';

/** Reads queue depths from Redis each time Prometheus scrapes. */
@Injectable()
export class QueueDepthCollector implements OnModuleInit {
  constructor(
    private readonly metrics: ServiceMetrics,
    @InjectQueue(QueueName.Ingest) private readonly ingest: Queue,
    @InjectQueue(QueueName.Freshness) private readonly freshness: Queue,
    @InjectQueue(QueueName.Maintenance) private readonly maintenance: Queue,
  ) {}

  onModuleInit(): void {
    const queues = [this.ingest, this.freshness, this.maintenance];
    const gauge = this.metrics.queueDepth;
    // prom-client calls collect() on scrape; a Redis error leaves the last values in place.
    Object.assign(gauge, {
      collect: async () => {
        for (const queue of queues) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, count] of Object.entries(counts)) {
            gauge.set({ queue: queue.name, state }, count);
          }
        }
      },
    });
  }

  async ping(): Promise<void> {
    await this.ingest.getJobCounts('waiting');
  }
}

@Controller()
@PublicRoute()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly queues: QueueDepthCollector,
    private readonly metrics: ServiceMetrics,
  ) {}

  /** Liveness: the process serves HTTP. */
  @Get('healthz')
  live(): { status: string } {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL and Redis both respond within 2 s. */
  @Get('readyz')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('postgres', { timeout: 2000 }),
      async () => {
        const indicator = this.indicators.check('redis');
        try {
          await withTimeout(this.queues.ping(), 2000);
          return indicator.up();
        } catch (error) {
          return indicator.down({
            message: error instanceof Error ? error.message : String(error),
          });
        }
      },
    ]);
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref(),
    ),
  ]);
}
