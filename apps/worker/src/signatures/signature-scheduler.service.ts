import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';

import { JobName, QueueName, ReverifyPolicyJobData, VerifyImageJobData } from '@app/queue';

/** Causes of a verification, stored in the job data for logs. */
export const VerificationCause = {
  Ingest: 'ingest',
  SignaturePushed: 'signature-pushed',
  SignatureDeleted: 'signature-deleted',
  PolicyChanged: 'policy-changed',
} as const;

/** Producer of signature jobs, so that every caller enqueues them with the same names. */
@Injectable()
export class SignatureSchedulerService {
  constructor(@InjectQueue(QueueName.Signatures) private readonly queue: Queue) {}

  async verify(digests: readonly string[], cause: string): Promise<void> {
    const unique = [...new Set(digests)];
    if (unique.length === 0) return;
    await this.queue.addBulk(
      unique.map((digest) => {
        const data: VerifyImageJobData = { digest, cause };
        return { name: JobName.VerifyImage, data };
      }),
    );
  }

  async reverifyPolicy(data: ReverifyPolicyJobData): Promise<void> {
    await this.queue.add(JobName.ReverifyPolicy, data);
  }
}
