import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ProcessDeliveryJobData, QueueName } from '@app/queue';

import { OutboxWriterService } from './outbox-writer.service';

/** Rows swept per run; a backlog larger than this drains over several runs. */
const SWEEP_LIMIT = 1000;

/**
 * Re-enqueues outbox rows that never finished: Redis lost its queue, an enqueue failed, or a
 * worker died. A row whose job still waits or runs is left alone.
 */
@Injectable()
export class OutboxSweeperService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Ingest) private readonly ingest: Queue<ProcessDeliveryJobData>,
    private readonly outbox: OutboxWriterService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async sweep(
    minAgeSeconds = this.config.sweeperMinAgeSeconds,
  ): Promise<{ examined: number; requeued: number }> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM webhook_deliveries
        WHERE status IN ('pending', 'processing')
          AND coalesce(enqueued_at, received_at) < now() - make_interval(secs => $1)
        ORDER BY received_at LIMIT $2`,
      [minAgeSeconds, SWEEP_LIMIT],
    );
    let requeued = 0;
    for (const row of rows) {
      const job = await this.ingest.getJob(row.id);
      const state = job ? await job.getState() : 'missing';
      if (
        state === 'waiting' ||
        state === 'active' ||
        state === 'delayed' ||
        state === 'prioritized' ||
        state === 'waiting-children'
      ) {
        continue;
      }
      if (job) await job.remove();
      await this.outbox.enqueue(row.id);
      requeued += 1;
    }
    if (requeued > 0)
      this.logger.warn({ examined: rows.length, requeued }, 'outbox rows re-enqueued');
    return { examined: rows.length, requeued };
  }
}
