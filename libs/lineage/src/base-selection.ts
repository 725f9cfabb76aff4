/** An image whose top ChainID equals one of the child's prefix ChainIDs. */
export interface BaseCandidate {
  digest: string;
  layerCount: number;
  topChainId: string;
  /** A tag pointed at this candidate when the child was first seen. */
  tagged: boolean;
}

export interface DeclaredBase {
  name?: string;
  digest?: string;
}

export interface BaseSelection {
  primary?: BaseCandidate;
  /** Other images with the same layers as the primary: same content, another digest. */
  alternatives: BaseCandidate[];
  /** Set when the image declared a base digest whose layers are not a prefix of its own. */
  declaredMismatch?: { declaredDigest: string; reason: 'not-a-prefix' | 'not-found' };
  declared: boolean;
}

/**
 * Picks the direct base of an image from candidates found by one indexed ChainID lookup.
 * A candidate with m layers qualifies when m < n and its top ChainID equals chain[m-1]; the
 * direct base has the largest m. A declared base digest wins when its layers are a verified
 * prefix. Ties on m prefer the declared digest, then a tagged candidate, then the smallest digest
 * so that the choice is deterministic.
 */
export function selectBase(
  chainIds: readonly string[],
  candidates: readonly BaseCandidate[],
  declaredBase?: DeclaredBase,
): BaseSelection {
  const layerCount = chainIds.length;
  const valid = candidates.filter(
    (candidate) =>
      candidate.layerCount > 0 &&
      candidate.layerCount < layerCount &&
      chainIds[candidate.layerCount - 1] === candidate.topChainId,
  );

  const declaredDigest = declaredBase?.digest;
  const declaredCandidate = declaredDigest
    ? valid.find((candidate) => candidate.digest === declaredDigest)
    : undefined;
  let declaredMismatch: BaseSelection['declaredMismatch'];
  if (declaredDigest && !declaredCandidate) {
    const known = candidates.some((candidate) => candidate.digest === declaredDigest);
    declaredMismatch = { declaredDigest, reason: known ? 'not-a-prefix' : 'not-found' };
  }

  if (valid.length === 0) return { alternatives: [], declaredMismatch, declared: false };

  const depth = declaredCandidate
    ? declaredCandidate.layerCount
    : Math.max(...valid.map((candidate) => candidate.layerCount));
  const tied = valid
    .filter((candidate) => candidate.layerCount === depth)
    .sort((a, b) => compareCandidates(a, b, declaredDigest));

  return {
    primary: tied[0],
    alternatives: tied.slice(1),
    declaredMismatch,
    declared: declaredCandidate !== undefined,
  };
}

function compareCandidates(a: BaseCandidate, b: BaseCandidate, declaredDigest?: string): number {
  if (declaredDigest) {
    if (a.digest === declaredDigest) return -1;
    if (b.digest === declaredDigest) return 1;
  }
  if (a.tagged !== b.tagged) return a.tagged ? -1 : 1;
  return a.digest.localeCompare(b.digest, 'en');
}
