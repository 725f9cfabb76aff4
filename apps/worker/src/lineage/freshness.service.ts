import { isDeepStrictEqual } from 'node:util';

import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import {
  combinePlatformVerdicts,
  compareReleases,
  computeVerdict,
  FreshnessVerdict,
  readRelease,
  TrackedTagState,
} from '@app/lineage';

import { BASE_NAME_ANNOTATION } from './lineage.service';

interface ImageFacts {
  kind: string;
  layer_count: number;
  annotations: Record<string, string>;
}

interface BaseFacts {
  base_digest: string;
  top_chain_id: string | null;
  os: string | null;
  architecture: string | null;
  variant: string | null;
  labels: Record<string, string>;
  status: FreshnessVerdict['status'] | null;
  reasons: FreshnessVerdict['reasons'] | null;
}

/** Computes and stores freshness verdicts, and walks descendants when a verdict changes. */
@Injectable()
export class FreshnessService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Recomputes images breadth-first from `digests`, following base edges and indexes only below
   * images whose verdict changed. Stops after `budget` images and returns the unvisited frontier
   * so that the caller can continue in another job.
   */
  async propagate(
    digests: string[],
    budget: number,
  ): Promise<{ processed: number; changed: number; remaining: string[] }> {
    const queue = [...new Set(digests)];
    const seen = new Set<string>();
    let processed = 0;
    let changed = 0;

    while (queue.length > 0 && processed < budget) {
      const digest = queue.shift() as string;
      if (seen.has(digest)) continue;
      seen.add(digest);
      processed += 1;

      if (!(await this.recompute(digest))) continue;
      changed += 1;
      for (const dependent of await this.dependentsOf(digest)) {
        if (!seen.has(dependent)) queue.push(dependent);
      }
    }
    const remaining = [...new Set(queue.filter((digest) => !seen.has(digest)))];
    return { processed, changed, remaining };
  }

  /** Computes one image's verdict and stores it; returns whether status or reasons changed. */
  async recompute(digest: string): Promise<boolean> {
    const verdict = await this.computeFor(digest);
    if (!verdict) return false;
    const [previous] = await this.dataSource.query(
      `SELECT status, reasons FROM freshness WHERE digest = $1`,
      [digest],
    );
    await this.dataSource.query(
      `INSERT INTO freshness (digest, status, reasons, computed_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (digest) DO UPDATE SET status = EXCLUDED.status, reasons = EXCLUDED.reasons,
                                          computed_at = EXCLUDED.computed_at`,
      [digest, verdict.status, JSON.stringify(verdict.reasons)],
    );
    const changed =
      !previous ||
      previous.status !== verdict.status ||
      !isDeepStrictEqual(previous.reasons, JSON.parse(JSON.stringify(verdict.reasons)));
    if (changed && previous) {
      this.logger.info({ digest, from: previous.status, to: verdict.status }, 'freshness changed');
    }
    return changed;
  }

  async computeFor(digest: string): Promise<FreshnessVerdict | undefined> {
    const [image]: ImageFacts[] = await this.dataSource.query(
      `SELECT kind, layer_count, annotations FROM images WHERE digest = $1`,
      [digest],
    );
    if (!image) return undefined;
    if (image.kind === 'index') return this.computeForIndex(digest);

    const [base]: BaseFacts[] = await this.dataSource.query(
      `SELECT e.base_digest, b.top_chain_id, b.os, b.architecture, b.variant, b.labels, f.status,
              f.reasons
         FROM base_edges e
         JOIN images b ON b.digest = e.base_digest
         LEFT JOIN freshness f ON f.digest = e.base_digest
        WHERE e.child_digest = $1 AND e.is_primary`,
      [digest],
    );
    const [declaredMissing] = await this.dataSource.query(
      `SELECT 1 FROM findings WHERE digest = $1 AND code = 'declared-base-mismatch'
          AND detail->>'reason' = 'not-found'`,
      [digest],
    );

    return computeVerdict({
      layerCount: image.layer_count,
      declaredBaseName: image.annotations[BASE_NAME_ANNOTATION],
      declaredBaseMissing: !!declaredMissing,
      base: base && {
        digest: base.base_digest,
        topChainId: base.top_chain_id ?? '',
        verdict: base.status ? { status: base.status, reasons: base.reasons ?? [] } : undefined,
      },
      trackedTags: base ? await this.trackedTagStates(digest, base) : [],
      newerBaseRelease: base ? await this.newerBaseRelease(base) : undefined,
    });
  }

  /**
   * Finds the newest tagged image in the base's repositories whose Version/Release labels are
   * newer than the base's, for the advisory `atomic verify` gave. Looks at 200 tags at most.
   */
  private async newerBaseRelease(
    base: BaseFacts,
  ): Promise<{ tag: string; digest: string; version: string; builtOnVersion: string } | undefined> {
    const builtOn = readRelease(base.labels);
    if (!builtOn) return undefined;
    const rows: Array<{
      registry: string;
      repository: string;
      name: string;
      digest: string;
      labels: Record<string, string>;
    }> = await this.dataSource.query(
      `SELECT t.registry, t.repository, t.name, i.digest, i.labels
           FROM repository_images r
           JOIN tags t ON t.registry = r.registry AND t.repository = r.repository
           JOIN images i ON i.digest = t.digest
          WHERE r.digest = $1 AND r.deleted_at IS NULL AND i.digest <> $1 AND i.kind = 'image'
          LIMIT 200`,
      [base.base_digest],
    );
    let newest:
      | { row: (typeof rows)[number]; release: NonNullable<ReturnType<typeof readRelease>> }
      | undefined;
    for (const row of rows) {
      const release = readRelease(row.labels);
      if (!release) continue;
      const order = compareReleases(release, newest?.release ?? builtOn);
      if (order !== undefined && order > 0) newest = { row, release };
    }
    if (!newest) return undefined;
    const format = (release: { version: string; release?: string }) =>
      release.release ? `${release.version}-${release.release}` : release.version;
    return {
      tag: `${newest.row.registry}/${newest.row.repository}:${newest.row.name}`,
      digest: newest.row.digest,
      version: format(newest.release),
      builtOnVersion: format(builtOn),
    };
  }

  /** Base edges and indexes whose verdict depends on this image's verdict. */
  private async dependentsOf(digest: string): Promise<string[]> {
    const rows: Array<{ digest: string }> = await this.dataSource.query(
      `SELECT child_digest AS digest FROM base_edges WHERE base_digest = $1 AND is_primary
       UNION
       SELECT index_digest FROM index_children WHERE child_digest = $1`,
      [digest],
    );
    return rows.map((row) => row.digest);
  }

  private async computeForIndex(digest: string): Promise<FreshnessVerdict> {
    const children: Array<{
      child_digest: string;
      platform: string;
      status: FreshnessVerdict['status'] | null;
      reasons: FreshnessVerdict['reasons'] | null;
    }> = await this.dataSource.query(
      `SELECT ic.child_digest,
              concat_ws('/', ic.platform_os, ic.platform_architecture, ic.platform_variant) AS platform,
              f.status, f.reasons
         FROM index_children ic LEFT JOIN freshness f ON f.digest = ic.child_digest
        WHERE ic.index_digest = $1 ORDER BY ic.position`,
      [digest],
    );
    return combinePlatformVerdicts(
      children.map((child) => ({
        digest: child.child_digest,
        platform: child.platform || 'unknown',
        verdict: child.status ? { status: child.status, reasons: child.reasons ?? [] } : undefined,
      })),
    );
  }

  /**
   * Resolves each tracked tag to the image it points at now. A tag on an index resolves to the
   * index's manifest for the base's platform, so multi-arch bases compare like for like.
   */
  private async trackedTagStates(digest: string, base: BaseFacts): Promise<TrackedTagState[]> {
    const rows: Array<{
      registry: string;
      repository: string;
      tag: string;
      current: string | null;
      kind: string | null;
      top_chain_id: string | null;
      platform_digest: string | null;
      platform_top_chain_id: string | null;
    }> = await this.dataSource.query(
      `SELECT t.registry, t.repository, t.tag, g.digest AS current, i.kind, i.top_chain_id,
              p.child_digest AS platform_digest, pi.top_chain_id AS platform_top_chain_id
         FROM tracked_base_tags t
         LEFT JOIN tags g ON g.registry = t.registry AND g.repository = t.repository AND g.name = t.tag
         LEFT JOIN images i ON i.digest = g.digest
         LEFT JOIN LATERAL (
           SELECT ic.child_digest FROM index_children ic
            WHERE ic.index_digest = g.digest
              AND ic.platform_os IS NOT DISTINCT FROM $2
              AND ic.platform_architecture IS NOT DISTINCT FROM $3
              AND ic.platform_variant IS NOT DISTINCT FROM $4
            ORDER BY ic.position LIMIT 1
         ) p ON i.kind = 'index'
         LEFT JOIN images pi ON pi.digest = p.child_digest
        WHERE t.child_digest = $1
        ORDER BY t.registry, t.repository, t.tag`,
      [digest, base.os, base.architecture, base.variant],
    );
    return rows.map((row) => {
      const name = `${row.registry}/${row.repository}:${row.tag}`;
      if (row.kind === 'index') {
        return {
          tag: name,
          currentDigest: row.platform_digest ?? row.current,
          currentTopChainId: row.platform_top_chain_id,
        };
      }
      return { tag: name, currentDigest: row.current, currentTopChainId: row.top_chain_id };
    });
  }
}
