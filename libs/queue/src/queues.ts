import { JobsOptions } from 'bullmq';

/**
 * WARNING: queue and job names are a persisted contract. Jobs already in Redis carry these
 * names, so renaming one strands the jobs queued under the old name.
 */
export const QueueName = {
  Ingest: 'ingest',
  Freshness: 'freshness',
  Maintenance: 'maintenance',
  Signatures: 'signatures',
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
  /** Discover and verify the signatures of one image or index. */
  VerifyImage: 'verify-image',
  /** A trust policy version was saved: re-verify the images it affects, in batches. */
  ReverifyPolicy: 'reverify-policy',
  /**
   * Periodic: re-verify every image under the policy in force, to pick up signatures that came
   * without a registry event (lookaside stores) and a walk whose enqueue failed.
   */
  ReverifyAll: 'reverify-all',
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

export interface VerifyImageJobData {
  digest: string;
  /** Why verification runs: ingest, signature-pushed, policy-changed, requested. */
  cause: string;
}

export type ReverifyAllJobData = Record<string, never>;

export interface ReverifyPolicyJobData {
  policyVersion: number;
  /** Keyset cursor: continue after this digest. */
  afterDigest?: string;
}

/**
 * Retries with exponential backoff; permanent failures throw BullMQ's UnrecoverableError.
 * Attempts and the first delay come from the configuration (JOB_ATTEMPTS, JOB_BACKOFF_MS).
 */
export function defaultJobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: 3600, count: 10000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Maximum images one freshness job recomputes before it hands the rest to a new job. */
export const FRESHNESS_BATCH_SIZE = 500;
