import { performance } from 'node:perf_hooks';

import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Job, UnrecoverableError } from 'bullmq';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER, ServiceMetrics } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { WebhookDeliveryEntity } from '@app/persistence';
import { ProcessDeliveryJobData, QueueName } from '@app/queue';

import { errorCode, errorMessage, isPermanentFailure } from '../job-outcome';
import { DeliveryHandlerService } from './delivery-handler.service';

export type { ProcessDeliveryJobData };

const FINISHED = ['done', 'skipped', 'failed'];

/** Processes outbox rows. A row already finished is skipped, so a redelivered job is harmless. */
@Processor(QueueName.Ingest)
export class DeliveryProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly handler: DeliveryHandlerService,
    private readonly metrics: ServiceMetrics,
    @Inject(ROOT_LOGGER) private readonly rootLogger: Logger,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.workerConcurrency;
    this.worker.on('error', (error) =>
      this.rootLogger.error({ err: error, queue: QueueName.Ingest }, 'worker error'),
    );
  }

  async process(job: Job<ProcessDeliveryJobData>): Promise<string> {
    const started = performance.now();
    const deliveries = this.dataSource.getRepository(WebhookDeliveryEntity);
    const delivery = await deliveries.findOneBy({ id: job.data.deliveryId });
    const logger = this.rootLogger.child({
      jobId: job.id,
      queue: QueueName.Ingest,
      deliveryId: job.data.deliveryId,
    });

    if (!delivery) {
      logger.warn('delivery row not found, skipped');
      return 'skipped: delivery row not found';
    }
    if (FINISHED.includes(delivery.status)) {
      logger.info({ status: delivery.status }, 'delivery already finished, skipped');
      return `skipped: already ${delivery.status}`;
    }
    const context = {
      registry: delivery.registry,
      repository: delivery.repository,
      digest: delivery.digest,
      tag: delivery.tag,
    };
    await deliveries.update(
      { id: delivery.id },
      { status: 'processing', attempts: () => 'attempts + 1' },
    );

    try {
      const outcome = await this.handler.handle(delivery);
      await deliveries.update(
        { id: delivery.id },
        {
          status: outcome.status,
          detail: outcome.detail,
          errorCode: null,
          errorMessage: null,
          finishedAt: new Date(),
        },
      );
      this.metrics.jobDuration.observe(
        { queue: QueueName.Ingest, outcome: outcome.status },
        (performance.now() - started) / 1000,
      );
      logger.info({ ...context, status: outcome.status }, outcome.detail);
      return outcome.status;
    } catch (error) {
      await this.recordFailure(job, delivery, error, logger.child(context));
      this.metrics.jobDuration.observe(
        { queue: QueueName.Ingest, outcome: 'failed' },
        (performance.now() - started) / 1000,
      );
      if (isPermanentFailure(error)) throw new UnrecoverableError(errorMessage(error));
      throw error;
    }
  }

  private async recordFailure(
    job: Job<ProcessDeliveryJobData>,
    delivery: WebhookDeliveryEntity,
    error: unknown,
    logger: Logger,
  ): Promise<void> {
    const permanent = isPermanentFailure(error);
    const final = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    this.metrics.jobFailures.inc({ queue: QueueName.Ingest, retry: final ? 'no' : 'yes' });
    await this.dataSource.getRepository(WebhookDeliveryEntity).update(
      { id: delivery.id },
      {
        status: final ? 'failed' : 'pending',
        errorCode: errorCode(error),
        errorMessage: errorMessage(error).slice(0, 2000),
        finishedAt: final ? new Date() : null,
      },
    );
    logger[final ? 'error' : 'warn'](
      { err: error, attempt: job.attemptsMade + 1, final },
      final ? 'delivery failed' : 'delivery failed, will retry',
    );
  }
}
