import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import { APP_CONFIG, AppConfig, findRegistryByHost } from '@app/config';
import { BaseCandidate, DeclaredBase, selectBase } from '@app/lineage';
import { isDigest, parseReference } from '@app/oci';

export const BASE_NAME_ANNOTATION = 'org.opencontainers.image.base.name';
export const BASE_DIGEST_ANNOTATION = 'org.opencontainers.image.base.digest';

interface ImageLayers {
  kind: string;
  chain_ids: string[];
  annotations: Record<string, string>;
  os: string | null;
  architecture: string | null;
  variant: string | null;
}

/** Finds each image's direct base from its ChainIDs and records which base tags it tracks. */
@Injectable()
export class LineageService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Re-runs base detection for one image. Tracked tags are kept while the direct base stays the
   * same, because they record which tags pointed at the base when the edge was made.
   */
  async relink(digest: string): Promise<void> {
    const [image]: ImageLayers[] = await this.dataSource.query(
      `SELECT kind, chain_ids, annotations, os, architecture, variant FROM images WHERE digest = $1`,
      [digest],
    );
    if (!image || image.kind !== 'image') return;

    const declared = this.declaredBase(image.annotations);
    const candidates = await this.findCandidates(digest, image, declared);
    const selection = selectBase(image.chain_ids, candidates, declared);

    await this.dataSource.transaction(async (manager) => {
      // Two jobs may relink one image at once; the lock makes the second wait for the first.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [digest]);
      const [previous] = await manager.query(
        `SELECT base_digest FROM base_edges WHERE child_digest = $1 AND is_primary`,
        [digest],
      );
      await manager.query(`DELETE FROM base_edges WHERE child_digest = $1`, [digest]);
      const edges = selection.primary ? [selection.primary, ...selection.alternatives] : [];
      for (const [position, edge] of edges.entries()) {
        await manager.query(
          `INSERT INTO base_edges (child_digest, base_digest, base_layer_count, declared, is_primary)
           VALUES ($1, $2, $3, $4, $5)`,
          [
            digest,
            edge.digest,
            edge.layerCount,
            position === 0 && selection.declared,
            position === 0,
          ],
        );
      }
      const primary = selection.primary?.digest;
      if (primary !== previous?.base_digest) {
        await manager.query(`DELETE FROM tracked_base_tags WHERE child_digest = $1`, [digest]);
        if (primary) await this.trackCurrentTags(manager, digest, primary, declared);
      }
      await this.recordDeclaredMismatch(manager, digest, selection.declaredMismatch);
    });

    if (selection.primary) {
      this.logger.debug(
        { digest, base: selection.primary.digest, alternatives: selection.alternatives.length },
        'base linked',
      );
    }
  }

  /** Images that may have been built on this one: their ChainIDs contain its top ChainID. */
  async possibleDescendants(digest: string): Promise<string[]> {
    const rows: Array<{ digest: string }> = await this.dataSource.query(
      `SELECT c.digest FROM images p
         JOIN images c ON c.chain_ids @> ARRAY[p.top_chain_id] AND c.layer_count > p.layer_count
        WHERE p.digest = $1 AND p.kind = 'image' AND c.kind = 'image'`,
      [digest],
    );
    return rows.map((row) => row.digest);
  }

  /**
   * Lets edges that had no tracked tag adopt a tag that now points at their base, e.g. when a
   * child was ingested before its base was tagged. Returns the children that adopted it.
   */
  async adoptTag(
    registry: string,
    repository: string,
    tag: string,
    digest: string,
  ): Promise<string[]> {
    const rows: Array<{ child_digest: string }> = await this.dataSource.query(
      `INSERT INTO tracked_base_tags (child_digest, registry, repository, tag, base_digest)
       SELECT e.child_digest, $1, $2, $3, e.base_digest
         FROM base_edges e
        WHERE e.is_primary
          AND (e.base_digest = $4
               OR e.base_digest IN (SELECT child_digest FROM index_children WHERE index_digest = $4))
          AND NOT EXISTS (SELECT 1 FROM tracked_base_tags t WHERE t.child_digest = e.child_digest)
       ON CONFLICT DO NOTHING
       RETURNING child_digest`,
      [registry, repository, tag, digest],
    );
    return rows.map((row) => row.child_digest);
  }

  /**
   * Children whose base edge tracks a tag of this repository. Trackers of the moved tag may turn
   * stale; trackers of its other tags may gain or lose the newer-base-release advisory.
   */
  async trackersOfRepository(registry: string, repository: string): Promise<string[]> {
    const rows: Array<{ child_digest: string }> = await this.dataSource.query(
      `SELECT DISTINCT child_digest FROM tracked_base_tags WHERE registry = $1 AND repository = $2`,
      [registry, repository],
    );
    return rows.map((row) => row.child_digest);
  }

  private declaredBase(annotations: Record<string, string>): DeclaredBase | undefined {
    const name = annotations[BASE_NAME_ANNOTATION];
    const digest = annotations[BASE_DIGEST_ANNOTATION];
    if (!name && !digest) return undefined;
    return { name, digest: digest && isDigest(digest) ? digest : undefined };
  }

  /**
   * One indexed lookup on top_chain_id. A declared base that is an index is resolved to its
   * manifest for the child's platform, and a declared base outside the prefix set is added so
   * that selectBase can tell "not a prefix" from "not found".
   */
  private async findCandidates(
    digest: string,
    image: ImageLayers,
    declared: DeclaredBase | undefined,
  ): Promise<BaseCandidate[]> {
    const prefixes = image.chain_ids.slice(0, -1);
    const rows: Array<{
      digest: string;
      layer_count: number;
      top_chain_id: string;
      tagged: boolean;
    }> = await this.dataSource.query(
      `SELECT i.digest, i.layer_count, i.top_chain_id,
                EXISTS (SELECT 1 FROM tags t WHERE t.digest = i.digest
                           OR t.digest IN (SELECT index_digest FROM index_children WHERE child_digest = i.digest)) AS tagged
           FROM images i
          WHERE i.top_chain_id = ANY($1) AND i.kind = 'image' AND i.digest <> $2`,
      [prefixes, digest],
    );
    const candidates = rows.map((row) => ({
      digest: row.digest,
      layerCount: row.layer_count,
      topChainId: row.top_chain_id,
      tagged: row.tagged,
    }));

    if (declared?.digest && !candidates.some((candidate) => candidate.digest === declared.digest)) {
      const resolved = await this.resolveDeclaredDigest(declared.digest, image);
      if (resolved) {
        declared.digest = resolved.digest;
        if (!candidates.some((candidate) => candidate.digest === resolved.digest))
          candidates.push(resolved);
      }
    }
    return candidates;
  }

  private async resolveDeclaredDigest(
    declaredDigest: string,
    image: ImageLayers,
  ): Promise<BaseCandidate | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT i.digest, i.layer_count, i.top_chain_id, i.kind FROM images i WHERE i.digest = $1
       UNION ALL
       SELECT c.digest, c.layer_count, c.top_chain_id, c.kind
         FROM index_children ic JOIN images c ON c.digest = ic.child_digest
        WHERE ic.index_digest = $1 AND ic.platform_os IS NOT DISTINCT FROM $2
          AND ic.platform_architecture IS NOT DISTINCT FROM $3
          AND ic.platform_variant IS NOT DISTINCT FROM $4
       ORDER BY kind DESC
       LIMIT 1`,
      [declaredDigest, image.os, image.architecture, image.variant],
    );
    if (!row || row.kind !== 'image') return undefined;
    return {
      digest: row.digest,
      layerCount: row.layer_count,
      topChainId: row.top_chain_id ?? '',
      tagged: false,
    };
  }

  /** The child tracks the tags that point at its base now, or only the tag its declaration names. */
  private async trackCurrentTags(
    manager: EntityManager,
    child: string,
    base: string,
    declared: DeclaredBase | undefined,
  ): Promise<void> {
    const tags: Array<{ registry: string; repository: string; name: string }> = await manager.query(
      `SELECT registry, repository, name FROM tags
        WHERE digest = $1 OR digest IN (SELECT index_digest FROM index_children WHERE child_digest = $1)`,
      [base],
    );
    const narrowed = this.narrowToDeclaredName(tags, declared?.name);
    for (const tag of narrowed) {
      await manager.query(
        `INSERT INTO tracked_base_tags (child_digest, registry, repository, tag, base_digest)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [child, tag.registry, tag.repository, tag.name, base],
      );
    }
  }

  private narrowToDeclaredName<T extends { registry: string; repository: string; name: string }>(
    tags: T[],
    declaredName: string | undefined,
  ): Array<{ registry: string; repository: string; name: string }> {
    if (!declaredName) return tags;
    let reference;
    try {
      reference = parseReference(declaredName);
    } catch {
      return tags;
    }
    const registry = findRegistryByHost(this.config, reference.host);
    if (!registry || !reference.tag) return tags;
    return [{ registry: registry.name, repository: reference.repository, name: reference.tag }];
  }

  private async recordDeclaredMismatch(
    manager: EntityManager,
    digest: string,
    mismatch: { declaredDigest: string; reason: string } | undefined,
  ): Promise<void> {
    if (!mismatch) {
      await manager.query(
        `DELETE FROM findings WHERE digest = $1 AND code = 'declared-base-mismatch'`,
        [digest],
      );
      return;
    }
    await manager.query(
      `INSERT INTO findings (digest, code, detail) VALUES ($1, 'declared-base-mismatch', $2)
       ON CONFLICT (digest, code) DO UPDATE SET detail = EXCLUDED.detail`,
      [digest, JSON.stringify(mismatch)],
    );
  }
}
