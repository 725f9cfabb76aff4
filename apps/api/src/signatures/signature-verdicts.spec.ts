import {
  isSignatureStatus,
  mapSigner,
  summarizeRepositoryVerdict,
  summarizeVerdicts,
  VerdictRow,
} from './signature-verdicts';

function row(overrides: Partial<VerdictRow>): VerdictRow {
  return {
    digest: `sha256:${'a'.repeat(64)}`,
    registry: 'local',
    repository: 'team/app',
    status: 'verified',
    signers: [{ identity: 'ci', keyFingerprint: 'ab12' }],
    reasons: [],
    policy_scope: 'default',
    policy_version: 2,
    checked_at: new Date('2026-01-02T03:04:05Z'),
    ...overrides,
  };
}

describe('summarizeVerdicts', () => {
  it('returns null without verdicts', () => {
    expect(summarizeVerdicts([])).toBeNull();
  });

  it('takes the most severe status across repositories', () => {
    const summary = summarizeVerdicts([
      row({ repository: 'team/app' }),
      row({
        repository: 'team/mirror',
        status: 'untrusted',
        signers: [],
        reasons: ['no trusted key'],
      }),
      row({ repository: 'team/other', status: 'unsigned', signers: [] }),
    ]);

    expect(summary?.status).toBe('untrusted');
    expect(summary?.reasons).toEqual(['no trusted key']);
    expect(summary?.repositories).toEqual([
      { registry: 'local', repository: 'team/app', status: 'verified' },
      { registry: 'local', repository: 'team/mirror', status: 'untrusted' },
      { registry: 'local', repository: 'team/other', status: 'unsigned' },
    ]);
  });

  it('ranks invalid above rejected', () => {
    const summary = summarizeVerdicts([row({ status: 'rejected' }), row({ status: 'invalid' })]);

    expect(summary?.status).toBe('invalid');
  });

  it('prefers the latest check among equal statuses', () => {
    const summary = summarizeVerdicts([
      row({ repository: 'a', policy_version: 1, checked_at: new Date('2026-01-01T00:00:00Z') }),
      row({ repository: 'b', policy_version: 3, checked_at: new Date('2026-01-03T00:00:00Z') }),
    ]);

    expect(summary?.policyVersion).toBe(3);
    expect(summary?.checkedAt).toBe('2026-01-03T00:00:00.000Z');
  });
});

describe('summarizeRepositoryVerdict', () => {
  it('maps one row without the repository list', () => {
    const summary = summarizeRepositoryVerdict(row({}));

    expect(summary).toEqual({
      status: 'verified',
      signers: [{ identity: 'ci', keyFingerprint: 'ab12' }],
      reasons: [],
      policyScope: 'default',
      policyVersion: 2,
      checkedAt: '2026-01-02T03:04:05.000Z',
    });
  });

  it('returns null for a missing row', () => {
    expect(summarizeRepositoryVerdict(undefined)).toBeNull();
  });
});

describe('mapSigner', () => {
  it('keeps only the known string fields', () => {
    expect(mapSigner({ identity: 'ci', issuer: 5, secret: 'x', subject: 'CN=ci' })).toEqual({
      identity: 'ci',
      subject: 'CN=ci',
    });
  });

  it('returns an empty signer for a non-object', () => {
    expect(mapSigner('ci')).toEqual({});
  });
});

describe('isSignatureStatus', () => {
  it.each(['verified', 'unsigned', 'untrusted', 'invalid', 'not-required', 'rejected'])(
    'accepts %s',
    (status) => {
      expect(isSignatureStatus(status)).toBe(true);
    },
  );

  it('rejects an unknown status', () => {
    expect(isSignatureStatus('signed')).toBe(false);
  });
});
