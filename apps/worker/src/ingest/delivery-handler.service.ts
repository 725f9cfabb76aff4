import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import { WebhookDeliveryEntity } from '@app/persistence';

import { JobSchedulerService } from '../job-scheduler.service';
import { FreshnessService } from '../lineage/freshness.service';
import { LineageService } from '../lineage/lineage.service';
import {
  digestOfCosignSignatureTag,
  digestOfReferrersTag,
} from '../signatures/signature-candidates';
import {
  SignatureSchedulerService,
  VerificationCause,
} from '../signatures/signature-scheduler.service';
import { ImageStoreService } from './image-store.service';
import { IngestService } from './ingest.service';

export type DeliveryOutcome =
  { status: 'done'; detail: string } | { status: 'skipped'; detail: string };

/**
 * Applies one outbox row: ingest a pushed manifest, move its tag and queue its signature
 * verification, or apply a delete. Signature pushes queue re-verification of the signed image.
 */
@Injectable()
export class DeliveryHandlerService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ingest: IngestService,
    private readonly store: ImageStoreService,
    private readonly lineage: LineageService,
    private readonly freshness: FreshnessService,
    private readonly scheduler: JobSchedulerService,
    private readonly signatures: SignatureSchedulerService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async handle(delivery: WebhookDeliveryEntity): Promise<DeliveryOutcome> {
    if (delivery.action === 'push' && delivery.digest)
      return this.handlePush(delivery, delivery.digest);
    if (delivery.action === 'delete') return this.handleDelete(delivery);
    return { status: 'skipped', detail: `Action ${delivery.action} needs no processing.` };
  }

  private async handlePush(
    delivery: WebhookDeliveryEntity,
    digest: string,
  ): Promise<DeliveryOutcome> {
    // A cosign `.sig` tag or a referrers tag names the signed digest and points to no image.
    const signed = signedDigestOfTag(delivery.tag);
    if (signed) {
      const carrier = `Tag ${delivery.repository}:${delivery.tag}`;
      return this.signaturesChanged(signed, VerificationCause.SignaturePushed, carrier);
    }

    const result = await this.ingest.ingest(delivery.registry, delivery.repository, digest);
    if (result.kind === 'artifact') {
      if (result.subject) {
        const carrier = `Artifact manifest ${digest} (signature or attestation)`;
        return this.signaturesChanged(result.subject, VerificationCause.SignaturePushed, carrier);
      }
      return { status: 'skipped', detail: 'Artifact manifest; not an image.' };
    }

    await this.linkAndCompute(
      result.imageDigests,
      result.kind === 'index' ? result.digest : undefined,
    );

    if (delivery.tag) {
      const change = await this.store.setTag({
        registry: delivery.registry,
        repository: delivery.repository,
        tag: delivery.tag,
        digest,
        eventTime: delivery.eventTime,
        source: delivery.source,
      });
      if (change.changed) {
        await this.scheduler.tagMoved({
          registry: delivery.registry,
          repository: delivery.repository,
          tag: delivery.tag,
          previousDigest: change.previousDigest,
          digest,
        });
      }
    }

    const descendants = new Set<string>();
    for (const image of result.imageDigests) {
      for (const candidate of await this.lineage.possibleDescendants(image))
        descendants.add(candidate);
    }
    if (descendants.size > 0)
      await this.scheduler.recompute([...descendants], `possible base ${digest} ingested`, true);
    // Queued after the tag is stored, so that verification finds the tag. An index job queues
    // its platform manifests itself.
    await this.signatures.verify([digest], VerificationCause.Ingest);

    const where = delivery.tag ? `${delivery.repository}:${delivery.tag}` : delivery.repository;
    return {
      status: 'done',
      detail: `${result.kind === 'index' ? 'Index' : 'Image'} ${digest} ingested for ${where}.`,
    };
  }

  /** Links each new platform image to its base, then computes images before the index. */
  private async linkAndCompute(images: string[], index: string | undefined): Promise<void> {
    for (const image of images) {
      await this.lineage.relink(image);
      await this.freshness.recompute(image);
    }
    if (index) await this.freshness.recompute(index);
  }

  /** Queues re-verification of a digest whose signatures changed, when it is already ingested. */
  private async signaturesChanged(
    signed: string,
    cause: string,
    carrier: string,
  ): Promise<DeliveryOutcome> {
    if (!(await this.store.exists(signed))) {
      return {
        status: 'skipped',
        detail: `${carrier} refers to ${signed}, which is not ingested yet; its ingest verifies its signatures.`,
      };
    }
    await this.signatures.verify([signed], cause);
    return {
      status: 'done',
      detail: `${carrier} refers to ${signed}; signature verification queued.`,
    };
  }

  private async handleDelete(delivery: WebhookDeliveryEntity): Promise<DeliveryOutcome> {
    const signed = signedDigestOfTag(delivery.tag);
    if (signed) {
      const carrier = `Deleted tag ${delivery.repository}:${delivery.tag}`;
      return this.signaturesChanged(signed, VerificationCause.SignatureDeleted, carrier);
    }
    if (delivery.tag) {
      const change = await this.store.setTag({
        registry: delivery.registry,
        repository: delivery.repository,
        tag: delivery.tag,
        digest: null,
        eventTime: delivery.eventTime,
        source: delivery.source,
      });
      if (!change.changed)
        return { status: 'skipped', detail: `Tag ${delivery.tag} was not known.` };
      await this.scheduler.tagMoved({
        registry: delivery.registry,
        repository: delivery.repository,
        tag: delivery.tag,
        previousDigest: change.previousDigest,
        digest: null,
      });
      return { status: 'done', detail: `Tag ${delivery.repository}:${delivery.tag} deleted.` };
    }

    // A blob delete sends the same event shape as a manifest delete, so only known manifests count.
    const digest = delivery.digest as string;
    const deleted = await this.store.markDeleted(delivery.registry, delivery.repository, digest);
    if (!deleted)
      return {
        status: 'skipped',
        detail: `${digest} is not a known manifest in ${delivery.repository}.`,
      };
    this.logger.info(
      { registry: delivery.registry, repository: delivery.repository, digest },
      'manifest deleted',
    );
    return { status: 'done', detail: `Manifest ${digest} deleted from ${delivery.repository}.` };
  }
}

// NOTE: an image pushed under a tag of the form `sha256-<64 hex>` is taken for a referrers index
// and not ingested.
function signedDigestOfTag(tag: string | null): string | undefined {
  return digestOfCosignSignatureTag(tag) ?? digestOfReferrersTag(tag);
}
