import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

export type DeliveryStatus = 'pending' | 'processing' | 'done' | 'skipped' | 'failed';
export type DeliverySource = 'webhook' | 'reconcile';

/**
 * The outbox: one row per manifest event to process, written before its queue job exists,
 * so losing Redis loses no accepted work.
 */
@Entity('webhook_deliveries')
// Protects against processing a registry's redelivery of the same event twice.
@Unique('uq_webhook_deliveries_event', ['registry', 'eventId'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  registry!: string;

  @Column('text', { name: 'event_id' })
  eventId!: string;

  @Column('text')
  source!: DeliverySource;

  @Column('text')
  action!: string;

  @Column('text')
  repository!: string;

  @Column('text', { nullable: true })
  tag!: string | null;

  @Column('text', { nullable: true })
  digest!: string | null;

  @Column('text', { name: 'media_type', nullable: true })
  mediaType!: string | null;

  @Column('timestamptz', { name: 'event_time', nullable: true })
  eventTime!: Date | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId!: string | null;

  @Index('ix_webhook_deliveries_status')
  @Column('text')
  status!: DeliveryStatus;

  @Column('int')
  attempts!: number;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode!: string | null;

  @Column('text', { name: 'error_message', nullable: true })
  errorMessage!: string | null;

  /** Outcome of processing, or the reason it was skipped. */
  @Column('text', { nullable: true })
  detail!: string | null;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('timestamptz', { name: 'enqueued_at', nullable: true })
  enqueuedAt!: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;
}
