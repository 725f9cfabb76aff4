import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { DomainError, DomainErrorCode } from '@app/common';
import { APP_CONFIG, AppConfig, findRegistryByHost } from '@app/config';
import type { FreshnessReason, FreshnessStatus } from '@app/lineage';
import { isDigest, OciError, parseReference } from '@app/oci';

import { summarizeRepositoryVerdict, VerdictRow } from '../signatures/signature-verdicts';
import { SignatureVerdictsService } from '../signatures/signature-verdicts.service';
import { decodeCursor, encodeCursor } from './cursor';
import {
  BaseChainEntry,
  FreshnessResponse,
  ImageDetail,
  ImageSummary,
  Page,
  TagView,
} from './image.views';

/** Maximum base chain depth followed, so that a cycle or a very deep chain ends the walk. */
const MAX_CHAIN_DEPTH = 64;

const PENDING_REASON: FreshnessReason = {
  code: 'lookup-failed',
  effect: 'unknown',
  message: 'Freshness has not been computed yet; the image is still being processed.',
};

interface ResolvedReference {
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
}

interface ReferencedImageRow {
  digest: string;
  media_type: string;
  kind: string;
  status: FreshnessStatus | null;
  reasons: FreshnessReason[];
  computed_at: Date | null;
  base_chain: ChainRow[];
  signature: VerdictRow | null;
}

/** One image of a base chain or descendant walk, as the recursive queries return it. */
interface ChainRow {
  digest: string;
  depth: number;
  status: FreshnessStatus | null;
  tags: TagView[];
}

function mapChainRow(row: ChainRow): BaseChainEntry {
  return { digest: row.digest, depth: row.depth, status: row.status ?? 'unknown', tags: row.tags };
}

interface ImageRow {
  digest: string;
  media_type: string;
  kind: string;
  architecture: string | null;
  os: string | null;
  variant: string | null;
  layer_count: number;
  first_seen_at: Date;
  status: FreshnessStatus | null;
}

export interface ImageListFilter {
  status?: string;
  /** Signature status; matches a verdict in any repository, or in `registry`/`repository`. */
  signature?: string;
  registry?: string;
  repository?: string;
  tagged?: boolean;
  limit: number;
  cursor?: string;
}

/** Read side of the API: verdicts, images, lineage. Every lookup is a keyed or indexed query. */
@Injectable()
export class ImageQueriesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly signatureVerdicts: SignatureVerdictsService,
  ) {}

  async freshnessOf(reference: string): Promise<FreshnessResponse> {
    const resolved = this.resolveReference(reference);
    const row = await this.findReferencedImage(resolved);
    if (!row)
      throw new DomainError(DomainErrorCode.NotFound, `Image ${reference} has never been seen.`);

    return {
      image: reference,
      registry: resolved.registry,
      repository: resolved.repository,
      tag: resolved.tag,
      digest: row.digest,
      mediaType: row.media_type,
      kind: row.kind,
      status: row.status ?? 'unknown',
      reasons: row.status ? row.reasons : [PENDING_REASON],
      baseChain: row.base_chain.map(mapChainRow),
      computedAt: row.computed_at ? new Date(row.computed_at).toISOString() : null,
      signature: summarizeRepositoryVerdict(row.signature ?? undefined),
    };
  }

  /**
   * Reads the image a reference names, with its verdict, in one query: through the tag, or
   * through the repository's presence row when the reference carries a digest.
   */
  /**
   * Reads the image a reference names, with its verdict, base chain and signature verdict in the
   * repository, in one query: through the tag, or through the repository's presence row when
   * the reference carries a digest. One round trip keeps the query cheap for CI pipelines.
   */
  private async findReferencedImage(
    resolved: ResolvedReference,
  ): Promise<ReferencedImageRow | undefined> {
    const columns = `i.digest, i.media_type, i.kind, f.status, f.reasons, f.computed_at,
      (${BASE_CHAIN_JSON('i.digest')}) AS base_chain,
      (SELECT row_to_json(v) FROM signature_verdicts v
        WHERE v.digest = i.digest AND v.registry = $1 AND v.repository = $2) AS signature`;
    const [row] = resolved.digest
      ? await this.dataSource.query(
          `SELECT ${columns}
             FROM repository_images r
             JOIN images i ON i.digest = r.digest
             LEFT JOIN freshness f ON f.digest = i.digest
            WHERE r.registry = $1 AND r.repository = $2 AND r.digest = $3 AND r.deleted_at IS NULL`,
          [resolved.registry, resolved.repository, resolved.digest],
        )
      : await this.dataSource.query(
          `SELECT ${columns}
             FROM tags t
             JOIN images i ON i.digest = t.digest
             LEFT JOIN freshness f ON f.digest = i.digest
            WHERE t.registry = $1 AND t.repository = $2 AND t.name = $3`,
          [resolved.registry, resolved.repository, resolved.tag],
        );
    return row;
  }

  async listImages(filter: ImageListFilter): Promise<Page<ImageSummary>> {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const bind = (value: unknown) => {
      parameters.push(value);
      return `$${parameters.length}`;
    };

    if (filter.status) conditions.push(`coalesce(f.status, 'unknown') = ${bind(filter.status)}`);
    if (filter.registry || filter.repository) {
      const presence = ['r.digest = i.digest', 'r.deleted_at IS NULL'];
      if (filter.registry) presence.push(`r.registry = ${bind(filter.registry)}`);
      if (filter.repository) presence.push(`r.repository = ${bind(filter.repository)}`);
      conditions.push(`EXISTS (SELECT 1 FROM repository_images r WHERE ${presence.join(' AND ')})`);
    }
    if (filter.signature) {
      const verdict = ['v.digest = i.digest', `v.status = ${bind(filter.signature)}`];
      if (filter.registry) verdict.push(`v.registry = ${bind(filter.registry)}`);
      if (filter.repository) verdict.push(`v.repository = ${bind(filter.repository)}`);
      conditions.push(`EXISTS (SELECT 1 FROM signature_verdicts v WHERE ${verdict.join(' AND ')})`);
    }
    if (filter.tagged !== undefined) {
      conditions.push(
        `${filter.tagged ? '' : 'NOT '}EXISTS (SELECT 1 FROM tags t WHERE t.digest = i.digest)`,
      );
    }
    const cursor = decodeCursor(filter.cursor, 2);
    if (cursor) {
      conditions.push(
        `(i.first_seen_at, i.digest) < (${bind(cursor[0])}::timestamptz, ${bind(cursor[1])})`,
      );
    }

    const rows: ImageRow[] = await this.dataSource.query(
      `SELECT i.digest, i.media_type, i.kind, i.architecture, i.os, i.variant, i.layer_count,
              i.first_seen_at, f.status
         FROM images i LEFT JOIN freshness f ON f.digest = i.digest
        ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY i.first_seen_at DESC, i.digest DESC
        LIMIT ${bind(filter.limit + 1)}`,
      parameters,
    );
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    const summaries = await this.summarize(page);
    return {
      items: summaries,
      nextCursor:
        rows.length > filter.limit && last
          ? encodeCursor([new Date(last.first_seen_at).toISOString(), last.digest])
          : null,
    };
  }

  async imageDetail(digest: string): Promise<ImageDetail> {
    this.assertDigest(digest);
    const [row] = await this.dataSource.query(
      `SELECT i.*, f.status, f.reasons, f.computed_at
         FROM images i LEFT JOIN freshness f ON f.digest = i.digest
        WHERE i.digest = $1`,
      [digest],
    );
    if (!row)
      throw new DomainError(DomainErrorCode.NotFound, `Image ${digest} has never been seen.`);

    const [summary] = await this.summarize([row]);
    const platforms = await this.dataSource.query(
      `SELECT child_digest, platform_os, platform_architecture, platform_variant
         FROM index_children WHERE index_digest = $1 ORDER BY position`,
      [digest],
    );
    const indexes = await this.dataSource.query(
      `SELECT DISTINCT index_digest FROM index_children WHERE child_digest = $1 ORDER BY index_digest`,
      [digest],
    );
    const edges = await this.dataSource.query(
      `SELECT e.base_digest, e.base_layer_count, e.is_primary, e.declared,
              coalesce((SELECT json_agg(json_build_object('registry', t.registry,
                         'repository', t.repository, 'tag', t.tag) ORDER BY t.registry, t.repository, t.tag)
                  FROM tracked_base_tags t WHERE t.child_digest = e.child_digest
                   AND t.base_digest = e.base_digest), '[]') AS tracked
         FROM base_edges e WHERE e.child_digest = $1
        ORDER BY e.is_primary DESC, e.base_digest`,
      [digest],
    );
    const findings = await this.dataSource.query(
      `SELECT code, detail FROM findings WHERE digest = $1 ORDER BY code`,
      [digest],
    );

    return {
      ...summary,
      size: Number(row.size),
      configDigest: row.config_digest,
      created: row.created ? new Date(row.created).toISOString() : null,
      user: row.config_user,
      labels: row.labels,
      annotations: row.annotations,
      platforms: platforms.map((entry: Record<string, string | null>) => ({
        digest: entry.child_digest as string,
        platform:
          formatPlatform(entry.platform_os, entry.platform_architecture, entry.platform_variant) ??
          'unknown',
      })),
      indexes: indexes.map((entry: { index_digest: string }) => entry.index_digest),
      baseEdges: edges.map((edge: Record<string, unknown>) => ({
        baseDigest: edge.base_digest as string,
        baseLayers: edge.base_layer_count as number,
        primary: edge.is_primary as boolean,
        declared: edge.declared as boolean,
        trackedTags: edge.tracked as TagView[],
      })),
      freshness: {
        status: row.status ?? 'unknown',
        reasons: row.status ? row.reasons : [PENDING_REASON],
        computedAt: row.computed_at ? new Date(row.computed_at).toISOString() : null,
      },
      findings,
    };
  }

  async lineage(
    digest: string,
    limit: number,
    cursor?: string,
  ): Promise<{ digest: string; ancestors: BaseChainEntry[]; descendants: Page<BaseChainEntry> }> {
    this.assertDigest(digest);
    const [exists] = await this.dataSource.query(`SELECT 1 FROM images WHERE digest = $1`, [
      digest,
    ]);
    if (!exists)
      throw new DomainError(DomainErrorCode.NotFound, `Image ${digest} has never been seen.`);

    const after = decodeCursor(cursor, 2);
    const rows: ChainRow[] = await this.dataSource.query(
      `WITH RECURSIVE descendants(digest, depth, path) AS (
           SELECT child_digest, 1, ARRAY[base_digest, child_digest]
             FROM base_edges WHERE base_digest = $1 AND is_primary
           UNION ALL
           SELECT e.child_digest, d.depth + 1, d.path || e.child_digest
             FROM base_edges e JOIN descendants d ON e.base_digest = d.digest AND e.is_primary
            WHERE NOT e.child_digest = ANY(d.path) AND d.depth < ${MAX_CHAIN_DEPTH}
         )
         SELECT d.digest, d.depth, f.status, ${TAGS_OF('d.digest')} AS tags
           FROM descendants d LEFT JOIN freshness f ON f.digest = d.digest
          WHERE ($2::int IS NULL OR (d.depth, d.digest) > ($2::int, $3::text))
          ORDER BY d.depth, d.digest
          LIMIT $4`,
      [digest, after ? Number(after[0]) : null, after ? String(after[1]) : null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      digest,
      ancestors: await this.baseChain(digest),
      descendants: {
        items: page.map(mapChainRow),
        nextCursor: rows.length > limit && last ? encodeCursor([last.depth, last.digest]) : null,
      },
    };
  }

  private async baseChain(digest: string): Promise<BaseChainEntry[]> {
    const [row]: Array<{ chain: ChainRow[] }> = await this.dataSource.query(
      `SELECT (${BASE_CHAIN_JSON('$1::text')}) AS chain`,
      [digest],
    );
    return row.chain.map(mapChainRow);
  }

  /** Parses a reference and maps its host to a configured registry. */
  private resolveReference(reference: string): ResolvedReference {
    let parsed;
    try {
      parsed = parseReference(reference);
    } catch (error) {
      if (error instanceof OciError) {
        throw new DomainError(DomainErrorCode.BadRequest, error.message);
      }
      throw error;
    }
    const registry = findRegistryByHost(this.config, parsed.host);
    if (!registry) {
      throw new DomainError(
        DomainErrorCode.NotFound,
        `Registry host "${parsed.host}" is not configured; write the host as listed in the service configuration.`,
      );
    }
    return {
      registry: registry.name,
      repository: parsed.repository,
      tag: parsed.tag ?? null,
      digest: parsed.digest ?? null,
    };
  }

  private async summarize(rows: ImageRow[]): Promise<ImageSummary[]> {
    if (rows.length === 0) return [];
    const digests = rows.map((row) => row.digest);
    const repositories: Array<{ digest: string; registry: string; repository: string }> =
      await this.dataSource.query(
        `SELECT digest, registry, repository FROM repository_images
          WHERE digest = ANY($1) AND deleted_at IS NULL ORDER BY registry, repository`,
        [digests],
      );
    const tags: Array<{ digest: string; registry: string; repository: string; name: string }> =
      await this.dataSource.query(
        `SELECT digest, registry, repository, name FROM tags
          WHERE digest = ANY($1) ORDER BY registry, repository, name`,
        [digests],
      );
    const signatures = await this.signatureVerdicts.forImages(digests);
    return rows.map((row) => ({
      digest: row.digest,
      mediaType: row.media_type,
      kind: row.kind,
      platform: formatPlatform(row.os, row.architecture, row.variant),
      layers: row.layer_count,
      firstSeenAt: new Date(row.first_seen_at).toISOString(),
      status: row.status ?? 'unknown',
      repositories: repositories
        .filter((entry) => entry.digest === row.digest)
        .map(({ registry, repository }) => ({ registry, repository })),
      tags: tags
        .filter((entry) => entry.digest === row.digest)
        .map(({ registry, repository, name }) => ({ registry, repository, tag: name })),
      signature: signatures.get(row.digest) ?? null,
    }));
  }

  private assertDigest(digest: string): void {
    if (!isDigest(digest)) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `"${digest}" is not a valid digest (sha256:<64 hex>).`,
      );
    }
  }
}

/**
 * The base chain of a digest as a JSON array of chain rows, nearest base first: a recursive walk
 * up the primary base edges, stopped at MAX_CHAIN_DEPTH and at any cycle.
 */
function BASE_CHAIN_JSON(digest: string): string {
  return `WITH RECURSIVE chain(digest, depth, path) AS (
            SELECT base_digest, 1, ARRAY[child_digest, base_digest]
              FROM base_edges WHERE child_digest = ${digest} AND is_primary
            UNION ALL
            SELECT e.base_digest, c.depth + 1, c.path || e.base_digest
              FROM base_edges e JOIN chain c ON e.child_digest = c.digest AND e.is_primary
             WHERE NOT e.base_digest = ANY(c.path) AND c.depth < ${MAX_CHAIN_DEPTH}
          )
          SELECT coalesce(json_agg(json_build_object('digest', c.digest, 'depth', c.depth,
                   'status', cf.status, 'tags', ${TAGS_OF('c.digest')}) ORDER BY c.depth), '[]')
            FROM chain c LEFT JOIN freshness cf ON cf.digest = c.digest`;
}

/**
 * Tags that point at a digest directly or at an index that lists it. Two indexed lookups joined
 * by UNION, because an OR across them makes PostgreSQL scan the whole tags table.
 */
function TAGS_OF(column: string): string {
  return `coalesce((SELECT json_agg(json_build_object('registry', t.registry, 'repository', t.repository,
            'tag', t.name) ORDER BY t.registry, t.repository, t.name)
       FROM (SELECT registry, repository, name FROM tags WHERE digest = ${column}
             UNION
             SELECT tg.registry, tg.repository, tg.name
               FROM index_children ic JOIN tags tg ON tg.digest = ic.index_digest
              WHERE ic.child_digest = ${column}) t), '[]')`;
}

function formatPlatform(
  os: string | null,
  architecture: string | null,
  variant: string | null,
): string | null {
  if (!os || !architecture) return null;
  return variant ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`;
}
