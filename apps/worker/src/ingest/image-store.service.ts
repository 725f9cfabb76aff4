import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import { computeChainIds, Descriptor, ImageConfig, ImageManifest } from '@app/oci';

export interface TagChange {
  previousDigest: string | null;
  digest: string | null;
  /** False when the event was older than the tag's current state or changed nothing. */
  changed: boolean;
}

/** Environment variable names that usually carry credentials. */
const SECRET_NAME = /(PASSW(OR)?D|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)/i;

/** Data access for images, presence, tags and their history. Decisions live in the services. */
@Injectable()
export class ImageStoreService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async exists(digest: string): Promise<{ kind: string } | undefined> {
    const [row] = await this.dataSource.query(`SELECT kind FROM images WHERE digest = $1`, [
      digest,
    ]);
    return row;
  }

  async indexChildren(indexDigest: string): Promise<string[]> {
    const rows: Array<{ child_digest: string }> = await this.dataSource.query(
      `SELECT child_digest FROM index_children WHERE index_digest = $1 ORDER BY position`,
      [indexDigest],
    );
    return rows.map((row) => row.child_digest);
  }

  async insertImage(input: {
    digest: string;
    mediaType: string;
    size: number;
    manifest: ImageManifest;
    configDigest: string;
    config: ImageConfig;
  }): Promise<void> {
    const { config, manifest } = input;
    const chainIds = computeChainIds(config.diffIds);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO images (digest, media_type, kind, size, config_digest, architecture, os, variant,
                             created, config_user, labels, annotations, layer_count, diff_ids,
                             chain_ids, top_chain_id)
         VALUES ($1, $2, 'image', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (digest) DO NOTHING`,
        [
          input.digest,
          input.mediaType,
          input.size,
          input.configDigest,
          config.architecture,
          config.os,
          config.variant ?? null,
          parseTime(config.created),
          config.user ?? null,
          JSON.stringify(config.labels),
          JSON.stringify(manifest.annotations),
          config.diffIds.length,
          config.diffIds,
          chainIds,
          chainIds[chainIds.length - 1] ?? null,
        ],
      );
      await this.replaceConfigFindings(manager, input.digest, config);
    });
  }

  async insertIndex(input: {
    digest: string;
    mediaType: string;
    size: number;
    annotations: Record<string, string>;
    children: Descriptor[];
  }): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const inserted = await manager.query(
        `INSERT INTO images (digest, media_type, kind, size, annotations)
         VALUES ($1, $2, 'index', $3, $4)
         ON CONFLICT (digest) DO NOTHING RETURNING digest`,
        [input.digest, input.mediaType, input.size, JSON.stringify(input.annotations)],
      );
      if (inserted.length === 0) return;
      for (const [position, child] of input.children.entries()) {
        await manager.query(
          `INSERT INTO index_children (index_digest, position, child_digest, platform_os,
                                       platform_architecture, platform_variant)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            input.digest,
            position,
            child.digest,
            child.platform?.os ?? null,
            child.platform?.architecture ?? null,
            child.platform?.variant ?? null,
          ],
        );
      }
    });
  }

  async markPresent(registry: string, repository: string, digest: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO repository_images (registry, repository, digest) VALUES ($1, $2, $3)
       ON CONFLICT (registry, repository, digest) DO UPDATE SET deleted_at = NULL`,
      [registry, repository, digest],
    );
  }

  /** Marks a manifest deleted from a repository; returns false when it was never known there. */
  async markDeleted(registry: string, repository: string, digest: string): Promise<boolean> {
    const rows = await this.dataSource.query(
      `UPDATE repository_images SET deleted_at = now()
        WHERE registry = $1 AND repository = $2 AND digest = $3 RETURNING digest`,
      [registry, repository, digest],
    );
    return rowCount(rows) > 0;
  }

  /**
   * Points a tag at a digest unless a newer event already moved it, and appends the move to
   * the history. The row lock serialises concurrent events for one tag.
   */
  async setTag(input: {
    registry: string;
    repository: string;
    tag: string;
    digest: string | null;
    eventTime: Date | null;
    source: string;
  }): Promise<TagChange> {
    return this.dataSource.transaction(async (manager) => {
      const [current] = await manager.query(
        `SELECT digest, event_time FROM tags WHERE registry = $1 AND repository = $2 AND name = $3
         FOR UPDATE`,
        [input.registry, input.repository, input.tag],
      );
      const previousDigest: string | null = current?.digest ?? null;
      const previousTime: Date | null = current?.event_time ?? null;
      if (input.eventTime && previousTime && input.eventTime < previousTime) {
        return { previousDigest, digest: previousDigest, changed: false };
      }
      if (previousDigest === input.digest) {
        if (current && input.eventTime) {
          await manager.query(
            `UPDATE tags SET event_time = $4 WHERE registry = $1 AND repository = $2 AND name = $3`,
            [input.registry, input.repository, input.tag, input.eventTime],
          );
        }
        return { previousDigest, digest: input.digest, changed: false };
      }

      if (input.digest === null) {
        await manager.query(
          `DELETE FROM tags WHERE registry = $1 AND repository = $2 AND name = $3`,
          [input.registry, input.repository, input.tag],
        );
      } else {
        await manager.query(
          `INSERT INTO tags (registry, repository, name, digest, updated_at, event_time)
           VALUES ($1, $2, $3, $4, now(), $5)
           ON CONFLICT (registry, repository, name)
           DO UPDATE SET digest = EXCLUDED.digest, updated_at = now(), event_time = EXCLUDED.event_time`,
          [input.registry, input.repository, input.tag, input.digest, input.eventTime],
        );
      }
      await this.appendHistory(manager, input, previousDigest);
      return { previousDigest, digest: input.digest, changed: true };
    });
  }

  async tagsOfRepository(registry: string, repository: string): Promise<Map<string, string>> {
    const rows: Array<{ name: string; digest: string }> = await this.dataSource.query(
      `SELECT name, digest FROM tags WHERE registry = $1 AND repository = $2`,
      [registry, repository],
    );
    return new Map(rows.map((row) => [row.name, row.digest]));
  }

  private async appendHistory(
    manager: EntityManager,
    input: {
      registry: string;
      repository: string;
      tag: string;
      digest: string | null;
      eventTime: Date | null;
      source: string;
    },
    previousDigest: string | null,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO tag_history (registry, repository, tag, digest, previous_digest, event_time, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        input.registry,
        input.repository,
        input.tag,
        input.digest,
        previousDigest,
        input.eventTime,
        input.source,
      ],
    );
  }

  /** Records what the config shows about root users and credentials in the environment. */
  private async replaceConfigFindings(
    manager: EntityManager,
    digest: string,
    config: ImageConfig,
  ): Promise<void> {
    const user = (config.user ?? '').split(':')[0];
    if (user === '' || user === 'root' || user === '0') {
      await upsertFinding(manager, digest, 'runs-as-root', { user: config.user ?? '' });
    }
    const secrets = config.env
      .map((entry) => {
        const separator = entry.indexOf('=');
        return separator > 0
          ? { name: entry.slice(0, separator), value: entry.slice(separator + 1) }
          : undefined;
      })
      .filter(
        (entry): entry is { name: string; value: string } =>
          !!entry && SECRET_NAME.test(entry.name) && entry.value !== '',
      )
      .map((entry) => ({
        name: entry.name,
        // A fingerprint lets reviewers match a leaked value without the service storing it.
        fingerprint: createHash('sha256').update(entry.value).digest('hex').slice(0, 16),
      }));
    if (secrets.length > 0)
      await upsertFinding(manager, digest, 'secret-in-env', { variables: secrets });
  }
}

async function upsertFinding(
  manager: EntityManager,
  digest: string,
  code: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await manager.query(
    `INSERT INTO findings (digest, code, detail) VALUES ($1, $2, $3)
     ON CONFLICT (digest, code) DO UPDATE SET detail = EXCLUDED.detail`,
    [digest, code, JSON.stringify(detail)],
  );
}

function parseTime(value: string | undefined): Date | null {
  if (!value) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}

/** node-postgres returns UPDATE ... RETURNING rows as [rows, count] through TypeORM. */
function rowCount(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && typeof result[1] === 'number')
    return result[1];
  return Array.isArray(result) ? result.length : 0;
}
