import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';

import { ROOT_LOGGER } from '@app/common';
import {
  checkLayersMatchConfig,
  ImageManifest,
  ManifestDocument,
  isAttestationEntry,
  isArtifactManifest,
  isIndexMediaType,
  OciError,
  parseImageConfig,
  parseManifest,
} from '@app/oci';

import { RegistryClientsService } from '../registry-clients.service';
import { ImageStoreService } from './image-store.service';

/** Image configs above this size are rejected; real configs are a few KiB. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export type IngestResult =
  | { kind: 'image'; digest: string; imageDigests: string[] }
  | { kind: 'index'; digest: string; imageDigests: string[] }
  | { kind: 'artifact'; digest: string; subject: string | null };

/**
 * Fetches a pushed manifest from the configured registry, verifies every body against its
 * digest and stores the image, or the index and each of its platform images.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly registries: RegistryClientsService,
    private readonly store: ImageStoreService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async ingest(registry: string, repository: string, digest: string): Promise<IngestResult> {
    const known = await this.store.exists(digest);
    if (known) {
      await this.store.markPresent(registry, repository, digest);
      return this.describeKnown(digest, known.kind);
    }

    const { document, size } = await this.fetchManifest(registry, repository, digest);
    if (document.kind === 'image') {
      if (isArtifactManifest(document)) {
        return { kind: 'artifact', digest, subject: document.subject?.digest ?? null };
      }
      await this.storeImage(registry, repository, digest, size, document);
      return { kind: 'image', digest, imageDigests: [digest] };
    }

    const entries = document.manifests.filter((entry) => !isAttestationEntry(entry));
    const images: string[] = [];
    for (const entry of entries) {
      if (isIndexMediaType(entry.mediaType)) {
        throw new OciError(
          'invalid-manifest',
          `Index ${digest} nests another index (${entry.digest}); nested indexes are not supported.`,
        );
      }
      await this.ingestPlatformImage(registry, repository, entry.digest);
      images.push(entry.digest);
    }
    await this.store.insertIndex({
      digest,
      mediaType: document.mediaType,
      size,
      annotations: document.annotations,
      children: entries,
    });
    await this.store.markPresent(registry, repository, digest);
    this.logger.info({ registry, repository, digest, platforms: images.length }, 'index ingested');
    return { kind: 'index', digest, imageDigests: images };
  }

  private async ingestPlatformImage(
    registry: string,
    repository: string,
    digest: string,
  ): Promise<void> {
    if (await this.store.exists(digest)) {
      await this.store.markPresent(registry, repository, digest);
      return;
    }
    const { document, size } = await this.fetchManifest(registry, repository, digest);
    if (document.kind !== 'image') {
      throw new OciError('invalid-manifest', `Index entry ${digest} is not an image manifest.`);
    }
    await this.storeImage(registry, repository, digest, size, document);
  }

  /** Fetches a manifest by digest (the client verifies the body's hash) and parses it strictly. */
  private async fetchManifest(
    registry: string,
    repository: string,
    digest: string,
  ): Promise<{ document: ManifestDocument; size: number }> {
    const fetched = await this.registries.get(registry).getManifest(repository, digest);
    return {
      document: parseManifest(fetched.bytes, fetched.mediaType),
      size: fetched.bytes.length,
    };
  }

  /** Stores an image manifest with its config; parseManifest has already bounded the layers. */
  private async storeImage(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    manifest: ImageManifest,
  ): Promise<void> {
    if (manifest.config.size > MAX_CONFIG_BYTES) {
      throw new OciError(
        'invalid-config',
        `Config of ${digest} claims ${manifest.config.size} bytes; at most ${MAX_CONFIG_BYTES} are accepted.`,
      );
    }
    const client = this.registries.get(registry);
    const configBytes = await client.getBlob(repository, manifest.config.digest, MAX_CONFIG_BYTES);
    const config = parseImageConfig(configBytes);
    checkLayersMatchConfig(manifest, config);

    await this.store.insertImage({
      digest,
      mediaType: manifest.mediaType,
      size,
      manifest,
      configDigest: manifest.config.digest,
      config,
    });
    await this.store.markPresent(registry, repository, digest);
    this.logger.info(
      { registry, repository, digest, layers: config.diffIds.length },
      'image ingested',
    );
  }

  private async describeKnown(digest: string, kind: string): Promise<IngestResult> {
    if (kind === 'index') {
      const children = await this.store.indexChildren(digest);
      return { kind: 'index', digest, imageDigests: children };
    }
    return { kind: 'image', digest, imageDigests: [digest] };
  }
}
