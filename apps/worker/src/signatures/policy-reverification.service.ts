import { Injectable } from '@nestjs/common';

import { ReverifyPolicyJobData } from '@app/queue';

import { SignatureSchedulerService, VerificationCause } from './signature-scheduler.service';
import { SignatureStoreService } from './signature-store.service';
import { TrustPolicyService } from './trust-policy.service';
import type { VerificationOutcome } from './signature-verification.service';

/** Digests one ReverifyPolicy job queues before it hands the rest to the next job. */
export const REVERIFY_BATCH_SIZE = 200;

/**
 * Walks every digest a policy change affects, in digest order, one batch per job: each job
 * queues VerifyImage for its batch and then the next ReverifyPolicy job after its last digest.
 */
@Injectable()
export class PolicyReverificationService {
  constructor(
    private readonly policies: TrustPolicyService,
    private readonly store: SignatureStoreService,
    private readonly scheduler: SignatureSchedulerService,
  ) {}

  /** Starts a walk under the newest policy version; without a saved policy there is nothing to do. */
  async startFullWalk(): Promise<VerificationOutcome> {
    const newest = await this.policies.newestVersion();
    if (newest === null) {
      return {
        status: 'skipped',
        detail: 'No trust policy is saved; every image is not-required.',
      };
    }
    await this.scheduler.reverifyPolicy({ policyVersion: newest });
    return { status: 'done', detail: `Started re-verification under policy version ${newest}.` };
  }

  async run(data: ReverifyPolicyJobData): Promise<VerificationOutcome> {
    const newest = await this.policies.newestVersion();
    if (newest === null || newest < data.policyVersion) {
      return {
        status: 'skipped',
        detail: `Trust policy version ${data.policyVersion} is not saved (newest: ${newest ?? 'none'}).`,
      };
    }
    // Verification always uses the newest policy, so the walk of a newer version covers this one.
    if (newest > data.policyVersion) {
      return {
        status: 'skipped',
        detail: `Trust policy version ${data.policyVersion} was superseded by version ${newest}.`,
      };
    }

    const digests = await this.store.digestsToReverify(data.afterDigest, REVERIFY_BATCH_SIZE);
    await this.scheduler.verify(digests, VerificationCause.PolicyChanged);
    const last = digests[digests.length - 1];
    const more = digests.length === REVERIFY_BATCH_SIZE && last !== undefined;
    if (more)
      await this.scheduler.reverifyPolicy({ policyVersion: data.policyVersion, afterDigest: last });
    return {
      status: 'done',
      detail: `Queued verification of ${digests.length} digests for policy version ${data.policyVersion}${more ? `, continuing after ${last}` : ', walk finished'}.`,
    };
  }
}
