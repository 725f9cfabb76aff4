import { JobsOptions } from 'bullmq';

/**
 * WARNING: queue and job names are a persisted contract. Jobs already in Redis carry these
 * names, so renaming one strands the jobs queued under the old name.
 */
export const QueueName = {
  Ingest: 'ingest',
  Freshness: 'freshness',
  Maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  /** Process one outbox row: fetch and store a pushed manifest, or apply a delete. */
  ProcessDelivery: 'process-delivery',
  /** Recompute freshness for a batch of images, then continue with their descendants. */
  RecomputeFreshness: 'recompute-freshness',
  /** A tag moved: find the images that track it and recompute them. */
  TagMoved: 'tag-moved',
  /** Walk each registry's catalog and tags and ingest what notifications missed. */
  Reconcile: 'reconcile',
  /** Re-enqueue outbox rows that never finished. */
  SweepOutbox: 'sweep-outbox',
} as const;

export interface ProcessDeliveryJobData {
  deliveryId: string;
}

export interface RecomputeFreshnessJobData {
  digests: string[];
  /** Cause of the recomputation, for logs. */
  cause: string;
  /** Re-run base detection first, e.g. because a possible base was just ingested. */
  relink?: boolean;
}

export interface TagMovedJobData {
  registry: string;
  repository: string;
  tag: string;
  previousDigest: string | null;
  digest: string | null;
}

export interface ReconcileJobData {
  /** One registry by name, or every registry with reconciliation enabled. */
  registry?: string;
}

export type SweepOutboxJobData = Record<string, never>;

/** Retries with exponential backoff; permanent failures throw BullMQ's UnrecoverableError. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 3600, count: 10000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Maximum images one freshness job recomputes before it hands the rest to a new job. */
export const FRESHNESS_BATCH_SIZE = 500;
