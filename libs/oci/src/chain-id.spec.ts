import { computeChainIds, EMPTY_TAR_DIFF_ID } from './chain-id';
import { sha256Digest } from './digest';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

// Computed once outside the code under test:
//   printf '%s' "$A $B" | sha256sum
//   printf '%s' "$AB $C" | sha256sum
const AB = 'sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c';
const ABC = 'sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588';

describe('computeChainIds', () => {
  it('returns nothing for no layers', () => {
    expect(computeChainIds([])).toEqual([]);
  });

  it('uses the first diff_id as the first ChainID', () => {
    expect(computeChainIds([A])).toEqual([A]);
  });

  it('chains three layers', () => {
    expect(computeChainIds([A, B, C])).toEqual([A, AB, ABC]);
  });

  it('shares prefixes with a base image', () => {
    const base = computeChainIds([A, B]);
    const child = computeChainIds([A, B, C]);
    expect(child[base.length - 1]).toBe(base.at(-1));
  });

  it('depends on layer order', () => {
    expect(computeChainIds([B, A])[1]).not.toBe(AB);
  });

  it('rejects a malformed diff_id', () => {
    expect(() => computeChainIds([A, 'sha256:ABC'])).toThrow(
      expect.objectContaining({ code: 'invalid-digest' }),
    );
  });
});

describe('EMPTY_TAR_DIFF_ID', () => {
  it('is the digest of 1024 zero bytes', () => {
    expect(sha256Digest(new Uint8Array(1024))).toBe(EMPTY_TAR_DIFF_ID);
  });
});
