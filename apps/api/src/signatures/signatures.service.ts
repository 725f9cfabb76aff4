import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { DomainError, DomainErrorCode, ROOT_LOGGER } from '@app/common';
import { isDigest } from '@app/oci';
import { JobName, QueueName, VerifyImageJobData } from '@app/queue';

import {
  CarrierRelation,
  ImageSignaturesView,
  SignatureView,
  VerificationRequestView,
} from './signature.views';
import { mapSigner } from './signature-verdicts';
import { SignatureVerdictsService } from './signature-verdicts.service';

/** A manifest whose signatures count for the requested digest, and how it relates to it. */
interface Carrier {
  digest: string;
  relation: CarrierRelation;
  platform: string | null;
}

interface SignatureRow {
  digest: string;
  format: string;
  source: string;
  result: string;
  reason_code: string;
  reason: string;
  signer: unknown;
  signed_digest: string | null;
  docker_reference: string | null;
  policy_version: number | null;
  checked_at: Date | string;
}

interface IndexChildRow {
  digest: string;
  platform_os: string | null;
  platform_architecture: string | null;
  platform_variant: string | null;
}

const RELATION_ORDER: Record<CarrierRelation, number> = { self: 0, platform: 1, index: 2 };

/** Signature reads for the security team and on-demand verification requests. */
@Injectable()
export class SignaturesService {
  private readonly logger: Logger;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Signatures) private readonly signaturesQueue: Queue<VerifyImageJobData>,
    private readonly verdicts: SignatureVerdictsService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'signatures' });
  }

  /**
   * Lists the signatures of a digest and of the manifests related to it through an index: the
   * platform manifests of an index, and the indexes that list a platform manifest. Each
   * signature names the manifest that carried it, since a signature covers only that digest.
   */
  async signaturesOf(digest: string): Promise<ImageSignaturesView> {
    const kind = await this.kindOf(digest);
    const carriers = await this.carriersOf(digest);
    const byDigest = new Map(carriers.map((carrier) => [carrier.digest, carrier]));
    const rows = await this.dataSource.query<SignatureRow[]>(
      `SELECT digest, format, source, result, reason_code, reason, signer, signed_digest,
              docker_reference, policy_version, checked_at
         FROM image_signatures WHERE digest = ANY($1)
        ORDER BY checked_at DESC, id`,
      [[...byDigest.keys()]],
    );
    const signatures = rows
      .map((row) => mapSignature(row, byDigest.get(row.digest) ?? selfCarrier(row.digest)))
      .sort(
        (a, b) =>
          RELATION_ORDER[a.manifest.relation] - RELATION_ORDER[b.manifest.relation] ||
          a.manifest.digest.localeCompare(b.manifest.digest),
      );
    return { digest, kind, signatures, verdicts: await this.verdicts.forDigest(digest) };
  }

  /** Enqueues a VerifyImage job for a known image; 503 when Redis does not take it. */
  async requestVerification(digest: string): Promise<VerificationRequestView> {
    await this.kindOf(digest);
    let jobId: string | undefined;
    try {
      const job = await this.signaturesQueue.add(JobName.VerifyImage, {
        digest,
        cause: 'requested',
      });
      jobId = job.id;
    } catch (error) {
      this.logger.error({ err: error, digest }, 'enqueue of the verification job failed');
      throw new DomainError(
        DomainErrorCode.ServiceUnavailable,
        `The verification job for ${digest} could not be enqueued; retry later.`,
        undefined,
        { cause: error },
      );
    }
    if (jobId === undefined) throw new Error(`BullMQ returned no job id for ${digest}`);
    this.logger.info({ digest, jobId }, 'verification requested');
    return { digest, jobId, cause: 'requested' };
  }

  private async kindOf(digest: string): Promise<string> {
    if (!isDigest(digest)) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `"${digest}" is not a valid digest (sha256:<64 hex>).`,
      );
    }
    const [row] = await this.dataSource.query<Array<{ kind: string }>>(
      `SELECT kind FROM images WHERE digest = $1`,
      [digest],
    );
    if (!row)
      throw new DomainError(DomainErrorCode.NotFound, `Image ${digest} has never been seen.`);
    return row.kind;
  }

  /** Lists the digest, its platform manifests (for an index) and its indexes (for a platform). */
  private async carriersOf(digest: string): Promise<Carrier[]> {
    const children = await this.dataSource.query<IndexChildRow[]>(
      `SELECT DISTINCT ON (child_digest) child_digest AS digest, platform_os,
              platform_architecture, platform_variant
         FROM index_children WHERE index_digest = $1
        ORDER BY child_digest, position`,
      [digest],
    );
    const parents = await this.dataSource.query<IndexChildRow[]>(
      `SELECT DISTINCT ON (index_digest) index_digest AS digest, platform_os,
              platform_architecture, platform_variant
         FROM index_children WHERE child_digest = $1
        ORDER BY index_digest, position`,
      [digest],
    );
    return [
      selfCarrier(digest),
      ...children.filter((row) => row.digest !== digest).map((row) => carrier(row, 'platform')),
      ...parents.filter((row) => row.digest !== digest).map((row) => carrier(row, 'index')),
    ];
  }
}

function selfCarrier(digest: string): Carrier {
  return { digest, relation: 'self', platform: null };
}

function carrier(row: IndexChildRow, relation: CarrierRelation): Carrier {
  const parts = [row.platform_os, row.platform_architecture, row.platform_variant];
  const platform =
    row.platform_os && row.platform_architecture
      ? parts.filter((part): part is string => Boolean(part)).join('/')
      : null;
  return { digest: row.digest, relation, platform };
}

function mapSignature(row: SignatureRow, carrier: Carrier): SignatureView {
  return {
    format: row.format,
    source: row.source,
    manifest: { digest: carrier.digest, relation: carrier.relation, platform: carrier.platform },
    signer: mapSigner(row.signer),
    result: row.result,
    reasonCode: row.reason_code,
    reason: row.reason,
    signedDigest: row.signed_digest,
    dockerReference: row.docker_reference,
    policyVersion: row.policy_version,
    checkedAt: new Date(row.checked_at).toISOString(),
  };
}
