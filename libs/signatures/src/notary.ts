import { constants, KeyObject, verify } from 'node:crypto';

import { decodeAllSync, encode, Tagged } from 'cbor';
import { flattenedVerify } from 'jose';

import { SignatureError } from './errors';
import { failed, FormatVerification } from './format-result';
import { memoizeByText } from './memo';
import type { TrustAnchor } from './policy-types';
import { isJsonObject, JsonObject, JsonValue, parseStrictJson } from './strict-json';
import type { VerificationTarget } from './types';
import {
  parseCertificate,
  parseCertificatesPem,
  ParsedCertificate,
  subjectMatches,
  verifyCodeSigningChain,
} from './x509';

/** Media type of the Notary Project signed payload. */

/** Trust store certificates, parsed once per distinct PEM text and name. */
const parseRootsCached = memoizeByText((key: string) => {
  const [pem, description] = JSON.parse(key) as [string, string];
  return parseCertificatesPem(pem, description);
});

export const NOTARY_PAYLOAD_MEDIA_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
const SIGNING_SCHEME = 'io.cncf.notary.signingScheme';
const EXPIRY = 'io.cncf.notary.expiry';
const SIGNING_TIME = 'io.cncf.notary.signingTime';
const AUTHENTIC_SIGNING_TIME = 'io.cncf.notary.authenticSigningTime';
/** Critical headers this verifier understands; plugin headers and any other name are rejected. */
const KNOWN_CRITICAL = new Set([SIGNING_SCHEME, EXPIRY, AUTHENTIC_SIGNING_TIME]);

/** JWS `alg` and COSE algorithm for each leaf key, fixed by the key size (Notary Project spec). */
interface AlgorithmChoice {
  jws: string;
  cose: number;
  hash: 'sha256' | 'sha384' | 'sha512';
  rsa: boolean;
}

/** Fields common to JWS and COSE envelopes, read before the shared trust and payload checks. */
interface DecodedEnvelope {
  chain: ParsedCertificate[];
  algorithm: string | number | undefined;
  signingScheme: unknown;
  contentType: unknown;
  expiry: Date | undefined;
  critical: unknown;
  /** Verifies the signature with the leaf key and returns the payload bytes, or undefined when it fails. */
  verifySignature(choice: AlgorithmChoice, key: KeyObject): Promise<Buffer | undefined>;
}

/**
 * Verifies a Notary Project signature (JWS or COSE_Sign1 envelope, scheme `notary.x509`).
 * The leaf key fixes the algorithm and checks the signature. The chain must lead to an
 * `x509Roots` anchor at `now`, and the leaf must be a trusted identity of that anchor.
 * Last come the expiry and the payload's target descriptor, which must name the image's
 * digest, size and media type.
 */
export async function verifyNotarySignature(
  envelope: Buffer,
  mediaType: string,
  anchors: readonly TrustAnchor[],
  target: VerificationTarget,
  now: Date,
): Promise<FormatVerification> {
  const rootAnchors = anchors.filter((anchor) => anchor.kind === 'x509Roots');
  if (rootAnchors.length === 0) {
    return failed(
      'untrusted',
      'no-applicable-anchor',
      'the policy requirement configures no X.509 roots for Notary signatures',
    );
  }

  let decoded: DecodedEnvelope;
  try {
    decoded = mediaType === 'application/cose' ? decodeCose(envelope) : decodeJws(envelope);
  } catch (error) {
    return failed('invalid', 'envelope-malformed', (error as Error).message);
  }
  const header = checkProtectedHeader(decoded);
  if (header !== undefined) {
    return header;
  }

  const leaf = decoded.chain[0] as ParsedCertificate;
  const choice = algorithmFor(leaf.x509.publicKey);
  if (choice === undefined) {
    return failed(
      'invalid',
      'algorithm-unsupported',
      `the leaf key type ${String(leaf.x509.publicKey.asymmetricKeyType)} is not allowed`,
    );
  }
  const expectedAlgorithm = mediaType === 'application/cose' ? choice.cose : choice.jws;
  if (decoded.algorithm !== expectedAlgorithm) {
    return failed(
      'invalid',
      'algorithm-mismatch',
      `alg ${String(decoded.algorithm)} does not match the leaf key, expected ${expectedAlgorithm}`,
    );
  }
  const payload = await decoded.verifySignature(choice, leaf.x509.publicKey);
  const subject = leaf.x509.subject.replace(/\n/g, ', ');
  const signer = {
    subject,
    identity: subject,
    keyFingerprint: leaf.x509.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
  if (payload === undefined) {
    return failed(
      'invalid',
      'signature-invalid',
      'the envelope signature does not verify with the leaf certificate key',
      signer,
    );
  }

  const trust = checkTrust(decoded.chain, rootAnchors, now);
  if (trust !== undefined) {
    return { ...trust, signer };
  }
  if (decoded.expiry !== undefined && now >= decoded.expiry) {
    return failed(
      'untrusted',
      'signature-expired',
      `the signature expired at ${decoded.expiry.toISOString()}`,
      signer,
    );
  }
  return checkPayload(payload, target, signer);
}

function checkProtectedHeader(decoded: DecodedEnvelope): FormatVerification | undefined {
  if (!Array.isArray(decoded.critical) || !decoded.critical.includes(SIGNING_SCHEME)) {
    return failed('invalid', 'critical-header', `crit must list ${SIGNING_SCHEME}`);
  }
  const unknown = decoded.critical.filter(
    (name) => typeof name !== 'string' || !KNOWN_CRITICAL.has(name),
  );
  if (unknown.length > 0) {
    return failed(
      'untrusted',
      'critical-header-unsupported',
      `crit lists unsupported headers ${unknown.map(String).join(', ')}`,
    );
  }
  if (decoded.expiry !== undefined && !decoded.critical.includes(EXPIRY)) {
    return failed('invalid', 'critical-header', `${EXPIRY} is present but not listed in crit`);
  }
  if (decoded.signingScheme !== 'notary.x509') {
    // NOTE: notary.x509.signingAuthority and RFC 3161 timestamp countersignatures are not verified.
    return failed(
      'untrusted',
      'signing-scheme-unsupported',
      `signing scheme ${String(decoded.signingScheme)} is not supported, only notary.x509`,
    );
  }
  if (decoded.contentType !== NOTARY_PAYLOAD_MEDIA_TYPE) {
    return failed(
      'invalid',
      'content-type',
      `content type ${String(decoded.contentType)} is not ${NOTARY_PAYLOAD_MEDIA_TYPE}`,
    );
  }
  return undefined;
}

function checkTrust(
  chain: ParsedCertificate[],
  anchors: Extract<TrustAnchor, { kind: 'x509Roots' }>[],
  now: Date,
): FormatVerification | undefined {
  let lastFailure: SignatureError | undefined;
  for (const anchor of anchors) {
    const roots = parseRootsCached(
      JSON.stringify([anchor.rootsPem, `trust store ${anchor.name ?? ''}`.trim()]),
    );
    try {
      verifyCodeSigningChain(chain, roots, now);
    } catch (error) {
      if (!(error instanceof SignatureError)) {
        throw error;
      }
      lastFailure = error;
      continue;
    }
    const identities = anchor.trustedIdentities ?? ['*'];
    const leaf = chain[0] as ParsedCertificate;
    const matched = identities.some((identity) => {
      if (identity === '*') {
        return true;
      }
      const dn = identity.startsWith('x509.subject:')
        ? identity.slice('x509.subject:'.length).trim()
        : identity;
      return subjectMatches(dn, leaf);
    });
    if (matched) {
      return undefined;
    }
    lastFailure = new SignatureError(
      'identity-untrusted',
      `the leaf subject is not a trusted identity of trust store ${anchor.name ?? ''}`.trim(),
    );
  }
  const failure = lastFailure as SignatureError;
  // A chain link whose signature fails was altered; every other failure is a trust decision.
  return failed(
    failure.code === 'chain-signature-invalid' ? 'invalid' : 'untrusted',
    failure.code,
    failure.message,
  );
}

function checkPayload(
  payload: Buffer,
  target: VerificationTarget,
  signer: FormatVerification['signer'],
): FormatVerification {
  let descriptor: JsonObject;
  try {
    const document = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (
      !isJsonObject(document) ||
      Object.keys(document).join() !== 'targetArtifact' ||
      !isJsonObject(document['targetArtifact'])
    ) {
      throw new SignatureError(
        'payload-invalid',
        'the payload must be an object with only targetArtifact, itself an object',
      );
    }
    descriptor = document['targetArtifact'];
  } catch (error) {
    return failed('invalid', 'payload-invalid', (error as Error).message, signer);
  }
  const digest = descriptor['digest'];
  const size = descriptor['size'];
  const mediaType = descriptor['mediaType'];
  if (typeof digest !== 'string' || typeof size !== 'number' || typeof mediaType !== 'string') {
    return failed(
      'invalid',
      'payload-invalid',
      'targetArtifact needs string digest, integer size and string mediaType',
      signer,
    );
  }
  const mismatch = descriptorMismatch(target, size, mediaType);
  if (mismatch !== undefined) {
    return { ...failed('invalid', 'descriptor-mismatch', mismatch, signer), signedDigest: digest };
  }
  return {
    result: 'valid',
    reasonCode: 'signature-valid',
    reason: `Notary signature by ${signer?.subject ?? 'unknown'} verified`,
    ...(signer && { signer }),
    signedDigest: digest,
  };
}

function descriptorMismatch(
  target: VerificationTarget,
  size: JsonValue,
  mediaType: string,
): string | undefined {
  if (target.size === undefined || target.mediaType === undefined) {
    return 'the manifest size and media type are needed to check a Notary payload, and were not given';
  }
  if (size !== target.size) {
    return `targetArtifact.size ${String(size)} does not equal the manifest size ${target.size}`;
  }
  if (mediaType !== target.mediaType) {
    return `targetArtifact.mediaType ${mediaType} does not equal the manifest media type ${target.mediaType}`;
  }
  return undefined;
}

function algorithmFor(key: KeyObject): AlgorithmChoice | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits === 2048) return { jws: 'PS256', cose: -37, hash: 'sha256', rsa: true };
    if (bits === 3072) return { jws: 'PS384', cose: -38, hash: 'sha384', rsa: true };
    if (bits === 4096) return { jws: 'PS512', cose: -39, hash: 'sha512', rsa: true };
    return undefined;
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { jws: 'ES256', cose: -7, hash: 'sha256', rsa: false };
    if (curve === 'secp384r1') return { jws: 'ES384', cose: -35, hash: 'sha384', rsa: false };
    if (curve === 'secp521r1') return { jws: 'ES512', cose: -36, hash: 'sha512', rsa: false };
  }
  return undefined;
}

function decodeJws(envelope: Buffer): DecodedEnvelope {
  const document = parseStrictJson(envelope.toString('utf8'));
  if (!isJsonObject(document)) {
    throw new SignatureError('envelope-malformed', 'the JWS envelope is not a JSON object');
  }

  for (const key of Object.keys(document)) {
    if (!['payload', 'protected', 'header', 'signature'].includes(key)) {
      throw new SignatureError(
        'envelope-malformed',
        `the JWS envelope has unknown member ${JSON.stringify(key)}`,
      );
    }
  }

  const protectedText = document['protected'];
  const header = document['header'];
  if (typeof protectedText !== 'string' || !isJsonObject(header)) {
    throw new SignatureError(
      'envelope-malformed',
      'the JWS envelope needs a protected string and a header object',
    );
  }

  const protectedHeader = parseStrictJson(Buffer.from(protectedText, 'base64url').toString('utf8'));
  if (!isJsonObject(protectedHeader)) {
    throw new SignatureError('envelope-malformed', 'the JWS protected header is not a JSON object');
  }

  const x5c = header['x5c'];
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.some((entry) => typeof entry !== 'string')) {
    throw new SignatureError(
      'envelope-malformed',
      'the JWS header needs x5c, a non-empty array of base64 certificates',
    );
  }

  const chain = (x5c as string[]).map((entry, index) =>
    parseCertificate(Buffer.from(entry, 'base64'), `x5c certificate ${index}`),
  );
  const expiry = protectedHeader[EXPIRY];
  return {
    chain,
    algorithm: typeof protectedHeader['alg'] === 'string' ? protectedHeader['alg'] : undefined,
    signingScheme: protectedHeader[SIGNING_SCHEME],
    contentType: protectedHeader['cty'],
    critical: protectedHeader['crit'],
    expiry: typeof expiry === 'string' ? parseTime(expiry) : undefined,
    async verifySignature(choice, key) {
      try {
        const result = await flattenedVerify(
          document as unknown as Parameters<typeof flattenedVerify>[0],
          key,
          {
            algorithms: [choice.jws],
            crit: { [SIGNING_SCHEME]: true, [EXPIRY]: true, [AUTHENTIC_SIGNING_TIME]: true },
          },
        );
        return Buffer.from(result.payload);
      } catch {
        return undefined;
      }
    },
  };
}

function parseTime(text: string): Date {
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) {
    throw new SignatureError('envelope-malformed', `time ${JSON.stringify(text)} is not RFC 3339`);
  }
  return time;
}

const COSE_SIGN1_TAG = 18;
const COSE_ALG = 1;
const COSE_CRIT = 2;
const COSE_CONTENT_TYPE = 3;
const COSE_X5CHAIN = 33;

function decodeCose(envelope: Buffer): DecodedEnvelope {
  const items = decodeAllSync(envelope) as unknown[];
  if (items.length !== 1) {
    throw new SignatureError(
      'envelope-malformed',
      `the COSE envelope holds ${items.length} CBOR items, expected 1`,
    );
  }

  const tagged = items[0];
  if (
    !(tagged instanceof Tagged) ||
    tagged.tag !== COSE_SIGN1_TAG ||
    !Array.isArray(tagged.value) ||
    tagged.value.length !== 4
  ) {
    throw new SignatureError(
      'envelope-malformed',
      'the COSE envelope is not a tagged COSE_Sign1 array of four items',
    );
  }

  const [protectedBytes, unprotected, payload, signature] = tagged.value as unknown[];
  if (
    !Buffer.isBuffer(protectedBytes) ||
    !(unprotected instanceof Map) ||
    !Buffer.isBuffer(payload) ||
    !Buffer.isBuffer(signature)
  ) {
    throw new SignatureError(
      'envelope-malformed',
      'COSE_Sign1 needs protected bstr, unprotected map, payload bstr and signature bstr',
    );
  }

  const protectedItems = decodeAllSync(protectedBytes) as unknown[];
  const protectedHeader = protectedItems[0];
  if (protectedItems.length !== 1 || !(protectedHeader instanceof Map)) {
    throw new SignatureError('envelope-malformed', 'the COSE protected header is not one CBOR map');
  }

  const chainValue: unknown = protectedHeader.get(COSE_X5CHAIN) ?? unprotected.get(COSE_X5CHAIN);
  const chainItems = Buffer.isBuffer(chainValue) ? [chainValue] : chainValue;
  if (
    !Array.isArray(chainItems) ||
    chainItems.length === 0 ||
    chainItems.some((item) => !Buffer.isBuffer(item))
  ) {
    throw new SignatureError(
      'envelope-malformed',
      'the COSE envelope needs x5chain (label 33) with DER certificates',
    );
  }

  const chain = (chainItems as Buffer[]).map((der, index) =>
    parseCertificate(der, `x5chain certificate ${index}`),
  );
  const expiry: unknown = protectedHeader.get(EXPIRY);
  const algorithm: unknown = protectedHeader.get(COSE_ALG);
  if (protectedHeader.has(SIGNING_TIME) && !(protectedHeader.get(SIGNING_TIME) instanceof Date)) {
    throw new SignatureError('envelope-malformed', `${SIGNING_TIME} is not a CBOR epoch time`);
  }

  if (expiry !== undefined && !(expiry instanceof Date)) {
    throw new SignatureError('envelope-malformed', `${EXPIRY} is not a CBOR epoch time`);
  }

  return {
    chain,
    algorithm: typeof algorithm === 'number' ? algorithm : undefined,
    signingScheme: protectedHeader.get(SIGNING_SCHEME),
    contentType: protectedHeader.get(COSE_CONTENT_TYPE),
    critical: protectedHeader.get(COSE_CRIT),
    expiry: expiry instanceof Date ? expiry : undefined,
    async verifySignature(choice, key) {
      // Sig_structure keeps the protected header bytes exactly as received (RFC 9052 section 4.4).
      const toBeSigned = encode(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
      const ok = choice.rsa
        ? verify(
            choice.hash,
            toBeSigned,
            {
              key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
            },
            signature,
          )
        : verify(choice.hash, toBeSigned, { key, dsaEncoding: 'ieee-p1363' }, signature);
      return ok ? payload : undefined;
    },
  };
}
