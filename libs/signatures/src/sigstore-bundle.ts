import { createHash, createPublicKey } from 'node:crypto';

import { Bundle, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  SignedEntity,
  toSignedEntity,
  toTrustMaterial,
  TrustMaterial,
  Verifier,
} from '@sigstore/verify';

import { SignatureError } from './errors';
import { failed, FormatVerification } from './format-result';
import { parsePublicKeyPem, publicKeyFingerprint } from './keys';
import { memoizeByText } from './memo';
import { parsePemBlocks } from './pem';
import type { SigstoreIdentity, TrustAnchor } from './policy-types';
import { COSIGN_PAYLOAD_TYPE, parseSimpleSigningPayload } from './simple-signing';
import { isJsonObject, JsonValue, parseStrictJson } from './strict-json';
import { EKU_CODE_SIGNING, parseCertificate, ParsedCertificate } from './x509';

/** Predicate type of the in-toto statement that `cosign sign` wraps in a DSSE bundle. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = [
  'https://in-toto.io/Statement/v1',
  'https://in-toto.io/Statement/v0.1',
];
const FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const SUPPORTED_MEDIA_TYPES = new Set([
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
]);

type SigstoreAnchor = Extract<TrustAnchor, { kind: 'sigstore' }>;
type PublicKeyAnchor = Extract<TrustAnchor, { kind: 'publicKey' }>;

/**
 * Verifies a Sigstore bundle with @sigstore/verify against a `sigstore` anchor (certificate
 * chain to the anchor's CAs at the log or timestamp time, transparency log entry, SCTs) or a
 * `publicKey` anchor (key hint bundles). Keyless identities are matched here, anchored, and the
 * leaf must carry the codeSigning EKU and consistent Fulcio issuer extensions. The signed
 * content is then bound to the image: a DSSE in-toto statement with the cosign sign predicate
 * and a subject naming the digest, or a message signature over a cosign payload or the manifest.
 */
export async function verifySigstoreBundle(
  bundleBytes: Buffer,
  artifact: { bytes: Buffer; kind: 'cosign-payload' | 'manifest' } | undefined,
  anchors: readonly TrustAnchor[],
  targetDigest: string,
): Promise<FormatVerification> {
  let bundle: Bundle;
  try {
    bundle = parseBundle(bundleBytes);
  } catch (error) {
    return failed('invalid', 'bundle-malformed', (error as Error).message);
  }
  const content = bundle.content;
  const signedArtifact = content.$case === 'messageSignature' ? artifact?.bytes : undefined;
  if (content.$case === 'messageSignature' && signedArtifact === undefined) {
    return failed(
      'error',
      'artifact-missing',
      'a message-signature bundle needs the signed bytes or the manifest bytes',
    );
  }
  const entity = toSignedEntity(bundle, signedArtifact);

  const material = bundle.verificationMaterial.content;
  const verification =
    material.$case === 'publicKey'
      ? verifyWithKeys(
          entity,
          anchors.filter((anchor): anchor is PublicKeyAnchor => anchor.kind === 'publicKey'),
        )
      : verifyKeyless(
          entity,
          bundle,
          anchors.filter((anchor): anchor is SigstoreAnchor => anchor.kind === 'sigstore'),
        );
  if (verification.result !== 'valid') {
    return verification;
  }
  return bindContent(bundle, artifact, verification, targetDigest);
}

function parseBundle(bytes: Buffer): Bundle {
  const document = parseStrictJson(bytes.toString('utf8'));
  if (!isJsonObject(document)) {
    throw new SignatureError('bundle-malformed', 'the bundle is not a JSON object');
  }
  const mediaType = document['mediaType'];
  if (typeof mediaType !== 'string' || !SUPPORTED_MEDIA_TYPES.has(mediaType)) {
    throw new SignatureError(
      'bundle-malformed',
      `bundle media type ${JSON.stringify(mediaType)} is not a supported version (0.1 to 0.3)`,
    );
  }
  try {
    return bundleFromJSON(document);
  } catch (error) {
    throw new SignatureError(
      'bundle-malformed',
      `the bundle is invalid: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function verifyWithKeys(entity: SignedEntity, anchors: PublicKeyAnchor[]): FormatVerification {
  if (anchors.length === 0) {
    return failed(
      'untrusted',
      'no-applicable-anchor',
      'the bundle names a public key, and the requirement configures none',
    );
  }
  // NOTE: log entries and timestamps of key-hint bundles are not checked, because a publicKey
  // anchor has no log key. The hint is unauthenticated and ignored.
  const keyOnly: SignedEntity = { ...entity, tlogEntries: [], timestamps: [] };
  for (const anchor of anchors) {
    const key = parsePublicKeyPem(anchor.publicKeyPem, `public key ${anchor.name ?? ''}`.trim());
    const material: TrustMaterial = {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: () => ({ publicKey: key, validFor: () => true }),
    };
    try {
      new Verifier(material, { tlogThreshold: 0, timestampThreshold: 0, ctlogThreshold: 0 }).verify(
        keyOnly,
      );
    } catch {
      continue;
    }
    const signer = {
      keyFingerprint: publicKeyFingerprint(key),
      ...(anchor.name !== undefined && { identity: anchor.name }),
    };
    return {
      result: 'valid',
      reasonCode: 'signature-valid',
      reason: `bundle verified with public key sha256:${signer.keyFingerprint}`,
      signer,
    };
  }
  return failed(
    'untrusted',
    'no-trusted-key',
    `none of the ${anchors.length} trusted public keys verifies the bundle`,
  );
}

function verifyKeyless(
  entity: SignedEntity,
  bundle: Bundle,
  anchors: SigstoreAnchor[],
): FormatVerification {
  if (anchors.length === 0) {
    return failed(
      'untrusted',
      'no-applicable-anchor',
      'the bundle carries a certificate, and the requirement configures no Sigstore trust root',
    );
  }
  let leaf: ParsedCertificate;
  let issuer: string | undefined;
  try {
    leaf = parseCertificate(leafDer(bundle), 'bundle signing certificate');
    issuer = fulcioIssuer(leaf);
  } catch (error) {
    return failed(
      'invalid',
      (error as SignatureError).code ?? 'certificate-invalid',
      (error as Error).message,
    );
  }
  const subject = sanOf(leaf);
  const signer = {
    subject,
    identity: subject,
    ...(issuer !== undefined && { issuer }),
    keyFingerprint: leaf.x509.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
  if (!(leaf.extendedKeyUsage?.purposes.includes(EKU_CODE_SIGNING) ?? false)) {
    return failed(
      'untrusted',
      'leaf-eku',
      'the bundle certificate has no codeSigning extended key usage',
      signer,
    );
  }

  let lastError = 'no trust root accepted the bundle';
  let lastCode = 'bundle-untrusted';
  for (const anchor of anchors) {
    const material = trustMaterialOf(anchor);
    const ctlogThreshold = anchor.ctlogThreshold ?? (anchor.trustedRootJson !== undefined ? 1 : 0);
    // The Fulcio form has the Rekor key but not its checkpoint origin name. So, as in
    // containers/image, only the signed entry timestamp (SET) is verified, not the inclusion proof.
    const checked: SignedEntity =
      anchor.fulcioCaPem === undefined
        ? entity
        : {
            ...entity,
            tlogEntries: entity.tlogEntries.map((entry) => ({
              ...entry,
              inclusionProof: undefined,
            })),
          };
    try {
      new Verifier(material, { tlogThreshold: 1, ctlogThreshold, timestampThreshold: 1 }).verify(
        checked,
      );
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'bundle-untrusted';
      lastError = `${code}: ${(error as Error).message}`;
      lastCode =
        code === 'SIGNATURE_ERROR' ? 'signature-invalid' : code.toLowerCase().replace(/_/g, '-');
      if (code === 'SIGNATURE_ERROR' || code === 'TLOG_BODY_ERROR') {
        return failed('invalid', lastCode, lastError, signer);
      }
      continue;
    }
    const identity = anchor.identities.find((candidate) =>
      identityMatches(candidate, subject, issuer),
    );
    if (identity === undefined) {
      lastCode = 'identity-untrusted';
      lastError = `signer ${subject ?? '(no SAN)'} from issuer ${issuer ?? '(none)'} is not a trusted identity`;
      continue;
    }
    const trustedTime = trustedTimeOf(entity);
    return {
      result: 'valid',
      reasonCode: 'signature-valid',
      reason: `bundle verified for ${subject ?? ''} from ${issuer ?? ''}`,
      signer,
      ...(trustedTime !== undefined && { trustedTime }),
    };
  }
  return failed('untrusted', lastCode, lastError, signer);
}

/** Matches an exact SAN, or a pattern anchored as `^(?:pattern)$`, plus the exact issuer. */
export function identityMatches(
  identity: SigstoreIdentity,
  subject: string | undefined,
  issuer: string | undefined,
): boolean {
  if (subject === undefined || issuer !== identity.issuer) {
    return false;
  }
  if (identity.subject !== undefined) {
    return subject === identity.subject;
  }
  return new RegExp(`^(?:${identity.subjectPattern ?? ''})$`, 'u').test(subject);
}

function leafDer(bundle: Bundle): Buffer {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'certificate') {
    return Buffer.from(material.certificate.rawBytes);
  }
  if (material.$case === 'x509CertificateChain') {
    const first = material.x509CertificateChain.certificates[0];
    if (first !== undefined) {
      return Buffer.from(first.rawBytes);
    }
  }
  throw new SignatureError('certificate-invalid', 'the bundle carries no signing certificate');
}

function sanOf(leaf: ParsedCertificate): string | undefined {
  const text = leaf.x509.subjectAltName;
  if (text === undefined) {
    return undefined;
  }
  // node:crypto writes one entry, "email:x" or "URI:x", possibly as a JSON string literal.
  const match = /^(?:email|URI):("(?:[^"\\]|\\.)*"|[^,]*)$/.exec(text);
  if (match === null) {
    return undefined;
  }
  const value = match[1] ?? '';
  return value.startsWith('"') ? (JSON.parse(value) as string) : value;
}

/**
 * Reads the OIDC issuer: v2 (.1.8, DER UTF8String) and v1 (.1.1, raw bytes); both present and
 * different is rejected, as containers/image does.
 */
function fulcioIssuer(leaf: ParsedCertificate): string | undefined {
  const v1 = leaf.extensions.get(FULCIO_ISSUER_V1)?.value.toString('utf8');
  const v2Value = leaf.extensions.get(FULCIO_ISSUER_V2)?.value;
  const v2 = v2Value === undefined ? undefined : decodeUtf8String(v2Value);
  if (v1 !== undefined && v2 !== undefined && v1 !== v2) {
    throw new SignatureError(
      'issuer-conflict',
      `the certificate names issuer ${v2} in extension .1.8 and ${v1} in .1.1`,
    );
  }
  return v2 ?? v1;
}

function decodeUtf8String(der: Buffer): string {
  if (der[0] !== 0x0c) {
    throw new SignatureError(
      'certificate-invalid',
      'the Fulcio issuer extension .1.8 is not a DER UTF8String',
    );
  }
  let length = der[1] ?? 0;
  let offset = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let index = 0; index < count; index += 1) {
      length = length * 256 + (der[2 + index] ?? 0);
    }
    offset += count;
  }
  if (offset + length !== der.length) {
    throw new SignatureError(
      'certificate-invalid',
      'the Fulcio issuer extension .1.8 has a wrong length',
    );
  }
  return der.subarray(offset).toString('utf8');
}

function trustedTimeOf(entity: SignedEntity): string | undefined {
  for (const timestamp of entity.timestamps) {
    if (timestamp.$case === 'transparency-log') {
      return new Date(Number(timestamp.tlogEntry.integratedTime) * 1000).toISOString();
    }
  }
  return undefined;
}

/** Builds the trusted root of an anchor: its JSON document, or one made from the Fulcio CA and Rekor keys. */
const trustMaterialByKey = memoizeByText((key: string) =>
  toTrustMaterial(trustedRootOf(JSON.parse(key) as SigstoreAnchor)),
);

/** Trust material of an anchor, built once per distinct root, CA and Rekor keys. */
function trustMaterialOf(anchor: SigstoreAnchor): ReturnType<typeof toTrustMaterial> {
  return trustMaterialByKey(
    JSON.stringify({
      trustedRootJson: anchor.trustedRootJson,
      fulcioCaPem: anchor.fulcioCaPem,
      rekorPublicKeysPem: anchor.rekorPublicKeysPem,
    }),
  );
}

export function trustedRootOf(anchor: SigstoreAnchor): TrustedRoot {
  if (anchor.trustedRootJson !== undefined) {
    return TrustedRoot.fromJSON(JSON.parse(anchor.trustedRootJson));
  }
  const caChain = parsePemBlocks(anchor.fulcioCaPem ?? '', 'Fulcio CA').map((block) => ({
    rawBytes: block.der.toString('base64'),
  }));
  const tlogs = (anchor.rekorPublicKeysPem ?? []).map((pem) => {
    const der = createPublicKey(pem).export({ format: 'der', type: 'spki' });
    return {
      baseUrl: 'rekor',
      hashAlgorithm: 'SHA2_256',
      // keyDetails only decides between PKCS#1 and SPKI parsing; every key here is SPKI.
      publicKey: { rawBytes: der.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
      logId: { keyId: createHash('sha256').update(der).digest('base64') },
    };
  });
  return TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs,
    certificateAuthorities: [
      { certChain: { certificates: caChain }, validFor: { start: '1970-01-01T00:00:00Z' } },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  });
}

function bindContent(
  bundle: Bundle,
  artifact: { bytes: Buffer; kind: 'cosign-payload' | 'manifest' } | undefined,
  verification: FormatVerification,
  targetDigest: string,
): FormatVerification {
  const content = bundle.content;
  if (content.$case === 'dsseEnvelope') {
    return bindStatement(
      content.dsseEnvelope.payloadType,
      content.dsseEnvelope.payload,
      verification,
      targetDigest,
    );
  }
  const { bytes, kind } = artifact as { bytes: Buffer; kind: 'cosign-payload' | 'manifest' };
  if (kind === 'manifest') {
    return {
      ...verification,
      signedDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    };
  }
  try {
    const claims = parseSimpleSigningPayload(bytes, COSIGN_PAYLOAD_TYPE);
    return {
      ...verification,
      signedDigest: claims.dockerManifestDigest,
      dockerReference: claims.dockerReference,
    };
  } catch (error) {
    return {
      ...verification,
      result: 'invalid',
      reasonCode: 'payload-invalid',
      reason: (error as Error).message,
    };
  }
}

function bindStatement(
  payloadType: string,
  payload: Buffer,
  verification: FormatVerification,
  targetDigest: string,
): FormatVerification {
  const invalid = (reasonCode: string, reason: string): FormatVerification => ({
    ...verification,
    result: 'invalid',
    reasonCode,
    reason,
  });
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return invalid(
      'payload-type',
      `DSSE payload type ${payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }

  let statement: JsonValue;
  try {
    statement = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    return invalid(
      'payload-invalid',
      `the in-toto statement is not strict JSON: ${(error as Error).message}`,
    );
  }

  if (!isJsonObject(statement) || !IN_TOTO_STATEMENT_TYPES.includes(String(statement['_type']))) {
    return invalid('payload-invalid', 'the DSSE payload is not an in-toto statement');
  }

  if (statement['predicateType'] !== COSIGN_SIGN_PREDICATE_TYPE) {
    return invalid(
      'predicate-type',
      `predicate type ${String(statement['predicateType'])} is not ${COSIGN_SIGN_PREDICATE_TYPE}`,
    );
  }

  const subjects = statement['subject'];
  if (!Array.isArray(subjects) || subjects.length === 0) {
    return invalid('payload-invalid', 'the in-toto statement has no subject');
  }

  const digests = subjects.map((subject) =>
    isJsonObject(subject) && isJsonObject(subject['digest'])
      ? subject['digest']['sha256']
      : undefined,
  );
  if (digests.some((digest) => typeof digest !== 'string' || !/^[a-f0-9]{64}$/.test(digest))) {
    return invalid('payload-invalid', 'every in-toto subject needs a lowercase hex sha256 digest');
  }

  const matching =
    digests.find((digest) => `sha256:${String(digest)}` === targetDigest) ?? digests[0];
  return { ...verification, signedDigest: `sha256:${String(matching)}` };
}
