import { performance } from 'node:perf_hooks';

import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnModuleInit } from '@nestjs/common';
import { Job } from 'bullmq';
import { Logger } from 'pino';

import { ROOT_LOGGER, ServiceMetrics } from '@app/common';
import { JobName, QueueName, ReconcileJobData, SweepOutboxJobData } from '@app/queue';

import { OutboxSweeperService } from './outbox-sweeper.service';
import { ReconcileService } from './reconcile.service';

export type { ReconcileJobData, SweepOutboxJobData };

@Processor(QueueName.Maintenance)
export class MaintenanceProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    private readonly reconcile: ReconcileService,
    private readonly sweeper: OutboxSweeperService,
    private readonly metrics: ServiceMetrics,
    @Inject(ROOT_LOGGER) private readonly rootLogger: Logger,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.on('error', (error) =>
      this.rootLogger.error({ err: error, queue: QueueName.Maintenance }, 'worker error'),
    );
  }

  async process(job: Job<ReconcileJobData | SweepOutboxJobData>): Promise<unknown> {
    const started = performance.now();
    const logger = this.rootLogger.child({
      jobId: job.id,
      queue: QueueName.Maintenance,
      job: job.name,
    });
    try {
      const result =
        job.name === JobName.Reconcile
          ? await this.reconcile.run((job.data as ReconcileJobData).registry)
          : await this.sweeper.sweep();
      this.metrics.jobDuration.observe(
        { queue: QueueName.Maintenance, outcome: 'done' },
        (performance.now() - started) / 1000,
      );
      return result;
    } catch (error) {
      this.metrics.jobFailures.inc({ queue: QueueName.Maintenance, retry: 'yes' });
      logger.warn({ err: error }, 'maintenance job failed');
      throw error;
    }
  }
}
