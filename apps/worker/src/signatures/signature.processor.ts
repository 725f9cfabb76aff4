import { performance } from 'node:perf_hooks';

import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnModuleInit } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { Logger } from 'pino';

import { ROOT_LOGGER, ServiceMetrics } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { isDigest } from '@app/oci';
import { JobName, QueueName, ReverifyPolicyJobData, VerifyImageJobData } from '@app/queue';
import { SignatureError } from '@app/signatures';

import { errorMessage, isPermanentFailure } from '../job-outcome';
import { SignatureJobError } from './errors';
import { PolicyReverificationService } from './policy-reverification.service';
import {
  SignatureVerificationService,
  VerificationOutcome,
} from './signature-verification.service';

export type { ReverifyPolicyJobData, VerifyImageJobData };

/**
 * Runs signature jobs: VerifyImage judges one digest in every repository that contains it, and
 * ReverifyPolicy walks the digests a new policy version affects. Both are idempotent, so a
 * redelivered job only repeats the same writes.
 */
@Processor(QueueName.Signatures)
export class SignatureProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verification: SignatureVerificationService,
    private readonly reverification: PolicyReverificationService,
    private readonly metrics: ServiceMetrics,
    @Inject(ROOT_LOGGER) private readonly rootLogger: Logger,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.workerConcurrency;
    this.worker.on('error', (error) =>
      this.rootLogger.error({ err: error, queue: QueueName.Signatures }, 'worker error'),
    );
  }

  async process(job: Job<VerifyImageJobData | ReverifyPolicyJobData>): Promise<string> {
    const started = performance.now();
    const logger = this.rootLogger.child({
      jobId: job.id,
      queue: QueueName.Signatures,
      job: job.name,
      ...('digest' in job.data && { digest: job.data.digest }),
    });

    try {
      const outcome = await this.run(job, logger);
      this.metrics.jobDuration.observe(
        { queue: QueueName.Signatures, outcome: outcome.status },
        (performance.now() - started) / 1000,
      );
      logger.info({ status: outcome.status }, outcome.detail);
      return `${outcome.status}: ${outcome.detail}`;
    } catch (error) {
      const permanent = isPermanent(error);
      const final = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      this.metrics.jobFailures.inc({ queue: QueueName.Signatures, retry: final ? 'no' : 'yes' });
      this.metrics.jobDuration.observe(
        { queue: QueueName.Signatures, outcome: 'failed' },
        (performance.now() - started) / 1000,
      );
      logger[final ? 'error' : 'warn'](
        { err: error, attempt: job.attemptsMade + 1, final },
        final ? 'signature job failed' : 'signature job failed, will retry',
      );
      if (permanent) throw new UnrecoverableError(errorMessage(error));
      throw error;
    }
  }

  private async run(
    job: Job<VerifyImageJobData | ReverifyPolicyJobData>,
    logger: Logger,
  ): Promise<VerificationOutcome> {
    switch (job.name) {
      case JobName.VerifyImage: {
        const data = job.data as VerifyImageJobData;
        if (typeof data.digest !== 'string' || !isDigest(data.digest)) {
          return {
            status: 'skipped',
            detail: `Job data has no valid digest: ${JSON.stringify(data.digest)}.`,
          };
        }
        return this.verification.verify(data.digest, data.cause, logger);
      }
      case JobName.ReverifyPolicy: {
        const data = job.data as ReverifyPolicyJobData;
        if (!Number.isSafeInteger(data.policyVersion) || data.policyVersion < 1) {
          return {
            status: 'skipped',
            detail: `Job data has no valid policy version: ${JSON.stringify(data.policyVersion)}.`,
          };
        }
        return this.reverification.run(data);
      }
      default:
        return { status: 'skipped', detail: `Job name ${job.name} is not a signature job.` };
    }
  }
}

/** Tells whether a retry cannot help; signature library errors come from the content itself. */
function isPermanent(error: unknown): boolean {
  if (error instanceof SignatureJobError) return !error.retryable;
  if (error instanceof SignatureError) return true;
  return isPermanentFailure(error);
}
