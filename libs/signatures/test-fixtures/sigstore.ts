/**
 * A local, offline stand-in for Sigstore used by the unit specs: an openssl CA in place of
 * Fulcio, an ECDSA key in place of Rekor (SETs, checkpoints and one-leaf Merkle proofs signed
 * here), and a trusted_root.json naming both. No certificate transparency log is simulated.
 */
import { createHash, createPrivateKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { EXTENSIONS, opensslCertificate, OpensslCertificate } from './tools';

export interface LocalSigstore {
  ca: OpensslCertificate;
  rekorPrivateKey: KeyObject;
  rekorPublicPem: string;
  logId: Buffer;
  trustedRootJson: string;
}

const REKOR_NAME = 'rekor.local';

/** Creates the CA and log key, and the trusted root that lists them. */
export function createLocalSigstore(dir: string, name = 'fulcio'): LocalSigstore {
  const ca = opensslCertificate(dir, `${name}-ca`, {
    subject: `/O=${name}/CN=${name} root`,
    keySpec: 'ec:P-256',
    extensions: EXTENSIONS.ca,
    days: 365,
  });
  const rekor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = rekor.publicKey.export({ format: 'der', type: 'spki' });
  const logId = createHash('sha256').update(spki).digest();
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: `https://${REKOR_NAME}`,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: spki.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
        logId: { keyId: logId.toString('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: name, commonName: `${name} root` },
        uri: `https://${name}.local`,
        certChain: { certificates: [{ rawBytes: ca.der.toString('base64') }] },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  };
  return {
    ca,
    rekorPrivateKey: rekor.privateKey,
    rekorPublicPem: rekor.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    logId,
    trustedRootJson: JSON.stringify(trustedRoot),
  };
}

/** Issues a Fulcio-like leaf: SAN, issuer extensions .1.8 (UTF8String) and optionally .1.1 (raw). */
export function issueLeaf(
  dir: string,
  sigstore: LocalSigstore,
  name: string,
  options: { san: string; issuer: string; issuerV1?: string; eku?: 'codeSigning' | 'serverAuth' },
): OpensslCertificate {
  const lines = [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    `extendedKeyUsage=${options.eku ?? 'codeSigning'}`,
    `subjectAltName=${options.san}`,
    `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${options.issuer}`,
  ];
  if (options.issuerV1 !== undefined) {
    lines.push(`1.3.6.1.4.1.57264.1.1=DER:${Buffer.from(options.issuerV1).toString('hex')}`);
  }
  return opensslCertificate(dir, name, {
    subject: '/O=sigstore-test',
    keySpec: 'ec:P-256',
    extensions: lines.join('\n'),
    issuer: sigstore.ca,
    days: 2,
  });
}

/** Computes the DSSE pre-authentication encoding. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `),
    payload,
  ]);
}

/** Builds a cosign-style in-toto statement for a digest. */
export function cosignStatement(
  digest: string,
  predicateType = 'https://sigstore.dev/cosign/sign/v1',
): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: 'registry.example.com/team/app',
          digest: { sha256: digest.replace(/^sha256:/, '') },
        },
      ],
      predicateType,
      predicate: {},
    }),
  );
}

/** Options for {@link dsseBundle} and {@link messageBundle}. */
export interface BundleOptions {
  sigstore: LocalSigstore;
  leaf: OpensslCertificate;
  version: '0.1' | '0.3';
  integratedTime?: number;
  /** Signs the log entry for a different signature than the bundle carries. */
  logOtherSignature?: boolean;
}

/** Signs a statement into a DSSE bundle with a Rekor-like `dsse` 0.0.1 log entry. */
export function dsseBundle(
  statement: Buffer,
  options: BundleOptions,
  payloadType = 'application/vnd.in-toto+json',
): string {
  const key = createPrivateKey(readFileSync(options.leaf.key.privatePath));
  const signature = sign('sha256', preAuthEncoding(payloadType, statement), key);
  const logged =
    options.logOtherSignature === true
      ? sign('sha256', preAuthEncoding(payloadType, Buffer.from('other')), key)
      : signature;
  const body = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      payloadHash: {
        algorithm: 'sha256',
        value: createHash('sha256').update(statement).digest('hex'),
      },
      signatures: [
        {
          signature: logged.toString('base64'),
          verifier: Buffer.from(options.leaf.pem).toString('base64'),
        },
      ],
    },
  };
  return JSON.stringify({
    mediaType: mediaTypeOf(options.version),
    verificationMaterial: verificationMaterial(options, Buffer.from(JSON.stringify(body)), 'dsse'),
    dsseEnvelope: {
      payload: statement.toString('base64'),
      payloadType,
      signatures: [{ sig: signature.toString('base64'), keyid: '' }],
    },
  });
}

/** Signs artifact bytes into a message-signature bundle with a `hashedrekord` 0.0.1 log entry. */
export function messageBundle(artifact: Buffer, options: BundleOptions): string {
  const key = createPrivateKey(readFileSync(options.leaf.key.privatePath));
  const signature = sign('sha256', artifact, key);
  const digest = createHash('sha256').update(artifact).digest();
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(options.leaf.pem).toString('base64') },
      },
    },
  };
  return JSON.stringify({
    mediaType: mediaTypeOf(options.version),
    verificationMaterial: verificationMaterial(
      options,
      Buffer.from(JSON.stringify(body)),
      'hashedrekord',
    ),
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  });
}

function mediaTypeOf(version: BundleOptions['version']): string {
  return version === '0.1'
    ? 'application/vnd.dev.sigstore.bundle+json;version=0.1'
    : 'application/vnd.dev.sigstore.bundle.v0.3+json';
}

function verificationMaterial(
  options: BundleOptions,
  body: Buffer,
  kind: string,
): Record<string, unknown> {
  const { sigstore } = options;
  const integratedTime = options.integratedTime ?? Math.floor(Date.now() / 1000);
  const setPayload = `{"body":"${body.toString('base64')}","integratedTime":${integratedTime},"logID":"${sigstore.logId.toString('hex')}","logIndex":0}`;
  const entry: Record<string, unknown> = {
    logIndex: '0',
    logId: { keyId: sigstore.logId.toString('base64') },
    kindVersion: { kind, version: '0.0.1' },
    integratedTime: String(integratedTime),
    inclusionPromise: {
      signedEntryTimestamp: sign(
        'sha256',
        Buffer.from(setPayload),
        sigstore.rekorPrivateKey,
      ).toString('base64'),
    },
    canonicalizedBody: body.toString('base64'),
  };
  if (options.version !== '0.1') {
    const root = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), body]))
      .digest();
    const note = `${REKOR_NAME} - test\n1\n${root.toString('base64')}\n`;
    const noteSignature = Buffer.concat([
      sigstore.logId.subarray(0, 4),
      sign('sha256', Buffer.from(note), sigstore.rekorPrivateKey),
    ]);
    entry['inclusionProof'] = {
      logIndex: '0',
      rootHash: root.toString('base64'),
      treeSize: '1',
      hashes: [],
      checkpoint: {
        envelope: `${note}\n\u2014 ${REKOR_NAME} ${noteSignature.toString('base64')}\n`,
      },
    };
  }
  const certificate = { rawBytes: options.leaf.der.toString('base64') };
  return {
    ...(options.version === '0.1'
      ? { x509CertificateChain: { certificates: [certificate] } }
      : { certificate }),
    tlogEntries: [entry],
    timestampVerificationData: { rfc3161Timestamps: [] },
  };
}

/** Options for {@link keylessCosignLayer}. */
export interface KeylessLayerOptions {
  sigstore: LocalSigstore;
  leaf: OpensslCertificate;
  integratedTime?: number;
  /** Signs the SET with this key in place of the log key (logID still names the log key). */
  setKey?: KeyObject;
  /** Logs the hash of these bytes in place of the payload hash. */
  loggedPayload?: Buffer;
  /** Content of the chain annotation; omitted when undefined. */
  chainPem?: string;
}

/** Annotations of a keyless cosign `.sig` layer, as `cosign sign` writes them. */
export interface KeylessLayer {
  signatureBase64: string;
  certificatePem: string;
  chainPem?: string;
  rekorBundleJson: string;
}

/**
 * Signs a cosign payload with a leaf key and logs it as a `hashedrekord` 0.0.1 entry with a SET
 * over the RFC 8785 form of `{body, integratedTime, logID, logIndex}` (keys already sorted).
 */
export function keylessCosignLayer(payload: Buffer, options: KeylessLayerOptions): KeylessLayer {
  const key = createPrivateKey(readFileSync(options.leaf.key.privatePath));
  const signature = sign('sha256', payload, key);
  const logged = options.loggedPayload ?? payload;
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: {
        hash: { algorithm: 'sha256', value: createHash('sha256').update(logged).digest('hex') },
      },
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(options.leaf.pem).toString('base64') },
      },
    },
  };
  const entry = {
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    integratedTime: options.integratedTime ?? Math.floor(Date.now() / 1000),
    logID: options.sigstore.logId.toString('hex'),
    logIndex: 7,
  };
  const set = sign(
    'sha256',
    Buffer.from(JSON.stringify(entry)),
    options.setKey ?? options.sigstore.rekorPrivateKey,
  );
  return {
    signatureBase64: signature.toString('base64'),
    certificatePem: options.leaf.pem,
    ...(options.chainPem !== undefined && { chainPem: options.chainPem }),
    rekorBundleJson: JSON.stringify({
      SignedEntryTimestamp: set.toString('base64'),
      Payload: entry,
    }),
  };
}
