import type { FreshnessReason, FreshnessStatus } from '@app/lineage';

import type { SignatureSummaryView } from '../signatures/signature.views';

export interface FreshnessView {
  status: FreshnessStatus;
  reasons: FreshnessReason[];
  computedAt: string | null;
}

export interface TagView {
  registry: string;
  repository: string;
  tag: string;
}

export interface BaseChainEntry {
  digest: string;
  depth: number;
  status: FreshnessStatus;
  tags: TagView[];
}

export interface FreshnessResponse {
  image: string;
  registry: string;
  repository: string;
  tag: string | null;
  digest: string;
  mediaType: string;
  kind: string;
  status: FreshnessStatus;
  reasons: FreshnessReason[];
  baseChain: BaseChainEntry[];
  computedAt: string | null;
  /** Signature verdict of the digest in the referenced repository; null until checked. */
  signature: SignatureSummaryView | null;
}

export interface ImageSummary {
  digest: string;
  mediaType: string;
  kind: string;
  platform: string | null;
  layers: number;
  firstSeenAt: string;
  status: FreshnessStatus;
  repositories: Array<{ registry: string; repository: string }>;
  tags: TagView[];
  /** Most severe signature verdict across repositories; null until checked. */
  signature: SignatureSummaryView | null;
}

export interface BaseEdgeView {
  baseDigest: string;
  baseLayers: number;
  primary: boolean;
  declared: boolean;
  trackedTags: TagView[];
}

export interface ImageDetail extends ImageSummary {
  size: number;
  configDigest: string | null;
  created: string | null;
  user: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  platforms: Array<{ digest: string; platform: string }>;
  indexes: string[];
  baseEdges: BaseEdgeView[];
  freshness: FreshnessView;
  findings: Array<{ code: string; detail: Record<string, unknown> }>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
