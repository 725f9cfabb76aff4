import { ImageSignatureStatus, SIGNATURE_STATUS_SEVERITY } from '@app/signatures';

import {
  RepositoryVerdictView,
  SignatureSummaryView,
  SignerView,
  VerdictReason,
} from './signature.views';

/** Every signature status, most severe first; a summary across repositories takes the first. */
export const SIGNATURE_STATUSES = SIGNATURE_STATUS_SEVERITY;

/** A signature_verdicts row as the queries select it. */
export interface VerdictRow {
  digest: string;
  registry: string;
  repository: string;
  status: ImageSignatureStatus;
  signers: unknown;
  reasons: unknown;
  policy_scope: string;
  policy_version: number | null;
  checked_at: Date | string;
}

export function isSignatureStatus(value: string): value is ImageSignatureStatus {
  return (SIGNATURE_STATUSES as readonly string[]).includes(value);
}

export function mapVerdict(row: VerdictRow): RepositoryVerdictView {
  return {
    registry: row.registry,
    repository: row.repository,
    status: row.status,
    signers: Array.isArray(row.signers) ? row.signers.map(mapSigner) : [],
    reasons: Array.isArray(row.reasons) ? row.reasons.filter(isReason) : [],
    policyScope: row.policy_scope,
    policyVersion: row.policy_version,
    checkedAt: new Date(row.checked_at).toISOString(),
  };
}

/** Summary of one repository's verdict; null when the image was not checked there yet. */
export function summarizeRepositoryVerdict(
  row: VerdictRow | undefined,
): SignatureSummaryView | null {
  return row ? toSummary(mapVerdict(row)) : null;
}

/**
 * Summary across repositories: the verdict with the most severe status (the most recently
 * checked one among equals), plus every repository's status. Null when there is no verdict.
 */
export function summarizeVerdicts(rows: VerdictRow[]): SignatureSummaryView | null {
  if (rows.length === 0) return null;
  const verdicts = rows.map(mapVerdict);
  const worst = verdicts.reduce((chosen, candidate) => {
    const order = severity(candidate.status) - severity(chosen.status);
    if (order !== 0) return order < 0 ? candidate : chosen;
    return candidate.checkedAt > chosen.checkedAt ? candidate : chosen;
  });
  return {
    ...toSummary(worst),
    repositories: verdicts.map(({ registry, repository, status }) => ({
      registry,
      repository,
      status,
    })),
  };
}

/** Keeps the known string fields of a stored signer object. */
export function mapSigner(value: unknown): SignerView {
  const signer: SignerView = {};
  if (typeof value !== 'object' || value === null) return signer;
  const record = value as Record<string, unknown>;
  for (const field of ['keyFingerprint', 'identity', 'issuer', 'subject'] as const) {
    const fieldValue = record[field];
    if (typeof fieldValue === 'string') signer[field] = fieldValue;
  }
  return signer;
}

function toSummary(verdict: RepositoryVerdictView): SignatureSummaryView {
  return {
    status: verdict.status,
    signers: verdict.signers,
    reasons: verdict.reasons,
    policyScope: verdict.policyScope,
    policyVersion: verdict.policyVersion,
    checkedAt: verdict.checkedAt,
  };
}

function severity(status: ImageSignatureStatus): number {
  const index = SIGNATURE_STATUSES.indexOf(status);
  return index === -1 ? SIGNATURE_STATUSES.length : index;
}

function isReason(value: unknown): value is VerdictReason {
  return (
    typeof value === 'string' ||
    (typeof value === 'object' && value !== null && !Array.isArray(value))
  );
}
