import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';

import {
  FRESHNESS_BATCH_SIZE,
  JobName,
  QueueName,
  RecomputeFreshnessJobData,
  TagMovedJobData,
} from '@app/queue';

/** Producers of follow-up work, so that every job is enqueued with the same names and ids. */
@Injectable()
export class JobSchedulerService {
  constructor(@InjectQueue(QueueName.Freshness) private readonly freshness: Queue) {}

  async recompute(digests: string[], cause: string, relink = false): Promise<void> {
    const unique = [...new Set(digests)];
    for (let start = 0; start < unique.length; start += FRESHNESS_BATCH_SIZE) {
      const batch = unique.slice(start, start + FRESHNESS_BATCH_SIZE);
      const data: RecomputeFreshnessJobData = { digests: batch, cause, relink };
      await this.freshness.add(JobName.RecomputeFreshness, data);
    }
  }

  async tagMoved(data: TagMovedJobData): Promise<void> {
    await this.freshness.add(JobName.TagMoved, data);
  }
}
