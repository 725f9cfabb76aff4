import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import { JobName, ProcessDeliveryJobData, QueueName } from '@app/queue';

import { ManifestEvent } from './distribution-events';

/** Most events written by one INSERT; a larger backlog is written by the next flush. */
const MAX_BATCH = 500;

/** Flushes that may run at once, so that one batch's round trips do not idle the next. */
const MAX_CONCURRENT_FLUSHES = 8;

export interface StoredEvent {
  id: string;
  eventId: string;
}

interface PendingEvent {
  registry: string;
  event: ManifestEvent;
  resolve: (stored: StoredEvent | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the outbox: events of requests that arrive while a write is in flight are
 * written together by the next INSERT and enqueued by one BullMQ call. Each request still gets
 * its answer only after its rows are stored and its jobs are enqueued (or left to the sweeper).
 */
@Injectable()
export class OutboxBatcher {
  private pending: PendingEvent[] = [];
  private flushes = 0;
  private scheduled = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Ingest) private readonly ingestQueue: Queue<ProcessDeliveryJobData>,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** Stores events and enqueues their jobs; returns the rows that were new (not duplicates). */
  async store(registry: string, events: ManifestEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const results = events.map(
      (event) =>
        new Promise<StoredEvent | undefined>((resolve, reject) => {
          this.pending.push({ registry, event, resolve, reject });
        }),
    );
    this.scheduleFlush();
    const stored = await Promise.all(results);
    return stored.filter((result): result is StoredEvent => result !== undefined);
  }

  /**
   * Starts a flush on the next turn of the event loop, so that requests parsed in the same turn
   * share it. With every flush slot busy, the next flush to finish picks the events up.
   */
  private scheduleFlush(): void {
    if (this.scheduled || this.flushes >= MAX_CONCURRENT_FLUSHES) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.flushes += 1;
    try {
      const stored = await this.insert(batch);
      await this.enqueue([...stored.values()]);
      for (const entry of batch) entry.resolve(stored.get(entry));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.flushes -= 1;
      if (this.pending.length > 0) this.scheduleFlush();
    }
  }

  /** Inserts a batch and maps each new row back to the first request that carried its event. */
  private async insert(batch: PendingEvent[]): Promise<Map<PendingEvent, StoredEvent>> {
    const column = <T>(read: (entry: PendingEvent) => T) => batch.map(read);
    const rows: Array<{ id: string; registry: string; event_id: string }> =
      await this.dataSource.query(
        `INSERT INTO webhook_deliveries
         (registry, event_id, source, action, repository, tag, digest, media_type, event_time, request_id)
       SELECT registry, event_id, 'webhook', action, repository, tag, digest, media_type, event_time, request_id
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::timestamptz[], $9::text[])
           AS e(registry, event_id, action, repository, tag, digest, media_type, event_time, request_id)
       ON CONFLICT (registry, event_id) DO NOTHING
       RETURNING id, registry, event_id`,
        [
          column((entry) => entry.registry),
          column((entry) => entry.event.eventId),
          column((entry) => entry.event.action),
          column((entry) => entry.event.repository),
          column((entry) => entry.event.tag),
          column((entry) => entry.event.digest),
          column((entry) => entry.event.mediaType),
          column((entry) => entry.event.eventTime),
          column((entry) => entry.event.requestId),
        ],
      );
    // The same event twice in one batch is inserted once, so only its first request gets the row.
    const firstByKey = new Map<string, PendingEvent>();
    for (const entry of batch) {
      const key = `${entry.registry}\n${entry.event.eventId}`;
      if (!firstByKey.has(key)) firstByKey.set(key, entry);
    }
    const stored = new Map<PendingEvent, StoredEvent>();
    for (const row of rows) {
      const entry = firstByKey.get(`${row.registry}\n${row.event_id}`);
      if (entry) stored.set(entry, { id: row.id, eventId: row.event_id });
    }
    return stored;
  }

  private async enqueue(stored: StoredEvent[]): Promise<void> {
    if (stored.length === 0) return;
    const deliveryIds = stored.map((row) => row.id);
    try {
      await this.ingestQueue.addBulk(
        deliveryIds.map((deliveryId) => ({
          name: JobName.ProcessDelivery,
          data: { deliveryId },
          opts: { jobId: deliveryId },
        })),
      );
    } catch (error) {
      // The rows are stored; the outbox sweeper enqueues them once Redis is back.
      this.logger.error({ err: error, deliveryIds }, 'enqueue failed, left for the sweeper');
      return;
    }
    // The marker only tells the sweeper when to look again, so the requests need not wait for it.
    this.dataSource
      .query(`UPDATE webhook_deliveries SET enqueued_at = now() WHERE id = ANY($1::uuid[])`, [
        deliveryIds,
      ])
      .catch((error: unknown) =>
        this.logger.warn({ err: error, deliveryIds }, 'recording enqueue time failed'),
      );
  }
}
