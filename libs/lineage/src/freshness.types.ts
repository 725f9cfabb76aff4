export type FreshnessStatus = 'fresh' | 'stale' | 'unknown';

/** Reason codes are part of the API: CI pipelines match on them. */
export const ReasonCode = {
  BaseTagMoved: 'base-tag-moved',
  AncestorStale: 'ancestor-stale',
  BaseMetadataChanged: 'base-metadata-changed',
  BaseTagDeleted: 'base-tag-deleted',
  NewerBaseRelease: 'newer-base-release',
  AncestorUnknown: 'ancestor-unknown',
  NoBase: 'no-base',
  NoBaseFound: 'no-base-found',
  BaseNotInRegistry: 'base-not-in-registry',
  BaseUntracked: 'base-untracked',
  LookupFailed: 'lookup-failed',
  PlatformStale: 'platform-stale',
  PlatformUnknown: 'platform-unknown',
} as const;

export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** A reason for a verdict; `effect` tells whether it decided the status or is advisory only. */
export interface FreshnessReason {
  code: ReasonCode;
  effect: 'stale' | 'unknown' | 'advisory' | 'info';
  message: string;
  /** `registry/repository:tag` of the base tag concerned. */
  tag?: string;
  builtOn?: string;
  current?: string;
  /** Digests from the direct base up to the ancestor whose tag moved. */
  path?: string[];
  /** Set when the path was cut to its first entries. */
  pathTruncated?: boolean;
  /** Platform manifest concerned, for an index. */
  digest?: string;
  platform?: string;
}

export interface FreshnessVerdict {
  status: FreshnessStatus;
  reasons: FreshnessReason[];
}
