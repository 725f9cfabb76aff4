import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { SignerInfo } from '@app/signatures';

import { StoredSignatureFormat } from './signature-candidates';
import { RepositoryVerdict, SignatureOutcome } from './verdict-summary';

export interface ImageToVerify {
  digest: string;
  kind: 'image' | 'index';
  /** Manifest size in bytes. */
  size: number;
  mediaType: string;
}

export interface Presence {
  /** Registry name from the configuration. */
  registry: string;
  repository: string;
}

/** One row of image_signatures. */
export interface SignatureRow {
  digest: string;
  format: StoredSignatureFormat;
  source: string;
  fingerprint: string;
  result: SignatureOutcome;
  reasonCode: string;
  reason: string;
  signer: SignerInfo;
  signedDigest: string | null;
  dockerReference: string | null;
  policyVersion: number | null;
  checkedAt: Date;
}

/**
 * Data access for signature verification. Every write is conditional on `checked_at`: a job
 * that started earlier never overwrites what a later job stored, so a slow job cannot bring
 * back a verdict from before a signature push or a policy change.
 */
@Injectable()
export class SignatureStoreService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findImage(digest: string): Promise<ImageToVerify | undefined> {
    const [row]: Array<{
      digest: string;
      kind: 'image' | 'index';
      size: string;
      media_type: string;
    }> = await this.dataSource.query(
      `SELECT digest, kind, size, media_type FROM images WHERE digest = $1`,
      [digest],
    );
    if (row === undefined) return undefined;
    return {
      digest: row.digest,
      kind: row.kind,
      size: Number(row.size),
      mediaType: row.media_type,
    };
  }

  /** Repositories that hold the digest now, in a stable order. */
  async presences(digest: string): Promise<Presence[]> {
    return this.dataSource.query(
      `SELECT registry, repository FROM repository_images
        WHERE digest = $1 AND deleted_at IS NULL
        ORDER BY registry, repository`,
      [digest],
    );
  }

  /**
   * Lists at most `limit` tags, by name, under which the digest is pulled in a repository: its
   * own tags, and the tags of every index in that repository that lists it as a platform.
   */
  async tagsOf(presence: Presence, digest: string, limit: number): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.dataSource.query(
      `SELECT name FROM (
         SELECT t.name FROM tags t
          WHERE t.registry = $1 AND t.repository = $2 AND t.digest = $3
         UNION
         SELECT t.name FROM tags t
           JOIN index_children c ON c.index_digest = t.digest
          WHERE t.registry = $1 AND t.repository = $2 AND c.child_digest = $3
       ) names
       ORDER BY name
       LIMIT $4`,
      [presence.registry, presence.repository, digest, limit],
    );
    return rows.map((row) => row.name);
  }

  async childrenOf(indexDigest: string): Promise<string[]> {
    const rows: Array<{ child_digest: string }> = await this.dataSource.query(
      `SELECT child_digest FROM index_children WHERE index_digest = $1 ORDER BY position`,
      [indexDigest],
    );
    return [...new Set(rows.map((row) => row.child_digest))];
  }

  /**
   * Upserts the verdict of a digest in one repository, unless a job that started later or ran
   * under a newer policy version already stored one.
   */
  async saveVerdict(
    digest: string,
    presence: Presence,
    verdict: RepositoryVerdict,
    policyVersion: number | null,
    checkedAt: Date,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO signature_verdicts (digest, registry, repository, status, signers, reasons,
                                       policy_scope, policy_version, checked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (digest, registry, repository) DO UPDATE
          SET status = EXCLUDED.status, signers = EXCLUDED.signers, reasons = EXCLUDED.reasons,
              policy_scope = EXCLUDED.policy_scope, policy_version = EXCLUDED.policy_version,
              checked_at = EXCLUDED.checked_at
        WHERE COALESCE(EXCLUDED.policy_version, 0) >= COALESCE(signature_verdicts.policy_version, 0)
          AND EXCLUDED.checked_at >= signature_verdicts.checked_at`,
      [
        digest,
        presence.registry,
        presence.repository,
        verdict.status,
        JSON.stringify(verdict.signers),
        JSON.stringify(verdict.reasons),
        verdict.policyScope,
        policyVersion,
        checkedAt,
      ],
    );
  }

  /** Deletes verdicts of repositories that no longer hold the digest. */
  async removeStaleVerdicts(digest: string, before: Date): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM signature_verdicts v
        WHERE v.digest = $1 AND v.checked_at < $2
          AND NOT EXISTS (
            SELECT 1 FROM repository_images r
             WHERE r.digest = v.digest AND r.registry = v.registry AND r.repository = v.repository
               AND r.deleted_at IS NULL)`,
      [digest, before],
    );
  }

  /** Upserts signatures on (digest, fingerprint), skipping rows a later job already wrote. */
  async saveSignatures(rows: readonly SignatureRow[]): Promise<void> {
    for (const row of rows) {
      await this.dataSource.query(
        `INSERT INTO image_signatures (digest, format, source, fingerprint, result, reason_code,
                                       reason, signer, signed_digest, docker_reference,
                                       policy_version, checked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (digest, fingerprint) DO UPDATE
            SET format = EXCLUDED.format, source = EXCLUDED.source, result = EXCLUDED.result,
                reason_code = EXCLUDED.reason_code, reason = EXCLUDED.reason,
                signer = EXCLUDED.signer, signed_digest = EXCLUDED.signed_digest,
                docker_reference = EXCLUDED.docker_reference,
                policy_version = EXCLUDED.policy_version, checked_at = EXCLUDED.checked_at
          WHERE EXCLUDED.checked_at >= image_signatures.checked_at`,
        [
          row.digest,
          row.format,
          row.source,
          row.fingerprint,
          row.result,
          row.reasonCode,
          row.reason,
          JSON.stringify(row.signer),
          row.signedDigest,
          row.dockerReference,
          row.policyVersion,
          row.checkedAt,
        ],
      );
    }
  }

  /** Deletes signatures of the digest that an earlier job found and this one did not. */
  async removeMissingSignatures(
    digest: string,
    foundFingerprints: readonly string[],
    before: Date,
  ): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM image_signatures
        WHERE digest = $1 AND checked_at < $2 AND NOT (fingerprint = ANY($3::text[]))`,
      [digest, before, foundFingerprints],
    );
  }

  /**
   * Returns up to `limit` digests after `afterDigest`, in digest order, that a policy change
   * must re-verify: manifests present in some repository, except platform manifests of a
   * present index, because verifying an index queues its platform manifests.
   */
  async digestsToReverify(afterDigest: string | undefined, limit: number): Promise<string[]> {
    const rows: Array<{ digest: string }> = await this.dataSource.query(
      `SELECT i.digest FROM images i
        WHERE ($1::text IS NULL OR i.digest > $1)
          AND EXISTS (
            SELECT 1 FROM repository_images r WHERE r.digest = i.digest AND r.deleted_at IS NULL)
          AND NOT EXISTS (
            SELECT 1 FROM index_children c
              JOIN repository_images r ON r.digest = c.index_digest AND r.deleted_at IS NULL
             WHERE c.child_digest = i.digest)
        ORDER BY i.digest
        LIMIT $2`,
      [afterDigest ?? null, limit],
    );
    return rows.map((row) => row.digest);
  }
}
