import { performance } from 'node:perf_hooks';

import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnModuleInit } from '@nestjs/common';
import { Job } from 'bullmq';
import { Logger } from 'pino';

import { ROOT_LOGGER, ServiceMetrics } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import {
  FRESHNESS_BATCH_SIZE,
  JobName,
  QueueName,
  RecomputeFreshnessJobData,
  TagMovedJobData,
} from '@app/queue';

import { JobSchedulerService } from '../job-scheduler.service';
import { FreshnessService } from './freshness.service';
import { LineageService } from './lineage.service';

export type { RecomputeFreshnessJobData, TagMovedJobData };

/**
 * Fans a tag move out through every descendant in batches. Each job recomputes at most
 * FRESHNESS_BATCH_SIZE images and enqueues the rest, so that one huge tree does not hold a worker for long.
 */
@Processor(QueueName.Freshness)
export class FreshnessProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly freshness: FreshnessService,
    private readonly lineage: LineageService,
    private readonly scheduler: JobSchedulerService,
    private readonly metrics: ServiceMetrics,
    @Inject(ROOT_LOGGER) private readonly rootLogger: Logger,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.workerConcurrency;
    this.worker.on('error', (error) =>
      this.rootLogger.error({ err: error, queue: QueueName.Freshness }, 'worker error'),
    );
  }

  async process(job: Job<RecomputeFreshnessJobData | TagMovedJobData>): Promise<string> {
    const started = performance.now();
    const logger = this.rootLogger.child({
      jobId: job.id,
      queue: QueueName.Freshness,
      job: job.name,
    });
    try {
      const summary =
        job.name === JobName.TagMoved
          ? await this.tagMoved(job.data as TagMovedJobData, logger)
          : await this.recompute(job.data as RecomputeFreshnessJobData, logger);
      this.metrics.jobDuration.observe(
        { queue: QueueName.Freshness, outcome: 'done' },
        (performance.now() - started) / 1000,
      );
      return summary;
    } catch (error) {
      this.metrics.jobFailures.inc({ queue: QueueName.Freshness, retry: 'yes' });
      logger.warn(
        { err: error, attempt: job.attemptsMade + 1 },
        'freshness job failed, will retry',
      );
      throw error;
    }
  }

  private async tagMoved(data: TagMovedJobData, logger: Logger): Promise<string> {
    const tag = `${data.registry}/${data.repository}:${data.tag}`;
    const adopted = data.digest
      ? await this.lineage.adoptTag(data.registry, data.repository, data.tag, data.digest)
      : [];
    const trackers = await this.lineage.trackersOfRepository(data.registry, data.repository);
    const affected = [...new Set([...adopted, ...trackers])];
    const result = await this.freshness.propagate(affected, FRESHNESS_BATCH_SIZE);
    await this.scheduler.recompute(result.remaining, `tag ${tag} moved`);
    logger.info(
      {
        tag,
        from: data.previousDigest,
        to: data.digest,
        trackers: trackers.length,
        adopted: adopted.length,
        ...result,
        remaining: result.remaining.length,
      },
      'tag move fanned out',
    );
    return `processed ${result.processed}, changed ${result.changed}, continued ${result.remaining.length}`;
  }

  private async recompute(data: RecomputeFreshnessJobData, logger: Logger): Promise<string> {
    if (data.relink) {
      for (const digest of data.digests) await this.lineage.relink(digest);
    }
    const result = await this.freshness.propagate(data.digests, FRESHNESS_BATCH_SIZE);
    await this.scheduler.recompute(result.remaining, data.cause);
    logger.info(
      { cause: data.cause, ...result, remaining: result.remaining.length },
      'freshness recomputed',
    );
    return `processed ${result.processed}, changed ${result.changed}, continued ${result.remaining.length}`;
  }
}
