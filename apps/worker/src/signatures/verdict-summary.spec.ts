import { ImageSignatureVerdict, SignatureCheck } from '@app/signatures';

import {
  combineVerdicts,
  MAX_VERDICT_REASONS,
  preferredCheck,
  ReferenceVerdict,
} from './verdict-summary';

function verdict(overrides: Partial<ImageSignatureVerdict>): ImageSignatureVerdict {
  return {
    status: 'verified',
    reason: 'every signedBy requirement of scope default is satisfied',
    signers: [],
    checks: [],
    policyScope: 'default',
    ...overrides,
  };
}

function check(overrides: Partial<SignatureCheck>): SignatureCheck {
  return {
    format: 'cosign',
    source: 'tag:sha256-x.sig layer 0',
    result: 'valid',
    reasonCode: 'signature-valid',
    reason: 'signature verified',
    ...overrides,
  };
}

describe('combineVerdicts', () => {
  const alice = { keyFingerprint: 'aa', identity: 'alice' };
  const bob = { keyFingerprint: 'bb' };

  it('keeps a single verified verdict', () => {
    const combined = combineVerdicts(
      [{ tag: '1', verdict: verdict({ signers: [alice], checks: [check({})] }) }],
      [],
    );
    expect(combined).toEqual({
      status: 'verified',
      signers: [alice],
      policyScope: 'default',
      reasons: [
        {
          code: 'verified',
          message: 'every signedBy requirement of scope default is satisfied',
          scope: 'default',
          tags: ['1'],
        },
      ],
    });
  });

  it('takes the worst status with its scope', () => {
    const evaluations: ReferenceVerdict[] = [
      { tag: 'a', verdict: verdict({ signers: [alice], policyScope: 'r.example/app' }) },
      {
        tag: 'b',
        verdict: verdict({
          status: 'untrusted',
          reason: 'no signature satisfies',
          policyScope: 'r.example/app:b',
          checks: [check({ result: 'untrusted', reasonCode: 'no-trusted-key', reason: 'none' })],
        }),
      },
      { tag: 'c', verdict: verdict({ status: 'not-required', policyScope: 'r.example' }) },
    ];

    const combined = combineVerdicts(evaluations, []);

    expect(combined.status).toBe('untrusted');
    expect(combined.policyScope).toBe('r.example/app:b');
    expect(combined.signers).toEqual([]);
    expect(combined.reasons).toContainEqual(
      expect.objectContaining({ code: 'no-trusted-key', result: 'untrusted', tags: ['b'] }),
    );
  });

  it.each([
    ['invalid', 'rejected'],
    ['rejected', 'untrusted'],
    ['untrusted', 'unsigned'],
    ['unsigned', 'not-required'],
    ['not-required', 'verified'],
  ] as const)('ranks %s below %s', (worse, better) => {
    const combined = combineVerdicts(
      [
        { tag: 'x', verdict: verdict({ status: better }) },
        { tag: 'y', verdict: verdict({ status: worse }) },
      ],
      [],
    );
    expect(combined.status).toBe(worse);
  });

  it('merges the signers of verified tags', () => {
    const combined = combineVerdicts(
      [
        { tag: 'a', verdict: verdict({ signers: [alice] }) },
        { tag: 'b', verdict: verdict({ signers: [alice, bob] }) },
      ],
      [],
    );
    expect(combined.signers).toEqual([alice, bob]);
  });

  it('merges equal reasons of several tags', () => {
    const invalid = check({ result: 'invalid', reasonCode: 'digest-mismatch', reason: 'other' });
    const combined = combineVerdicts(
      [
        { tag: 'a', verdict: verdict({ status: 'invalid', reason: 'bad', checks: [invalid] }) },
        { tag: 'b', verdict: verdict({ status: 'invalid', reason: 'bad', checks: [invalid] }) },
      ],
      [],
    );
    expect(combined.reasons).toEqual([
      { code: 'invalid', message: 'bad', scope: 'default', tags: ['a', 'b'] },
      {
        code: 'digest-mismatch',
        message: 'other',
        format: 'cosign',
        source: 'tag:sha256-x.sig layer 0',
        result: 'invalid',
        tags: ['a', 'b'],
      },
    ]);
  });

  it('names Notary signatures notation', () => {
    const combined = combineVerdicts(
      [
        {
          tag: undefined,
          verdict: verdict({
            status: 'untrusted',
            checks: [check({ format: 'notary', result: 'untrusted', reasonCode: 'chain' })],
          }),
        },
      ],
      [],
    );
    expect(combined.reasons[1]).toMatchObject({ code: 'chain', format: 'notation' });
    expect(combined.reasons[1]).not.toHaveProperty('tags');
  });

  it('appends discovery problems', () => {
    const combined = combineVerdicts(
      [{ tag: undefined, verdict: verdict({ status: 'unsigned', reason: 'none found' }) }],
      [{ code: 'signature-manifest-invalid', message: 'not JSON', source: 'tag:x.sig' }],
    );
    expect(combined.reasons).toEqual([
      { code: 'unsigned', message: 'none found', scope: 'default' },
      { code: 'signature-manifest-invalid', message: 'not JSON', source: 'tag:x.sig' },
    ]);
  });

  it('truncates long reason lists', () => {
    const problems = Array.from({ length: MAX_VERDICT_REASONS + 10 }, (_, index) => ({
      code: 'signature-too-large',
      message: `signature ${index} is too large`,
      source: `lookaside:signature-${index}`,
    }));
    const combined = combineVerdicts([{ tag: undefined, verdict: verdict({}) }], problems);
    expect(combined.reasons).toHaveLength(MAX_VERDICT_REASONS);
    expect(combined.reasons[MAX_VERDICT_REASONS - 1]).toEqual({
      code: 'reasons-truncated',
      message: '12 further reasons were left out',
    });
  });

  it('rejects an empty list', () => {
    expect(() => combineVerdicts([], [])).toThrow('at least one reference verdict');
  });
});

describe('preferredCheck', () => {
  it.each([
    ['valid', 'invalid'],
    ['invalid', 'identity-mismatch'],
    ['identity-mismatch', 'untrusted'],
    ['untrusted', 'error'],
  ] as const)('prefers %s over %s', (better, worse) => {
    const good = check({ result: better });
    const bad = check({ result: worse });
    expect(preferredCheck(bad, good)).toBe(good);
    expect(preferredCheck(good, bad)).toBe(good);
  });

  it('takes the first check', () => {
    const only = check({ result: 'error' });
    expect(preferredCheck(undefined, only)).toBe(only);
  });
});
