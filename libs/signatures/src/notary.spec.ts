import { constants, createPrivateKey, KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { encode, Tagged } from 'cbor';
import { FlattenedSign } from 'jose';
import * as forge from 'node-forge';

import {
  EXTENSIONS,
  makeTempDir,
  opensslCertificate,
  OpensslCertificate,
} from '../test-fixtures/tools';
import { sha256Digest } from './digest';
import { NOTARY_PAYLOAD_MEDIA_TYPE } from './notary';
import type { TrustPolicy } from './policy-types';
import type { NotaryCandidate } from './types';
import { verifyImageSignatures, VerifyImageInput } from './verify';

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const manifest = Buffer.from(`{"schemaVersion":2,"mediaType":"${MANIFEST_TYPE}","layers":[]}`);
const digest = sha256Digest(manifest);
const reference = { registry: 'registry.example.com', repository: 'team/app', tag: 'v1' };
const DAY = 24 * 60 * 60 * 1000;

interface Signer {
  key: KeyObject;
  chain: Buffer[];
  alg: string;
  coseAlg: number;
}

function payloadFor(overrides: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      targetArtifact: { mediaType: MANIFEST_TYPE, digest, size: manifest.length, ...overrides },
    }),
  );
}

async function jws(
  signer: Signer,
  payload: Buffer,
  protectedOverrides: Record<string, unknown> = {},
): Promise<Buffer> {
  const signed = await new FlattenedSign(payload)
    .setProtectedHeader({
      alg: signer.alg,
      cty: NOTARY_PAYLOAD_MEDIA_TYPE,
      crit: ['io.cncf.notary.signingScheme'],
      'io.cncf.notary.signingScheme': 'notary.x509',
      'io.cncf.notary.signingTime': new Date().toISOString(),
      ...protectedOverrides,
    })
    .setUnprotectedHeader({
      x5c: signer.chain.map((der) => der.toString('base64')),
      'io.cncf.notary.signingAgent': 'unit test',
    })
    .sign(signer.key, {
      crit: {
        'io.cncf.notary.signingScheme': true,
        'io.cncf.notary.expiry': true,
        'io.cncf.notary.verificationPlugin': true,
      },
    });
  return Buffer.from(JSON.stringify(signed));
}

function coseProtected(signer: Signer): Buffer {
  return encode(
    new Map<unknown, unknown>([
      [1, signer.coseAlg],
      [2, ['io.cncf.notary.signingScheme']],
      [3, NOTARY_PAYLOAD_MEDIA_TYPE],
      ['io.cncf.notary.signingScheme', 'notary.x509'],
      ['io.cncf.notary.signingTime', new Date()],
    ]),
  );
}

function cose(signer: Signer, payload: Buffer, protectedBytes = coseProtected(signer)): Buffer {
  const toBeSigned = encode(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
  const hash = signer.coseAlg === -35 ? 'sha384' : 'sha256';
  const signature =
    signer.key.asymmetricKeyType === 'rsa'
      ? sign(hash, toBeSigned, {
          key: signer.key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        })
      : sign(hash, toBeSigned, { key: signer.key, dsaEncoding: 'ieee-p1363' });
  return encode(
    new Tagged(18, [protectedBytes, new Map([[33, signer.chain]]), payload, signature]),
  );
}

function policyFor(rootsPem: string, trustedIdentities?: string[]): TrustPolicy {
  return {
    default: [{ type: 'reject' }],
    scopes: {
      'registry.example.com': [
        {
          type: 'signedBy',
          anchors: [
            {
              kind: 'x509Roots',
              name: 'release',
              rootsPem,
              ...(trustedIdentities && { trustedIdentities }),
            },
          ],
        },
      ],
    },
  };
}

function input(
  envelope: Buffer,
  mediaType: NotaryCandidate['envelopeMediaType'],
  policy: TrustPolicy,
  overrides: Partial<VerifyImageInput> = {},
): VerifyImageInput {
  return {
    digest,
    size: manifest.length,
    mediaType: MANIFEST_TYPE,
    reference,
    candidates: [{ format: 'notary', source: 'referrer', envelope, envelopeMediaType: mediaType }],
    policy,
    ...overrides,
  };
}

function forgeRsaChain(): { rootPem: string; signer: Signer } {
  const extensionsCa = [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ];
  const rootKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const root = forge.pki.createCertificate();
  root.publicKey = rootKeys.publicKey;
  root.serialNumber = '01';
  root.validity.notBefore = new Date(Date.now() - DAY);
  root.validity.notAfter = new Date(Date.now() + 30 * DAY);
  const rootName = [
    { shortName: 'C', value: 'US' },
    { shortName: 'ST', value: 'WA' },
    { shortName: 'O', value: 'RSA Root' },
  ];
  root.setSubject(rootName);
  root.setIssuer(rootName);
  root.setExtensions(extensionsCa);
  root.sign(rootKeys.privateKey, forge.md.sha256.create());

  const leafKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = leafKeys.publicKey;
  leaf.serialNumber = '02';
  leaf.validity.notBefore = new Date(Date.now() - DAY);
  leaf.validity.notAfter = new Date(Date.now() + 30 * DAY);
  leaf.setSubject([
    { shortName: 'C', value: 'US' },
    { shortName: 'ST', value: 'WA' },
    { shortName: 'O', value: 'RSA Signer' },
  ]);
  leaf.setIssuer(rootName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', codeSigning: true },
  ]);
  leaf.sign(rootKeys.privateKey, forge.md.sha256.create());

  const toDer = (certificate: forge.pki.Certificate) =>
    Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(), 'binary');
  return {
    rootPem: forge.pki.certificateToPem(root),
    signer: {
      key: createPrivateKey(forge.pki.privateKeyToPem(leafKeys.privateKey)),
      chain: [toDer(leaf), toDer(root)],
      alg: 'PS256',
      coseAlg: -37,
    },
  };
}

describe('Notary Project signatures', () => {
  const temp = makeTempDir('notary-spec-');
  let root: OpensslCertificate;
  let otherRoot: OpensslCertificate;
  let good: Signer;
  let serverAuth: Signer;
  let notCaChain: Signer;
  let rsa: { rootPem: string; signer: Signer };

  function signerFrom(leaf: OpensslCertificate, ...issuers: OpensslCertificate[]): Signer {
    return {
      key: createPrivateKey(readFileSync(leaf.key.privatePath)),
      chain: [leaf.der, ...issuers.map((c) => c.der)],
      alg: 'ES256',
      coseAlg: -7,
    };
  }

  beforeAll(() => {
    const dir = temp.dir;
    root = opensslCertificate(dir, 'root', {
      subject: '/C=US/ST=WA/O=Test/CN=Root',
      keySpec: 'ec:P-384',
      extensions: EXTENSIONS.ca,
      days: 365,
    });
    otherRoot = opensslCertificate(dir, 'other-root', {
      subject: '/C=US/ST=WA/O=Other/CN=Root',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.ca,
    });
    const intermediate = opensslCertificate(dir, 'intermediate', {
      subject: '/C=US/ST=WA/O=Test/CN=Intermediate',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.ca,
      issuer: root,
      days: 100,
    });
    const leaf = opensslCertificate(dir, 'leaf', {
      subject: '/C=US/ST=WA/O=Test/CN=Signer',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.codeSigningLeaf,
      issuer: intermediate,
      days: 30,
    });
    good = signerFrom(leaf, intermediate, root);
    const serverLeaf = opensslCertificate(dir, 'server-leaf', {
      subject: '/C=US/ST=WA/O=Test/CN=Server',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.serverAuthLeaf,
      issuer: intermediate,
    });
    serverAuth = signerFrom(serverLeaf, intermediate, root);
    const notCa = opensslCertificate(dir, 'not-ca', {
      subject: '/C=US/ST=WA/O=Test/CN=NotCA',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.notCa,
      issuer: root,
    });
    const underNotCa = opensslCertificate(dir, 'under-not-ca', {
      subject: '/C=US/ST=WA/O=Test/CN=Under',
      keySpec: 'ec:P-256',
      extensions: EXTENSIONS.codeSigningLeaf,
      issuer: notCa,
    });
    notCaChain = signerFrom(underNotCa, notCa, root);
    rsa = forgeRsaChain();
  });
  afterAll(() => temp.cleanup());

  it('verifies an ECDSA JWS envelope', async () => {
    const verdict = await verifyImageSignatures(
      input(await jws(good, payloadFor()), 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('verified');
    expect(verdict.signers[0]?.subject).toContain('CN=Signer');
  });

  it('verifies an ECDSA COSE envelope', async () => {
    const verdict = await verifyImageSignatures(
      input(cose(good, payloadFor()), 'application/cose', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('verified');
  });

  it('verifies RSA-PSS JWS and COSE from a node-forge chain', async () => {
    const jwsVerdict = await verifyImageSignatures(
      input(await jws(rsa.signer, payloadFor()), 'application/jose+json', policyFor(rsa.rootPem)),
    );
    const coseVerdict = await verifyImageSignatures(
      input(cose(rsa.signer, payloadFor()), 'application/cose', policyFor(rsa.rootPem)),
    );
    expect(jwsVerdict.status).toBe('verified');
    expect(coseVerdict.status).toBe('verified');
  });

  it('keeps the received COSE protected header bytes', async () => {
    // alg -7 re-encoded with a one-byte argument (0x38 0x06): valid CBOR, but not what an encoder writes.
    const canonical = coseProtected(good);
    const position = canonical.indexOf(Buffer.from([0x01, 0x26]));
    const unusual = Buffer.concat([
      canonical.subarray(0, position),
      Buffer.from([0x01, 0x38, 0x06]),
      canonical.subarray(position + 2),
    ]);
    const verdict = await verifyImageSignatures(
      input(cose(good, payloadFor(), unusual), 'application/cose', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('verified');
  });

  it.each([
    ['digest', { digest: `sha256:${'9'.repeat(64)}` }, 'digest-mismatch'],
    ['size', { size: manifest.length + 1 }, 'descriptor-mismatch'],
    ['media type', { mediaType: 'application/vnd.oci.image.index.v1+json' }, 'descriptor-mismatch'],
  ])('marks a payload naming another %s invalid', async (_name, overrides, code) => {
    const verdict = await verifyImageSignatures(
      input(await jws(good, payloadFor(overrides)), 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe(code);
  });

  it('marks a modified JWS payload invalid', async () => {
    const envelope = JSON.parse((await jws(good, payloadFor())).toString()) as Record<
      string,
      string
    >;
    envelope['payload'] = Buffer.from(payloadFor({ digest: `sha256:${'9'.repeat(64)}` })).toString(
      'base64url',
    );
    const verdict = await verifyImageSignatures(
      input(Buffer.from(JSON.stringify(envelope)), 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('signature-invalid');
  });

  it('rejects an alg that does not match the leaf key', async () => {
    const envelope = cose({ ...good, coseAlg: -35 }, payloadFor());
    const verdict = await verifyImageSignatures(
      input(envelope, 'application/cose', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('invalid');
    expect(verdict.checks[0]?.reasonCode).toBe('algorithm-mismatch');
  });

  it('rejects unknown critical headers', async () => {
    const envelope = await jws(good, payloadFor(), {
      crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.verificationPlugin'],
      'io.cncf.notary.verificationPlugin': 'x',
    });
    const verdict = await verifyImageSignatures(
      input(envelope, 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('critical-header-unsupported');
  });

  it('rejects a signature past its expiry', async () => {
    const envelope = await jws(good, payloadFor(), {
      crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
      'io.cncf.notary.expiry': new Date(Date.now() - 1000).toISOString(),
    });
    const verdict = await verifyImageSignatures(
      input(envelope, 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.checks[0]?.reasonCode).toBe('signature-expired');
  });

  it.each([
    ['expired', 40 * DAY, 'certificate-expired'],
    ['not yet valid', -2 * DAY, 'certificate-not-yet-valid'],
  ])('reports %s certificates as untrusted', async (_name, offset, code) => {
    const envelope = await jws(good, payloadFor());
    const verdict = await verifyImageSignatures(
      input(envelope, 'application/jose+json', policyFor(root.pem), {
        now: new Date(Date.now() + offset),
      }),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe(code);
  });

  it('rejects a leaf without the code-signing EKU', async () => {
    const verdict = await verifyImageSignatures(
      input(await jws(serverAuth, payloadFor()), 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('leaf-eku');
  });

  it('rejects an intermediate that is not a CA', async () => {
    const verdict = await verifyImageSignatures(
      input(await jws(notCaChain, payloadFor()), 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('ca-invalid');
  });

  it('reports a chain to another root as untrusted', async () => {
    const verdict = await verifyImageSignatures(
      input(await jws(good, payloadFor()), 'application/jose+json', policyFor(otherRoot.pem)),
    );
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.reasonCode).toBe('chain-untrusted');
  });

  it('matches trusted identities by subject attributes', async () => {
    const envelope = await jws(good, payloadFor());
    const matching = await verifyImageSignatures(
      input(
        envelope,
        'application/jose+json',
        policyFor(root.pem, ['x509.subject: C=US, ST=WA, O=Test, CN=Signer']),
      ),
    );
    const other = await verifyImageSignatures(
      input(
        envelope,
        'application/jose+json',
        policyFor(root.pem, ['x509.subject: C=US, ST=WA, O=Test, CN=Someone']),
      ),
    );
    expect(matching.status).toBe('verified');
    expect(other.status).toBe('untrusted');
    expect(other.checks[0]?.reasonCode).toBe('identity-untrusted');
  });

  it('needs the manifest size and media type', async () => {
    const verdict = await verifyImageSignatures(
      input(await jws(good, payloadFor()), 'application/jose+json', policyFor(root.pem), {
        size: undefined,
      }),
    );
    expect(verdict.status).toBe('invalid');
  });

  it('rejects a JWS envelope with an unknown member', async () => {
    const envelope = JSON.parse((await jws(good, payloadFor())).toString()) as Record<
      string,
      unknown
    >;
    envelope['extra'] = 1;
    const verdict = await verifyImageSignatures(
      input(Buffer.from(JSON.stringify(envelope)), 'application/jose+json', policyFor(root.pem)),
    );
    expect(verdict.checks[0]?.reasonCode).toBe('envelope-malformed');
  });
});
