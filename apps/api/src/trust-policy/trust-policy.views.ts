import type { TrustPolicy } from '@app/signatures';

/** The API key that saved a policy version. */
export interface PolicyAuthorView {
  /** Public prefix of the API key; null when the stored author has another form. */
  keyPrefix: string | null;
  keyName: string;
}

/** One trust policy version, or the built-in accept-all policy when none was saved. */
export interface TrustPolicyVersionView {
  /** Null for the built-in accept-all policy that applies before the first save. */
  version: number | null;
  policy: TrustPolicy;
  source: 'api' | 'import' | null;
  comment: string | null;
  /** policy.json parts that the import could not map; empty for `api` saves. */
  unsupported: string[];
  createdBy: PolicyAuthorView | null;
  createdAt: string | null;
}

/** Response to a save: the new version and the id of the re-verification job. */
export interface SavedTrustPolicyView extends TrustPolicyVersionView {
  version: number;
  /** BullMQ id of the ReverifyPolicy job; null when Redis could not take the job. */
  reverifyJobId: string | null;
}

/** The policy in force as containers policy.json. */
export interface TrustPolicyExportView {
  version: number | null;
  /** The policy.json document, key material inline. */
  policy: Record<string, unknown>;
  /** Requirements policy.json cannot express; each was written as `reject`. */
  unsupported: string[];
}
