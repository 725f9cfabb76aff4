import { ReasonCode } from './freshness.types';
import { combinePlatformVerdicts, computeVerdict } from './verdict';

const base = { digest: 'sha256:base1', topChainId: 'top1' };
const tag = 'reg/base:1';

describe('computeVerdict', () => {
  it('is fresh while the base tag stays put', () => {
    const verdict = computeVerdict({
      layerCount: 3,
      base,
      trackedTags: [{ tag, currentDigest: 'sha256:base1', currentTopChainId: 'top1' }],
    });

    expect(verdict).toEqual({ status: 'fresh', reasons: [] });
  });

  it('is stale when the base tag moved to other layers', () => {
    const verdict = computeVerdict({
      layerCount: 3,
      base,
      trackedTags: [{ tag, currentDigest: 'sha256:base2', currentTopChainId: 'top2' }],
    });

    expect(verdict.status).toBe('stale');
    expect(verdict.reasons).toEqual([
      expect.objectContaining({
        code: ReasonCode.BaseTagMoved,
        tag,
        builtOn: 'sha256:base1',
        current: 'sha256:base2',
      }),
    ]);
  });

  it('stays fresh when the base moved to the same layers', () => {
    const verdict = computeVerdict({
      layerCount: 3,
      base,
      trackedTags: [{ tag, currentDigest: 'sha256:rebuilt', currentTopChainId: 'top1' }],
    });

    expect(verdict.status).toBe('fresh');
    expect(verdict.reasons[0].code).toBe(ReasonCode.BaseMetadataChanged);
    expect(verdict.reasons[0].effect).toBe('advisory');
  });

  it('reports a newer base release as advisory', () => {
    const verdict = computeVerdict({
      layerCount: 3,
      base,
      trackedTags: [{ tag, currentDigest: 'sha256:base1', currentTopChainId: 'top1' }],
      newerBaseRelease: {
        tag: 'reg/base:8.5',
        digest: 'sha256:base85',
        version: '8.5-1',
        builtOnVersion: '8.4-205',
      },
    });

    expect(verdict.status).toBe('fresh');
    expect(verdict.reasons).toEqual([
      expect.objectContaining({
        code: 'newer-base-release',
        effect: 'advisory',
        current: 'sha256:base85',
      }),
    ]);
  });

  it('treats a deleted base tag as advisory', () => {
    const verdict = computeVerdict({
      layerCount: 3,
      base,
      trackedTags: [{ tag, currentDigest: null, currentTopChainId: null }],
    });

    expect(verdict.status).toBe('fresh');
    expect(verdict.reasons[0].code).toBe(ReasonCode.BaseTagDeleted);
  });

  it('inherits a stale ancestor with its path', () => {
    const grandparent = computeVerdict({
      layerCount: 2,
      base,
      trackedTags: [{ tag, currentDigest: 'sha256:base2', currentTopChainId: 'top2' }],
    });
    const parent = computeVerdict({
      layerCount: 3,
      base: { digest: 'sha256:runtime', topChainId: 'topR', verdict: grandparent },
      trackedTags: [
        { tag: 'reg/runtime:1', currentDigest: 'sha256:runtime', currentTopChainId: 'topR' },
      ],
    });
    const child = computeVerdict({
      layerCount: 4,
      base: { digest: 'sha256:app-base', topChainId: 'topA', verdict: parent },
      trackedTags: [
        { tag: 'reg/mid:1', currentDigest: 'sha256:app-base', currentTopChainId: 'topA' },
      ],
    });

    expect(parent.status).toBe('stale');
    expect(parent.reasons[0]).toMatchObject({ code: 'ancestor-stale', path: ['sha256:runtime'] });
    expect(child.status).toBe('stale');
    expect(child.reasons[0]).toMatchObject({
      code: 'ancestor-stale',
      path: ['sha256:app-base', 'sha256:runtime'],
      tag,
    });
  });

  it('calls a single-layer image without a base fresh', () => {
    const verdict = computeVerdict({ layerCount: 1, trackedTags: [] });

    expect(verdict.status).toBe('fresh');
    expect(verdict.reasons[0].code).toBe(ReasonCode.NoBase);
  });

  it('calls a layered image without a base unknown', () => {
    const verdict = computeVerdict({ layerCount: 3, trackedTags: [] });

    expect(verdict.status).toBe('unknown');
    expect(verdict.reasons[0].code).toBe(ReasonCode.NoBaseFound);
  });

  it('reports a declared base missing from the registry', () => {
    const verdict = computeVerdict({ layerCount: 3, declaredBaseMissing: true, trackedTags: [] });

    expect(verdict.reasons[0].code).toBe(ReasonCode.BaseNotInRegistry);
  });

  it('reports a failed lookup as unknown', () => {
    const verdict = computeVerdict({ layerCount: 3, lookupFailed: 'timeout', trackedTags: [] });

    expect(verdict.status).toBe('unknown');
    expect(verdict.reasons[0].code).toBe(ReasonCode.LookupFailed);
  });

  it('calls an untracked base unknown', () => {
    const verdict = computeVerdict({ layerCount: 3, base, trackedTags: [] });

    expect(verdict.status).toBe('unknown');
    expect(verdict.reasons[0].code).toBe(ReasonCode.BaseUntracked);
  });
});

describe('combinePlatformVerdicts', () => {
  it('takes the worst platform verdict', () => {
    const verdict = combinePlatformVerdicts([
      { digest: 'sha256:amd', platform: 'linux/amd64', verdict: { status: 'fresh', reasons: [] } },
      { digest: 'sha256:arm', platform: 'linux/arm64', verdict: { status: 'stale', reasons: [] } },
      { digest: 'sha256:ppc', platform: 'linux/ppc64le', verdict: undefined },
    ]);

    expect(verdict.status).toBe('stale');
    expect(verdict.reasons.map((reason) => reason.code)).toEqual([
      ReasonCode.PlatformStale,
      ReasonCode.PlatformUnknown,
    ]);
  });

  it('is fresh when every platform is fresh', () => {
    const verdict = combinePlatformVerdicts([
      { digest: 'sha256:amd', platform: 'linux/amd64', verdict: { status: 'fresh', reasons: [] } },
    ]);

    expect(verdict).toEqual({ status: 'fresh', reasons: [] });
  });
});
