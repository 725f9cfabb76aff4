import { BaseCandidate, selectBase } from './base-selection';

const chain = ['c1', 'c2', 'c3', 'c4'];

function candidate(digest: string, layerCount: number, tagged = false): BaseCandidate {
  return { digest, layerCount, topChainId: chain[layerCount - 1], tagged };
}

describe('selectBase', () => {
  it('picks the candidate with the most shared layers', () => {
    const result = selectBase(chain, [candidate('sha256:a', 1), candidate('sha256:b', 3)]);

    expect(result.primary?.digest).toBe('sha256:b');
    expect(result.alternatives).toEqual([]);
  });

  it('ignores a candidate with as many layers as the image', () => {
    const result = selectBase(chain, [candidate('sha256:same', 4)]);

    expect(result.primary).toBeUndefined();
  });

  it('ignores a candidate whose top ChainID sits at another depth', () => {
    const misplaced = { digest: 'sha256:x', layerCount: 2, topChainId: 'c3', tagged: true };

    expect(selectBase(chain, [misplaced]).primary).toBeUndefined();
  });

  it('breaks ties by tag, then by digest', () => {
    const result = selectBase(chain, [
      candidate('sha256:b', 2),
      candidate('sha256:c', 2, true),
      candidate('sha256:a', 2),
    ]);

    expect(result.primary?.digest).toBe('sha256:c');
    expect(result.alternatives.map((entry) => entry.digest)).toEqual(['sha256:a', 'sha256:b']);
  });

  it('prefers a declared base over a tagged twin', () => {
    const result = selectBase(chain, [candidate('sha256:b', 2, true), candidate('sha256:d', 2)], {
      digest: 'sha256:d',
    });

    expect(result.primary?.digest).toBe('sha256:d');
    expect(result.declared).toBe(true);
    expect(result.declaredMismatch).toBeUndefined();
  });

  it('uses a verified declared base even when a deeper one exists', () => {
    const result = selectBase(chain, [candidate('sha256:a', 1), candidate('sha256:b', 3)], {
      digest: 'sha256:a',
    });

    expect(result.primary?.digest).toBe('sha256:a');
  });

  it('reports a declared base that is not a prefix', () => {
    const wrong = { digest: 'sha256:w', layerCount: 2, topChainId: 'other', tagged: true };
    const result = selectBase(chain, [wrong, candidate('sha256:a', 1)], { digest: 'sha256:w' });

    expect(result.declaredMismatch).toEqual({ declaredDigest: 'sha256:w', reason: 'not-a-prefix' });
    expect(result.primary?.digest).toBe('sha256:a');
    expect(result.declared).toBe(false);
  });

  it('reports a declared base that is unknown', () => {
    const result = selectBase(chain, [], { digest: 'sha256:gone' });

    expect(result.declaredMismatch?.reason).toBe('not-found');
    expect(result.primary).toBeUndefined();
  });
});
