import { generateKeyPairSync } from 'node:crypto';

import { DomainError } from '@app/common';
import { TrustPolicy } from '@app/signatures';

import { assertTrustMaterial } from './trust-material';

function publicKeyPem(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

async function rejection(policy: TrustPolicy): Promise<DomainError> {
  try {
    await assertTrustMaterial(policy, 'policy');
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('assertTrustMaterial accepted the policy');
}

describe('assertTrustMaterial', () => {
  it('accepts a parsable P-256 public key', async () => {
    const policy: TrustPolicy = {
      default: [
        { type: 'signedBy', anchors: [{ kind: 'publicKey', publicKeyPem: publicKeyPem() }] },
      ],
      scopes: {},
    };

    await expect(assertTrustMaterial(policy, 'policy')).resolves.toBeUndefined();
  });

  it('names a public key that does not parse', async () => {
    const error = await rejection({
      default: [{ type: 'accept' }],
      scopes: {
        'registry.example.com/team': [
          {
            type: 'signedBy',
            anchors: [
              { kind: 'publicKey', publicKeyPem: publicKeyPem() },
              { kind: 'publicKey', publicKeyPem: 'not a key' },
            ],
          },
        ],
      },
    });

    expect(error.code).toBe('bad-request');
    expect(error.details?.field).toBe(
      'policy.scopes["registry.example.com/team"][0].anchors[1].publicKeyPem',
    );
  });

  it('names an OpenPGP keyring that does not parse', async () => {
    const error = await rejection({
      default: [
        { type: 'signedBy', anchors: [{ kind: 'gpgKeys', keyring: 'bm90IGEga2V5cmluZw==' }] },
      ],
      scopes: {},
    });

    expect(error.details?.field).toBe('policy.default[0].anchors[0].keyring');
    expect(error.message).toContain('not a readable OpenPGP public keyring');
  });

  it('names a trust store without certificates', async () => {
    const error = await rejection({
      default: [{ type: 'signedBy', anchors: [{ kind: 'x509Roots', rootsPem: 'nothing' }] }],
      scopes: {},
    });

    expect(error.details?.field).toBe('policy.default[0].anchors[0].rootsPem');
  });

  it.each([
    ['is not JSON', '{', 'not a valid trusted root'],
    ['has no certificate authority', '{}', 'lists no certificate authority'],
  ])('names a trusted root that %s', async (_case, trustedRootJson, message) => {
    const error = await rejection({
      default: [
        {
          type: 'signedBy',
          anchors: [
            {
              kind: 'sigstore',
              trustedRootJson,
              identities: [{ issuer: 'https://issuer.example.com', subject: 'ci@example.com' }],
            },
          ],
        },
      ],
      scopes: {},
    });

    expect(error.details?.field).toBe('policy.default[0].anchors[0].trustedRootJson');
    expect(error.message).toContain(message);
  });

  it('lists every unusable anchor', async () => {
    const error = await rejection({
      default: [
        {
          type: 'signedBy',
          anchors: [
            { kind: 'publicKey', publicKeyPem: 'x' },
            { kind: 'gpgKeys', keyring: 'eA==' },
          ],
        },
      ],
      scopes: {},
    });

    const fields = (error.details?.errors as Array<{ field: string }>).map((issue) => issue.field);
    expect(fields).toEqual([
      'policy.default[0].anchors[0].publicKeyPem',
      'policy.default[0].anchors[1].keyring',
    ]);
  });
});
