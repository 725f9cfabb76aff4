import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';

import { JobName, ProcessDeliveryJobData, QueueName } from '@app/queue';

export interface SyntheticEvent {
  registry: string;
  eventId: string;
  action: 'push' | 'delete';
  repository: string;
  tag: string | null;
  digest: string | null;
}

/** Writes outbox rows for work found by reconciliation, then enqueues them like webhook events. */
@Injectable()
export class OutboxWriterService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Ingest) private readonly ingest: Queue<ProcessDeliveryJobData>,
  ) {}

  async write(event: SyntheticEvent): Promise<boolean> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO webhook_deliveries (registry, event_id, source, action, repository, tag, digest, event_time)
       VALUES ($1, $2, 'reconcile', $3, $4, $5, $6, now())
       ON CONFLICT (registry, event_id) DO NOTHING RETURNING id`,
      [event.registry, event.eventId, event.action, event.repository, event.tag, event.digest],
    );
    if (rows.length === 0) return false;
    await this.enqueue(rows[0].id);
    return true;
  }

  async enqueue(deliveryId: string): Promise<void> {
    await this.ingest.add(JobName.ProcessDelivery, { deliveryId }, { jobId: deliveryId });
    await this.dataSource.query(`UPDATE webhook_deliveries SET enqueued_at = now() WHERE id = $1`, [
      deliveryId,
    ]);
  }
}
