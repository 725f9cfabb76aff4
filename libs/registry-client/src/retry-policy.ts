/**
 * Returns the delay in ms before retry number `retry`, where 1 is the first retry. The delay
 * is `baseMs` doubled for each earlier retry and capped at `maxMs`. A random factor in
 * [0.5, 1) then spreads the retries of clients that failed together.
 */
export function computeBackoffMs(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(exponential * (0.5 + random() / 2));
}

/**
 * Parses a `Retry-After` value, either delay seconds or an HTTP date (RFC 9110, section
 * 10.2.3), into a delay in ms from `nowMs`. Returns undefined for a missing or malformed
 * value. A date in the past gives 0.
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) {
    return undefined;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  // HTTP dates in all three formats of RFC 9110 start with the day name.
  const dateMs = /^[A-Za-z]{3,9},?\s/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(dateMs)) {
    return undefined;
  }
  return Math.max(0, dateMs - nowMs);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
