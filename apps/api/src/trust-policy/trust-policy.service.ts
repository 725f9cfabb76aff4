import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';

import { ROOT_LOGGER } from '@app/common';
import { JobName, QueueName, ReverifyPolicyJobData } from '@app/queue';
import { exportPolicyJson, TrustPolicy } from '@app/signatures';

import type { AuthenticatedKey } from '../auth/api-keys.service';
import { decodeCursor, encodeCursor } from '../images/cursor';
import type { Page } from '../images/image.views';
import { importPolicyJson, PolicyJsonImportRequest } from './policy-json-import';
import { assertTrustMaterial } from './trust-material';
import { assertPolicyRules, TrustPolicyUpdate } from './trust-policy.schema';
import {
  PolicyAuthorView,
  SavedTrustPolicyView,
  TrustPolicyExportView,
  TrustPolicyVersionView,
} from './trust-policy.views';

/** The policy in force before any version is saved: every image passes without a signature. */
export const ACCEPT_ALL_POLICY: TrustPolicy = { default: [{ type: 'accept' }], scopes: {} };

/**
 * Key of the transaction-scoped advisory lock taken around each insert, so that versions
 * commit in the order of their numbers and the highest version is always the last one saved.
 */
const POLICY_WRITE_LOCK = 7_340_001;

/** Stored form of the author: `<key prefix> (<key name>)`. */
const AUTHOR = /^([0-9a-f]{12}) \((.*)\)$/s;

interface TrustPolicyRow {
  version: number;
  policy: TrustPolicy;
  source: 'api' | 'import';
  created_by: string;
  created_at: Date;
  comment: string | null;
  unsupported: string[];
}

interface NewPolicyVersion {
  policy: TrustPolicy;
  source: 'api' | 'import';
  comment: string | null;
  unsupported: string[];
  author: AuthenticatedKey;
}

/** Versioned trust policy: reads, audited appends, policy.json import and export. */
@Injectable()
export class TrustPolicyService {
  private readonly logger: Logger;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Signatures)
    private readonly signaturesQueue: Queue<ReverifyPolicyJobData>,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'trust-policy' });
  }

  /** Returns the newest version, or the accept-all policy with version null. */
  async current(): Promise<TrustPolicyVersionView> {
    const [row] = await this.dataSource.query<TrustPolicyRow[]>(
      `SELECT * FROM trust_policies ORDER BY version DESC LIMIT 1`,
    );
    if (!row) {
      return {
        version: null,
        policy: ACCEPT_ALL_POLICY,
        source: null,
        comment: null,
        unsupported: [],
        createdBy: null,
        createdAt: null,
      };
    }
    return mapVersion(row);
  }

  /** Saves a policy sent in the TrustPolicy shape, after its key material parsed. */
  async replace(
    update: TrustPolicyUpdate,
    author: AuthenticatedKey,
  ): Promise<SavedTrustPolicyView> {
    await assertTrustMaterial(update.policy, 'policy');
    return this.append({
      policy: update.policy,
      source: 'api',
      comment: update.comment,
      unsupported: [],
      author,
    });
  }

  /** Converts a containers policy.json and saves it with the list of parts it could not map. */
  async importPolicyJson(
    request: PolicyJsonImportRequest,
    author: AuthenticatedKey,
  ): Promise<SavedTrustPolicyView> {
    const imported = importPolicyJson(request);
    assertPolicyRules(imported.policy, 'policy');
    await assertTrustMaterial(imported.policy, 'policy');
    return this.append({
      policy: imported.policy,
      source: 'import',
      comment: request.comment,
      unsupported: imported.unsupported,
      author,
    });
  }

  /** Exports the policy in force as policy.json, listing what policy.json cannot express. */
  async exportCurrent(): Promise<TrustPolicyExportView> {
    const current = await this.current();
    const exported = exportPolicyJson(current.policy);
    return {
      version: current.version,
      policy: JSON.parse(exported.json) as Record<string, unknown>,
      unsupported: exported.unsupported,
    };
  }

  /** Lists saved versions, newest first, with keyset pagination on the version number. */
  async history(limit: number, cursor?: string): Promise<Page<TrustPolicyVersionView>> {
    const after = decodeCursor(cursor, 1);
    const rows = await this.dataSource.query<TrustPolicyRow[]>(
      `SELECT * FROM trust_policies
        WHERE $1::int IS NULL OR version < $1::int
        ORDER BY version DESC
        LIMIT $2`,
      [after ? Number(after[0]) : null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(mapVersion),
      nextCursor: rows.length > limit && last ? encodeCursor([last.version]) : null,
    };
  }

  private async append(input: NewPolicyVersion): Promise<SavedTrustPolicyView> {
    const row = await this.insertVersion(input);
    this.logger.info(
      {
        policyVersion: row.version,
        source: row.source,
        keyPrefix: input.author.prefix,
        unsupported: row.unsupported.length,
      },
      'trust policy version saved',
    );
    const reverifyJobId = await this.enqueueReverification(row.version);
    return { ...mapVersion(row), version: row.version, reverifyJobId };
  }

  private async insertVersion(input: NewPolicyVersion): Promise<TrustPolicyRow> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock($1)`, [POLICY_WRITE_LOCK]);
      const [row] = await manager.query<TrustPolicyRow[]>(
        `INSERT INTO trust_policies (policy, source, created_by, comment, unsupported)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING *`,
        [
          JSON.stringify(input.policy),
          input.source,
          `${input.author.prefix} (${input.author.name})`,
          input.comment,
          JSON.stringify(input.unsupported),
        ],
      );
      if (!row) throw new Error('INSERT INTO trust_policies returned no row');
      return row;
    });
  }

  /**
   * Enqueues the re-verification of the images the new version affects. The version is
   * already committed, so a Redis failure is logged and reported as a null job id.
   */
  private async enqueueReverification(policyVersion: number): Promise<string | null> {
    try {
      const job = await this.signaturesQueue.add(JobName.ReverifyPolicy, { policyVersion });
      return job.id ?? null;
    } catch (error) {
      // NOTE: no sweeper re-enqueues this job; the next policy save or a
      // POST /v1/images/{digest}/verify re-verifies the affected images.
      this.logger.error(
        { err: error, policyVersion },
        'enqueue of the policy re-verification failed',
      );
      return null;
    }
  }
}

function mapVersion(row: TrustPolicyRow): TrustPolicyVersionView {
  return {
    version: row.version,
    policy: row.policy,
    source: row.source,
    comment: row.comment,
    unsupported: row.unsupported,
    createdBy: parseAuthor(row.created_by),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function parseAuthor(stored: string): PolicyAuthorView {
  const match = AUTHOR.exec(stored);
  if (!match) return { keyPrefix: null, keyName: stored };
  return { keyPrefix: match[1] ?? null, keyName: match[2] ?? '' };
}
