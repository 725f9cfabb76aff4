import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { RepositoryVerdictView, SignatureSummaryView } from './signature.views';
import {
  mapVerdict,
  summarizeRepositoryVerdict,
  summarizeVerdicts,
  VerdictRow,
} from './signature-verdicts';

const VERDICT_COLUMNS = `digest, registry, repository, status, signers, reasons, policy_scope,
       policy_version, checked_at`;

/** Reads signature verdicts, the rows the signature worker writes per digest and repository. */
@Injectable()
export class SignatureVerdictsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The verdict of a digest in one repository; null when it was not checked there yet. */
  async forRepository(
    digest: string,
    registry: string,
    repository: string,
  ): Promise<SignatureSummaryView | null> {
    const [row] = await this.dataSource.query<VerdictRow[]>(
      `SELECT ${VERDICT_COLUMNS} FROM signature_verdicts
        WHERE digest = $1 AND registry = $2 AND repository = $3`,
      [digest, registry, repository],
    );
    return summarizeRepositoryVerdict(row);
  }

  /** Summaries across repositories, by digest; digests without a verdict are absent. */
  async forImages(digests: string[]): Promise<Map<string, SignatureSummaryView>> {
    const summaries = new Map<string, SignatureSummaryView>();
    if (digests.length === 0) return summaries;
    const rows = await this.dataSource.query<VerdictRow[]>(
      `SELECT ${VERDICT_COLUMNS} FROM signature_verdicts
        WHERE digest = ANY($1) ORDER BY digest, registry, repository`,
      [digests],
    );
    const byDigest = new Map<string, VerdictRow[]>();
    for (const row of rows) {
      const list = byDigest.get(row.digest) ?? [];
      list.push(row);
      byDigest.set(row.digest, list);
    }
    for (const [digest, list] of byDigest) {
      const summary = summarizeVerdicts(list);
      if (summary) summaries.set(digest, summary);
    }
    return summaries;
  }

  /** Lists the verdicts of one digest, one per repository. */
  async forDigest(digest: string): Promise<RepositoryVerdictView[]> {
    const rows = await this.dataSource.query<VerdictRow[]>(
      `SELECT ${VERDICT_COLUMNS} FROM signature_verdicts
        WHERE digest = $1 ORDER BY registry, repository`,
      [digest],
    );
    return rows.map(mapVerdict);
  }
}
