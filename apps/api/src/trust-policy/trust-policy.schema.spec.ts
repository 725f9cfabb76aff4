import { DomainError } from '@app/common';

import { formatFieldPath, parseTrustPolicyUpdate } from './trust-policy.schema';

/** Runs the parser and returns the DomainError it throws. */
function rejection(body: unknown): DomainError {
  try {
    parseTrustPolicyUpdate(body);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('parseTrustPolicyUpdate accepted the body');
}

const KEY = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';

describe('parseTrustPolicyUpdate', () => {
  it('accepts a policy with scopes and a comment', () => {
    const update = parseTrustPolicyUpdate({
      policy: {
        default: [{ type: 'reject' }],
        scopes: {
          'registry.example.com/team': [
            {
              type: 'signedBy',
              anchors: [{ kind: 'publicKey', name: 'ci', publicKeyPem: KEY }],
              signedIdentity: { type: 'matchRepository' },
            },
          ],
        },
      },
      comment: 'team images must be signed',
    });

    expect(update.comment).toBe('team images must be signed');
    expect(update.policy.default).toEqual([{ type: 'reject' }]);
    expect(Object.keys(update.policy.scopes)).toEqual(['registry.example.com/team']);
  });

  it('defaults missing scopes to none', () => {
    const update = parseTrustPolicyUpdate({ policy: { default: [{ type: 'accept' }] } });

    expect(update.policy.scopes).toEqual({});
    expect(update.comment).toBeNull();
  });

  it('rejects a body that is not an object', () => {
    const error = rejection(['policy']);

    expect(error.code).toBe('bad-request');
    expect(error.details?.field).toBe('body');
  });

  it('names a missing policy field', () => {
    const error = rejection({ comment: 'x' });

    expect(error.details?.field).toBe('policy');
    expect(error.message).toContain('policy: Required');
  });

  it('names an unknown requirement type', () => {
    const error = rejection({ policy: { default: [{ type: 'allow' }] } });

    expect(error.details?.field).toBe('policy.default[0].type');
    expect(error.message).toContain('policy.default[0].type');
  });

  it('names an unknown field inside a scope', () => {
    const error = rejection({
      policy: {
        default: [{ type: 'accept' }],
        scopes: { 'registry.example.com/team': [{ type: 'reject', reason: 'old' }] },
      },
    });

    expect(error.details?.field).toBe('policy.scopes["registry.example.com/team"][0]');
    expect(error.message).toContain('unknown field(s) "reason"');
  });

  it('lists every invalid field', () => {
    const error = rejection({ policy: { default: [{ type: 'x' }, { type: 'y' }] }, extra: 1 });

    const fields = (error.details?.errors as Array<{ field: string }>).map((issue) => issue.field);
    expect(fields).toEqual(expect.arrayContaining(['policy.default[0].type', 'body']));
    expect(fields.length).toBeGreaterThanOrEqual(3);
  });

  it('applies the policy rules after the shape', () => {
    const error = rejection({
      policy: { default: [{ type: 'signedBy', anchors: [] }] },
    });

    expect(error.details?.field).toBe('policy.default');
    expect(error.message).toContain('default has a signedBy requirement without trust anchors');
  });

  it('rejects an invalid scope key', () => {
    const error = rejection({
      policy: { default: [{ type: 'accept' }], scopes: { 'not a scope': [{ type: 'reject' }] } },
    });

    expect(error.message).toContain('scope "not a scope"');
    expect(error.details?.field).toBe('policy.scopes["not a scope"]');
  });

  it('rejects a comment over 2000 characters', () => {
    const error = rejection({
      policy: { default: [{ type: 'accept' }] },
      comment: 'c'.repeat(2001),
    });

    expect(error.details?.field).toBe('comment');
  });
});

describe('formatFieldPath', () => {
  it.each([
    [[], 'body'],
    [['policy', 'default', 0, 'type'], 'policy.default[0].type'],
    [['policy', 'scopes', 'quay.io/a', 2], 'policy.scopes["quay.io/a"][2]'],
  ])('formats %j as %s', (path, expected) => {
    expect(formatFieldPath(path)).toBe(expected);
  });
});
