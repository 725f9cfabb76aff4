import { performance } from 'node:perf_hooks';

import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnModuleInit } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { Logger } from 'pino';

import { ROOT_LOGGER, ServiceMetrics } from '@app/common';
import {
  JobName,
  QueueName,
  ReconcileJobData,
  ReverifyAllJobData,
  SweepOutboxJobData,
} from '@app/queue';

import { PolicyReverificationService } from '../signatures/policy-reverification.service';

import { OutboxSweeperService } from './outbox-sweeper.service';
import { ReconcileService } from './reconcile.service';

export type { ReconcileJobData, ReverifyAllJobData, SweepOutboxJobData };

@Processor(QueueName.Maintenance)
export class MaintenanceProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    private readonly reconcile: ReconcileService,
    private readonly sweeper: OutboxSweeperService,
    private readonly reverification: PolicyReverificationService,
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

  private run(
    job: Job<ReconcileJobData | SweepOutboxJobData | ReverifyAllJobData>,
  ): Promise<unknown> {
    switch (job.name) {
      case JobName.Reconcile:
        return this.reconcile.run((job.data as ReconcileJobData).registry);
      case JobName.SweepOutbox:
        return this.sweeper.sweep();
      case JobName.ReverifyAll:
        return this.reverification.startFullWalk();
      default:
        throw new UnrecoverableError(`Unknown maintenance job "${job.name}"`);
    }
  }

  async process(
    job: Job<ReconcileJobData | SweepOutboxJobData | ReverifyAllJobData>,
  ): Promise<unknown> {
    const started = performance.now();
    const logger = this.rootLogger.child({
      jobId: job.id,
      queue: QueueName.Maintenance,
      job: job.name,
    });
    try {
      const result = await this.run(job);
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
