import {
  createGpgSigner,
  GpgSigner,
  makeTempDir,
  opensslKey,
  OpensslKey,
  skopeoStandaloneSign,
} from '../test-fixtures/tools';
import { sha256Digest } from './digest';
import { PolicyError } from './errors';
import { exportPolicyJson, parsePolicyJson } from './policy-json';
import type { TrustPolicy } from './policy-types';
import { verifyImageSignatures } from './verify';

describe('policy.json import and export', () => {
  const temp = makeTempDir('policy-json-');
  let signer: GpgSigner;
  let cosignKey: OpensslKey;
  const files = new Map<string, Buffer>();
  const readFile = (path: string): Buffer => {
    const content = files.get(path);
    if (content === undefined) {
      throw new Error(`ENOENT: ${path}`);
    }
    return content;
  };

  beforeAll(() => {
    signer = createGpgSigner(temp.dir, 'policy');
    cosignKey = opensslKey(temp.dir, 'cosign', 'ec:P-256');
    files.set('/etc/pki/rpm-gpg/release.gpg', Buffer.from(signer.binaryPublicKeyBase64, 'base64'));
    files.set('/etc/containers/cosign.pub', Buffer.from(cosignKey.publicPem));
    files.set(
      '/etc/containers/fulcio.pem',
      Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
    );
    files.set('/etc/containers/rekor.pub', Buffer.from(cosignKey.publicPem));
  });
  afterAll(() => temp.cleanup());

  const sample = () =>
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          'registry.access.redhat.com': [
            { type: 'signedBy', keyType: 'GPGKeys', keyPath: '/etc/pki/rpm-gpg/release.gpg' },
          ],
          'quay.io/team': [
            {
              type: 'sigstoreSigned',
              keyPath: '/etc/containers/cosign.pub',
              signedIdentity: { type: 'matchRepository' },
            },
          ],
          'quay.io/keyless': [
            {
              type: 'sigstoreSigned',
              fulcio: {
                caPath: '/etc/containers/fulcio.pem',
                oidcIssuer: 'https://github.com/login/oauth',
                subjectEmail: 'dev@example.com',
              },
              rekorPublicKeyPath: '/etc/containers/rekor.pub',
              signedIdentity: {
                type: 'remapIdentity',
                prefix: 'quay.io/keyless',
                signedPrefix: 'ghcr.io/upstream',
              },
            },
          ],
          'docker.io': [{ type: 'insecureAcceptAnything' }],
          '': [{ type: 'reject' }],
        },
        'docker-daemon': { '': [{ type: 'insecureAcceptAnything' }] },
        atomic: { 'registry.example.com': [{ type: 'reject' }] },
      },
    });

  it('imports the docker transport', () => {
    const { policy, unsupported } = parsePolicyJson(sample(), readFile);
    expect(Object.keys(policy.scopes).sort()).toEqual([
      'docker.io',
      'quay.io/keyless',
      'quay.io/team',
      'registry.access.redhat.com',
    ]);
    expect(policy.scopes['docker.io']).toEqual([{ type: 'accept' }]);
    expect(policy.scopes['quay.io/team']?.[0]).toMatchObject({
      type: 'signedBy',
      signedIdentity: { type: 'matchRepository' },
      anchors: [{ kind: 'publicKey', publicKeyPem: cosignKey.publicPem }],
    });
    expect(policy.scopes['quay.io/keyless']?.[0]).toMatchObject({
      type: 'signedBy',
      anchors: [
        {
          kind: 'sigstore',
          identities: [{ issuer: 'https://github.com/login/oauth', subject: 'dev@example.com' }],
        },
      ],
    });
    expect(unsupported).toEqual([
      'transport "docker-daemon" (only "docker" applies to registry images)',
      'transport "atomic" (only "docker" applies to registry images)',
    ]);
  });

  it('verifies a GPG signature with an imported keyPath', async () => {
    const { policy } = parsePolicyJson(sample(), readFile);
    const manifest = Buffer.from('{"schemaVersion":2}');
    const signature = skopeoStandaloneSign(
      signer,
      temp.dir,
      manifest,
      'registry.access.redhat.com/ubi9/ubi:latest',
    );
    const verdict = await verifyImageSignatures({
      digest: sha256Digest(manifest),
      reference: { registry: 'registry.access.redhat.com', repository: 'ubi9/ubi', tag: 'latest' },
      candidates: [{ format: 'gpg', source: 'lookaside', signature }],
      policy,
    });
    expect(verdict.status).toBe('verified');
    expect(verdict.signers[0]?.keyFingerprint).toBe(signer.fingerprint);
  });

  it('replaces unmappable requirements with reject and lists them', () => {
    const text = JSON.stringify({
      default: [{ type: 'signedBaseLayer', baseLayerIdentity: { type: 'matchRepository' } }],
      transports: {
        docker: {
          'a.example.com': [{ type: 'signedBy', keyType: 'X509Certificates', keyPath: '/x' }],
          'b.example.com': [
            {
              type: 'sigstoreSigned',
              keyPath: '/etc/containers/cosign.pub',
              rekorPublicKeyPath: '/etc/containers/rekor.pub',
            },
          ],
          'c.example.com': [{ type: 'sigstoreSigned', pki: {}, keyPath: '/x' }],
          'd.example.com': [{ type: 'insecureAcceptAnything', comment: 'x' }],
        },
      },
      extra: true,
    });
    const { policy, unsupported } = parsePolicyJson(text, readFile);
    expect(policy.default).toEqual([{ type: 'reject' }]);
    for (const scope of ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com']) {
      expect(policy.scopes[scope]).toEqual([{ type: 'reject' }]);
    }
    expect(unsupported).toHaveLength(6);
    expect(unsupported.join('\n')).toMatch(/signedBaseLayer/);
    expect(unsupported.join('\n')).toMatch(/X509Certificates/);
    expect(unsupported.join('\n')).toMatch(/Rekor public keys/);
    expect(unsupported.join('\n')).toMatch(/fields pki/);
    expect(unsupported.join('\n')).toMatch(/fields comment/);
    expect(unsupported.join('\n')).toMatch(/top-level field "extra"/);
  });

  it.each([
    [
      'duplicate keys',
      '{"default":[{"type":"reject"}],"default":[{"type":"insecureAcceptAnything"}]}',
      /duplicate key/,
    ],
    ['missing default', '{"transports":{}}', /needs "default"/],
    ['empty requirement list', '{"default":[]}', /no requirements/],
    [
      'two key sources',
      '{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyData":"AA=="}]}',
      /exactly one of/,
    ],
    [
      'unreadable key file',
      '{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/missing"}]}',
      /could not be read/,
    ],
    [
      'exactReference without tag',
      '{"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":"AA==","signedIdentity":{"type":"exactReference","dockerReference":"quay.io/a/b"}}]}',
      /exactly one of a tag or a digest/,
    ],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parsePolicyJson(text, readFile)).toThrow(PolicyError);
    expect(() => parsePolicyJson(text, readFile)).toThrow(message);
  });

  it('round-trips what policy.json can express', () => {
    const { policy } = parsePolicyJson(sample(), readFile);
    const exported = exportPolicyJson(policy);
    expect(exported.unsupported).toEqual([]);
    const again = parsePolicyJson(exported.json, readFile);
    expect(again.policy).toEqual(policy);
  });

  it('exports an armored GPG key as binary keyData', () => {
    const policy: TrustPolicy = {
      default: [
        { type: 'signedBy', anchors: [{ kind: 'gpgKeys', keyring: signer.armoredPublicKey }] },
      ],
      scopes: {},
    };
    const exported = JSON.parse(exportPolicyJson(policy).json) as {
      default: { keyData: string }[];
    };
    expect(exported.default[0]?.keyData).toBe(signer.binaryPublicKeyBase64);
  });

  it('writes reject for anchors policy.json cannot express', () => {
    const policy: TrustPolicy = {
      default: [{ type: 'reject' }],
      scopes: {
        'quay.io/notary': [{ type: 'signedBy', anchors: [{ kind: 'x509Roots', rootsPem: 'x' }] }],
        'quay.io/pattern': [
          {
            type: 'signedBy',
            anchors: [
              {
                kind: 'sigstore',
                fulcioCaPem: 'x',
                identities: [{ issuer: 'i', subjectPattern: '.*' }],
              },
            ],
          },
        ],
      },
    };
    const exported = exportPolicyJson(policy);
    expect(exported.unsupported).toHaveLength(2);
    const document = JSON.parse(exported.json) as {
      transports: { docker: Record<string, unknown> };
    };
    expect(document.transports.docker['quay.io/notary']).toEqual([{ type: 'reject' }]);
    expect(document.transports.docker['quay.io/pattern']).toEqual([{ type: 'reject' }]);
  });
});
