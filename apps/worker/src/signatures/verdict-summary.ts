import {
  ImageSignatureStatus,
  ImageSignatureVerdict,
  SignatureCheck,
  SignatureCheckResult,
  SignerInfo,
  SIGNATURE_STATUS_SEVERITY,
} from '@app/signatures';

import type { DiscoveryProblem } from './lookaside-reader';
import { StoredSignatureFormat, storedFormat } from './signature-candidates';

/** The verdict of one reference (a tag, or the digest alone) in a repository. */
export interface ReferenceVerdict {
  /** Undefined when the image has no tag in the repository and was judged by digest. */
  tag: string | undefined;
  verdict: ImageSignatureVerdict;
}

/**
 * One entry of signature_verdicts.reasons. `code` is the verdict status for the summary of a
 * reference, a check's reason code (`digest-mismatch`, `no-trusted-key`, ...) for a signature,
 * or a discovery problem code. `tags` lists the tags the entry applies to; it is absent for an
 * image judged by digest and for discovery problems.
 */
export interface VerdictReason {
  code: string;
  message: string;
  tags?: string[];
  scope?: string;
  format?: StoredSignatureFormat;
  source?: string;
  result?: SignatureCheckResult;
}

/** The verdict stored for one (digest, registry, repository). */
export interface RepositoryVerdict {
  status: ImageSignatureStatus;
  signers: SignerInfo[];
  reasons: VerdictReason[];
  policyScope: string;
}

// A repository verdict takes the worst status of its tags, because pulling the image by any of
// them must pass.

/** Reasons kept per verdict; the rest are counted in one `reasons-truncated` entry. */
export const MAX_VERDICT_REASONS = 50;

/**
 * Combines the verdicts of a repository's tags into its one stored verdict: the worst status
 * with the scope that produced it, the signers when every tag is verified, and the reasons of
 * every tag with identical entries merged. Discovery problems are appended as reasons.
 */
export function combineVerdicts(
  evaluations: readonly ReferenceVerdict[],
  problems: readonly DiscoveryProblem[],
): RepositoryVerdict {
  if (evaluations.length === 0) {
    throw new Error('combineVerdicts needs at least one reference verdict');
  }
  const decisive = evaluations.reduce((worst, entry) =>
    rank(entry.verdict.status) < rank(worst.verdict.status) ? entry : worst,
  );
  const status = decisive.verdict.status;
  const signers =
    status === 'verified'
      ? uniqueSigners(evaluations.flatMap((entry) => entry.verdict.signers))
      : [];

  const reasons = new ReasonList();
  for (const { tag, verdict } of evaluations) {
    reasons.add({ code: verdict.status, message: verdict.reason, scope: verdict.policyScope }, tag);
    for (const check of verdict.checks) {
      if (check.result !== 'valid') reasons.add(checkReason(check), tag);
    }
  }
  for (const problem of problems) {
    reasons.add(
      { code: problem.code, message: problem.message, source: problem.source },
      undefined,
    );
  }
  return { status, signers, reasons: reasons.list(), policyScope: decisive.verdict.policyScope };
}

function rank(status: ImageSignatureStatus): number {
  return SIGNATURE_STATUS_SEVERITY.indexOf(status);
}

function checkReason(check: SignatureCheck): VerdictReason {
  return {
    code: check.reasonCode,
    message: check.reason,
    format: storedFormat(check.format),
    source: check.source,
    result: check.result,
  };
}

/** Reasons in first-seen order; equal entries from several tags become one with every tag. */
class ReasonList {
  private readonly entries = new Map<string, VerdictReason>();

  add(reason: VerdictReason, tag: string | undefined): void {
    const key = JSON.stringify([
      reason.code,
      reason.message,
      reason.scope,
      reason.format,
      reason.source,
      reason.result,
    ]);
    const existing = this.entries.get(key);
    if (existing === undefined) {
      this.entries.set(key, tag === undefined ? { ...reason } : { ...reason, tags: [tag] });
      return;
    }
    if (tag !== undefined && existing.tags !== undefined && !existing.tags.includes(tag)) {
      existing.tags.push(tag);
    }
  }

  list(): VerdictReason[] {
    const all = [...this.entries.values()];
    if (all.length <= MAX_VERDICT_REASONS) return all;
    const listed = all.slice(0, MAX_VERDICT_REASONS - 1);
    listed.push({
      code: 'reasons-truncated',
      message: `${all.length - listed.length} further reasons were left out`,
    });
    return listed;
  }
}

function uniqueSigners(signers: readonly SignerInfo[]): SignerInfo[] {
  const seen = new Map<string, SignerInfo>();
  for (const signer of signers) seen.set(JSON.stringify(signer), signer);
  return [...seen.values()];
}

/** Result of one signature over every check made in a job; `not-checked` when none was made. */
export type SignatureOutcome = SignatureCheckResult | 'not-checked';

/** Check results from most to least telling about a signature. */
const CHECK_ORDER: readonly SignatureCheckResult[] = [
  'valid',
  'invalid',
  'identity-mismatch',
  'untrusted',
  'error',
];

/**
 * Picks the check that describes a signature best when it was checked several times (several
 * requirements, tags or repositories): a valid check first, then invalid, identity-mismatch,
 * untrusted and error.
 */
export function preferredCheck(
  current: SignatureCheck | undefined,
  candidate: SignatureCheck,
): SignatureCheck {
  if (current === undefined) return candidate;
  return CHECK_ORDER.indexOf(candidate.result) < CHECK_ORDER.indexOf(current.result)
    ? candidate
    : current;
}
