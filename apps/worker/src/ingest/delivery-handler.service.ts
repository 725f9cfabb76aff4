import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import { WebhookDeliveryEntity } from '@app/persistence';

import { JobSchedulerService } from '../job-scheduler.service';
import { FreshnessService } from '../lineage/freshness.service';
import { LineageService } from '../lineage/lineage.service';
import { ImageStoreService } from './image-store.service';
import { IngestService } from './ingest.service';

export type DeliveryOutcome =
  { status: 'done'; detail: string } | { status: 'skipped'; detail: string };

/** Applies one outbox row: ingest a pushed manifest and move its tag, or apply a delete. */
@Injectable()
export class DeliveryHandlerService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ingest: IngestService,
    private readonly store: ImageStoreService,
    private readonly lineage: LineageService,
    private readonly freshness: FreshnessService,
    private readonly scheduler: JobSchedulerService,
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
    const result = await this.ingest.ingest(delivery.registry, delivery.repository, digest);
    if (result.kind === 'artifact') {
      return {
        status: 'skipped',
        detail: result.subject
          ? `Artifact manifest (signature or attestation) for ${result.subject}; not an image.`
          : 'Artifact manifest; not an image.',
      };
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

  private async handleDelete(delivery: WebhookDeliveryEntity): Promise<DeliveryOutcome> {
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
