import { FreshnessReason, FreshnessStatus, FreshnessVerdict, ReasonCode } from './freshness.types';

/** Current target of a tracked base tag, resolved to the platform the child was built on. */
export interface TrackedTagState {
  /** `registry/repository:tag` */
  tag: string;
  /** Null when the tag was deleted. */
  currentDigest: string | null;
  /** Top ChainID of the image the tag now points to; null when unknown. */
  currentTopChainId: string | null;
}

export interface VerdictInput {
  layerCount: number;
  declaredBaseName?: string;
  /** The image declared a base digest that the service has never seen. */
  declaredBaseMissing?: boolean;
  /** Base detection itself failed (e.g. the base could not be fetched). */
  lookupFailed?: string;
  base?: {
    digest: string;
    topChainId: string;
    verdict?: FreshnessVerdict;
  };
  trackedTags: TrackedTagState[];
  /** A newer Version/Release of the base in its repository, as `atomic verify` reported. */
  newerBaseRelease?: { tag: string; digest: string; version: string; builtOnVersion: string };
}

/** Maximum number of digests kept in the path of an ancestor-stale reason. */
export const MAX_REASON_PATH = 64;

/** Computes an image's freshness from its direct base, that base's verdict and the tags it tracks. */
export function computeVerdict(input: VerdictInput): FreshnessVerdict {
  if (input.lookupFailed) {
    return unknown(ReasonCode.LookupFailed, `Base lookup failed: ${input.lookupFailed}`);
  }
  if (!input.base) return verdictWithoutBase(input);

  const base = input.base;
  const reasons: FreshnessReason[] = [];
  for (const tracked of input.trackedTags) {
    reasons.push(...judgeTrackedTag(tracked, base.digest, base.topChainId));
  }
  reasons.push(...inheritFromBase(base.digest, base.verdict));
  if (input.newerBaseRelease) {
    const newer = input.newerBaseRelease;
    reasons.push({
      code: ReasonCode.NewerBaseRelease,
      effect: 'advisory',
      message: `Base release ${newer.version} (${newer.tag}) is newer than ${newer.builtOnVersion}, which this image was built on.`,
      tag: newer.tag,
      builtOn: base.digest,
      current: newer.digest,
    });
  }

  if (input.trackedTags.length === 0) {
    reasons.push({
      code: ReasonCode.BaseUntracked,
      effect: 'unknown',
      message: `Base ${base.digest} had no tag when this image was seen, so there is no tag to follow.`,
      builtOn: base.digest,
    });
  }
  return { status: statusOf(reasons), reasons };
}

/** Combines platform verdicts into an index verdict: the worst of them wins. */
export function combinePlatformVerdicts(
  platforms: Array<{ digest: string; platform: string; verdict: FreshnessVerdict | undefined }>,
): FreshnessVerdict {
  const reasons: FreshnessReason[] = [];
  for (const entry of platforms) {
    const status = entry.verdict?.status ?? 'unknown';
    if (status === 'fresh') continue;
    reasons.push({
      code: status === 'stale' ? ReasonCode.PlatformStale : ReasonCode.PlatformUnknown,
      effect: status,
      message:
        status === 'stale'
          ? `Platform ${entry.platform} (${entry.digest}) is stale.`
          : `Freshness of platform ${entry.platform} (${entry.digest}) is unknown.`,
      digest: entry.digest,
      platform: entry.platform,
    });
  }
  if (platforms.length === 0) {
    return unknown(ReasonCode.NoBaseFound, 'The index lists no platform images.');
  }
  return { status: statusOf(reasons), reasons };
}

function verdictWithoutBase(input: VerdictInput): FreshnessVerdict {
  if (input.declaredBaseMissing) {
    return unknown(
      ReasonCode.BaseNotInRegistry,
      'The declared base image is not in any configured registry.',
    );
  }
  if (input.declaredBaseName === 'scratch' || input.layerCount <= 1) {
    return {
      status: 'fresh',
      reasons: [
        {
          code: ReasonCode.NoBase,
          effect: 'info',
          message: 'Built from scratch: no base image to follow.',
        },
      ],
    };
  }
  return unknown(
    ReasonCode.NoBaseFound,
    'No known image has layers that are a prefix of this image.',
  );
}

function judgeTrackedTag(
  tracked: TrackedTagState,
  builtOn: string,
  builtOnTopChainId: string,
): FreshnessReason[] {
  if (tracked.currentDigest === null) {
    return [
      {
        code: ReasonCode.BaseTagDeleted,
        effect: 'advisory',
        message: `Base tag ${tracked.tag} was deleted.`,
        tag: tracked.tag,
        builtOn,
      },
    ];
  }
  if (tracked.currentDigest === builtOn) return [];
  if (tracked.currentTopChainId === builtOnTopChainId) {
    return [
      {
        code: ReasonCode.BaseMetadataChanged,
        effect: 'advisory',
        message: `Base tag ${tracked.tag} moved to ${tracked.currentDigest}, which has the same layers.`,
        tag: tracked.tag,
        builtOn,
        current: tracked.currentDigest,
      },
    ];
  }
  return [
    {
      code: ReasonCode.BaseTagMoved,
      effect: 'stale',
      message: `Base tag ${tracked.tag} moved from ${builtOn} to ${tracked.currentDigest}.`,
      tag: tracked.tag,
      builtOn,
      current: tracked.currentDigest,
    },
  ];
}

function inheritFromBase(baseDigest: string, verdict?: FreshnessVerdict): FreshnessReason[] {
  if (!verdict || verdict.status === 'fresh') return [];
  if (verdict.status === 'unknown') {
    return [
      {
        code: ReasonCode.AncestorUnknown,
        effect: 'advisory',
        message: `Freshness of base ${baseDigest} is unknown.`,
        path: [baseDigest],
      },
    ];
  }
  const cause = verdict.reasons.find(
    (reason) => reason.code === ReasonCode.BaseTagMoved || reason.code === ReasonCode.AncestorStale,
  );
  const fullPath = [
    baseDigest,
    ...(cause?.code === ReasonCode.AncestorStale ? (cause.path ?? []) : []),
  ];
  // Deep chains would make every reason carry thousands of digests; the head of the path is enough.
  const path = fullPath.slice(0, MAX_REASON_PATH);
  const origin = cause?.tag ? ` (${cause.tag} moved)` : '';
  return [
    {
      code: ReasonCode.AncestorStale,
      effect: 'stale',
      message: `Ancestor ${fullPath[fullPath.length - 1]} is stale${origin}.`,
      path,
      ...(fullPath.length > MAX_REASON_PATH ? { pathTruncated: true } : {}),
      tag: cause?.tag,
    },
  ];
}

function statusOf(reasons: FreshnessReason[]): FreshnessStatus {
  if (reasons.some((reason) => reason.effect === 'stale')) return 'stale';
  if (reasons.some((reason) => reason.effect === 'unknown')) return 'unknown';
  return 'fresh';
}

function unknown(code: ReasonCode, message: string): FreshnessVerdict {
  return { status: 'unknown', reasons: [{ code, effect: 'unknown', message }] };
}
