import { computeBackoffMs, parseRetryAfterMs } from './retry-policy';

describe('computeBackoffMs', () => {
  it('doubles the base for each retry', () => {
    const noJitter = (): number => 0.999999;

    expect(computeBackoffMs(1, 100, 10_000, noJitter)).toBe(100);
    expect(computeBackoffMs(2, 100, 10_000, noJitter)).toBe(200);
    expect(computeBackoffMs(4, 100, 10_000, noJitter)).toBe(800);
  });

  it('caps the delay', () => {
    expect(computeBackoffMs(30, 100, 5_000, () => 0.999999)).toBe(5_000);
  });

  it('keeps at least half the delay', () => {
    expect(computeBackoffMs(3, 100, 10_000, () => 0)).toBe(200);
  });
});

describe('parseRetryAfterMs', () => {
  const nowMs = Date.parse('2024-05-01T12:00:00Z');

  it('parses delay seconds', () => {
    expect(parseRetryAfterMs('120', nowMs)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', nowMs)).toBe(0);
  });

  it('parses an HTTP date', () => {
    expect(parseRetryAfterMs('Wed, 01 May 2024 12:00:30 GMT', nowMs)).toBe(30_000);
  });

  it('returns 0 for a date in the past', () => {
    expect(parseRetryAfterMs('Wed, 01 May 2024 11:00:00 GMT', nowMs)).toBe(0);
  });

  it('returns undefined for a missing or malformed value', () => {
    expect(parseRetryAfterMs(null, nowMs)).toBeUndefined();
    expect(parseRetryAfterMs('soon', nowMs)).toBeUndefined();
    expect(parseRetryAfterMs('-5', nowMs)).toBeUndefined();
  });
});
