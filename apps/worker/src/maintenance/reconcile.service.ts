import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';

import { ROOT_LOGGER } from '@app/common';
import { RegistryError } from '@app/registry-client';
import { APP_CONFIG, AppConfig, RegistryConfig } from '@app/config';

import { ImageStoreService } from '../ingest/image-store.service';
import { RegistryClientsService } from '../registry-clients.service';
import { OutboxWriterService } from './outbox-writer.service';

export interface ReconcileSummary {
  registry: string;
  repositories: number;
  tags: number;
  queued: number;
  errors: number;
}

/**
 * Walks each registry's catalog and tags and queues what notifications missed: tags that point
 * elsewhere than the service believes, and tags that no longer exist.
 */
@Injectable()
export class ReconcileService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registries: RegistryClientsService,
    private readonly store: ImageStoreService,
    private readonly outbox: OutboxWriterService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async run(registryName?: string): Promise<ReconcileSummary[]> {
    const targets = this.config.registries.filter((registry) =>
      registryName ? registry.name === registryName : registry.reconcile,
    );
    const summaries: ReconcileSummary[] = [];
    for (const registry of targets) summaries.push(await this.reconcileRegistry(registry));
    return summaries;
  }

  private async reconcileRegistry(registry: RegistryConfig): Promise<ReconcileSummary> {
    const client = this.registries.get(registry.name);
    const summary: ReconcileSummary = {
      registry: registry.name,
      repositories: 0,
      tags: 0,
      queued: 0,
      errors: 0,
    };
    try {
      for await (const repository of client.listRepositories()) {
        summary.repositories += 1;
        try {
          await this.reconcileRepository(registry, repository, summary);
        } catch (error) {
          // One broken repository must not stop the walk; the next run tries it again.
          summary.errors += 1;
          this.logger.warn(
            { err: error, registry: registry.name, repository },
            'repository reconciliation failed',
          );
        }
      }
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      // An unreachable catalog waits for the next run rather than retrying with a stack each time.
      summary.errors += 1;
      this.logger.warn(
        { registry: registry.name, code: error.code, reason: error.message },
        'registry catalog unreachable, reconciliation skipped until the next run',
      );
    }
    this.logger.info(summary, 'registry reconciled');
    return summary;
  }

  private async reconcileRepository(
    registry: RegistryConfig,
    repository: string,
    summary: ReconcileSummary,
  ): Promise<void> {
    const client = this.registries.get(registry.name);
    const known = await this.store.tagsOfRepository(registry.name, repository);
    const seen = new Set<string>();

    for await (const tag of client.listTags(repository)) {
      seen.add(tag);
      summary.tags += 1;
      const head = await client.headManifest(repository, tag);
      if (!head || known.get(tag) === head.digest) continue;
      const queued = await this.outbox.write({
        registry: registry.name,
        eventId: `reconcile:${repository}:${tag}:${head.digest}`,
        action: 'push',
        repository,
        tag,
        digest: head.digest,
      });
      if (queued) summary.queued += 1;
    }

    for (const [tag, digest] of known) {
      if (seen.has(tag)) continue;
      const queued = await this.outbox.write({
        registry: registry.name,
        eventId: `reconcile-delete:${repository}:${tag}:${digest}`,
        action: 'delete',
        repository,
        tag,
        digest: null,
      });
      if (queued) summary.queued += 1;
    }
  }
}
