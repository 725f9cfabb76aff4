import { createHash } from 'node:crypto';

import { SignatureError } from './errors';
import { failed, FormatVerification } from './format-result';
import { parsePemBlocks, parseSinglePem } from './pem';
import type { TrustAnchor } from './policy-types';
import { verifySigstoreBundle } from './sigstore-bundle';
import { isJsonObject, JsonObject, JsonValue, parseStrictJson } from './strict-json';
import { parseCertificate } from './x509';

/** The certificate, chain and Rekor bundle annotations of a keyless cosign `.sig` layer. */
export interface CosignKeylessMaterial {
  /** `dev.sigstore.cosign/certificate`: the PEM leaf certificate. */
  certificatePem: string;
  /** `dev.sigstore.cosign/chain`: PEM intermediates (and possibly the root), leaf excluded. */
  chainPem?: string;
  /** `dev.sigstore.cosign/bundle`: the Rekor signed entry timestamp (SET) and its payload, as JSON. */
  rekorBundleJson?: string;
}

/** The parsed `dev.sigstore.cosign/bundle` annotation. */
interface RekorBundle {
  signedEntryTimestamp: string;
  body: Buffer;
  bodyBase64: string;
  integratedTime: number;
  logIndex: number;
  logIdHex: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Verifies a keyless cosign signature from a `.sig` layer against `sigstore` anchors. The
 * Rekor bundle annotation must log this exact signature, certificate and payload hash (a
 * `hashedrekord` 0.0.1 entry). The annotations are then assembled into a v0.1 Sigstore bundle,
 * so @sigstore/verify checks the SET, the log key, the chain at the integrated time and the
 * signature, and the Sigstore bundle code matches the identity and parses the payload.
 */
export async function verifyCosignKeyless(
  payload: Buffer,
  signature: Buffer,
  material: CosignKeylessMaterial,
  anchors: readonly TrustAnchor[],
): Promise<FormatVerification> {
  if (material.rekorBundleJson === undefined) {
    // cosign would look the entry up in Rekor online. This verifier works offline only.
    return failed(
      'untrusted',
      'rekor-bundle-missing',
      'the keyless cosign signature has no dev.sigstore.cosign/bundle annotation, so no Rekor entry proves when it was signed',
    );
  }

  let bundleJson: string;
  try {
    const leafDer = parseLeaf(material.certificatePem);
    const chainDer = parseChain(material.chainPem);
    const rekor = parseRekorBundle(material.rekorBundleJson);
    checkLoggedEntry(rekor.body, payload, signature, leafDer);
    bundleJson = JSON.stringify(assembleBundle(payload, signature, [leafDer, ...chainDer], rekor));
  } catch (error) {
    if (!(error instanceof SignatureError)) {
      throw error;
    }
    const result = error.code === 'rekor-entry-mismatch' ? 'invalid' : 'untrusted';
    return failed(result, error.code, error.message);
  }

  // The target digest binds only DSSE statements, so none is passed. The caller compares the
  // digest that the payload claims.
  return verifySigstoreBundle(
    Buffer.from(bundleJson),
    { bytes: payload, kind: 'cosign-payload' },
    anchors,
    '',
  );
}

function parseLeaf(pem: string): Buffer {
  const der = parseSinglePem(pem, 'CERTIFICATE', 'the dev.sigstore.cosign/certificate annotation');
  parseCertificate(der, 'cosign signing certificate');
  return der;
}

/**
 * Reads the chain annotation. Its certificates go into the assembled bundle, and @sigstore/verify
 * builds the path to the root only from the anchor's CA certificates.
 * NOTE: an intermediate CA that only the chain annotation carries is not used, so the anchor
 * (trusted root or fulcioCaPem) must list every intermediate.
 */
function parseChain(pem: string | undefined): Buffer[] {
  if (pem === undefined) {
    return [];
  }
  return parsePemBlocks(pem, 'the dev.sigstore.cosign/chain annotation').map((block, index) => {
    if (block.label !== 'CERTIFICATE') {
      throw new SignatureError(
        'pem-invalid',
        `block ${index} of the dev.sigstore.cosign/chain annotation is "${block.label}", expected "CERTIFICATE"`,
      );
    }
    parseCertificate(block.der, `chain certificate ${index}`);
    return block.der;
  });
}

/**
 * Parses `{"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime": int,
 * "logIndex": int, "logID": hex}}` strictly: no duplicate or unknown keys, exact types.
 */
function parseRekorBundle(text: string): RekorBundle {
  let document: JsonValue;
  try {
    document = parseStrictJson(text);
  } catch (error) {
    throw new SignatureError(
      'rekor-bundle-malformed',
      `the dev.sigstore.cosign/bundle annotation is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const outer = objectWithKeys(document, ['SignedEntryTimestamp', 'Payload'], 'the Rekor bundle');
  const inner = objectWithKeys(
    outer['Payload'],
    ['body', 'integratedTime', 'logIndex', 'logID'],
    'the Rekor bundle Payload',
  );

  const signedEntryTimestamp = base64Field(outer, 'SignedEntryTimestamp');
  const bodyBase64 = base64Field(inner, 'body');
  const integratedTime = integerField(inner, 'integratedTime');
  const logIndex = integerField(inner, 'logIndex');
  const logIdHex = inner['logID'];
  if (typeof logIdHex !== 'string' || !/^[0-9a-f]{64}$/.test(logIdHex)) {
    throw malformed(`logID ${JSON.stringify(logIdHex)} is not a lowercase hex SHA-256`);
  }
  return {
    signedEntryTimestamp,
    body: Buffer.from(bodyBase64, 'base64'),
    bodyBase64,
    integratedTime,
    logIndex,
    logIdHex,
  };
}

function objectWithKeys(
  value: JsonValue | undefined,
  keys: string[],
  description: string,
): JsonObject {
  if (!isJsonObject(value)) {
    throw malformed(`${description} is not a JSON object`);
  }
  const unknown = Object.keys(value).filter((key) => !keys.includes(key));
  if (unknown.length > 0) {
    throw malformed(`${description} has unknown keys ${unknown.join(', ')}`);
  }
  const missing = keys.filter((key) => !(key in value));
  if (missing.length > 0) {
    throw malformed(`${description} is missing ${missing.join(', ')}`);
  }
  return value;
}

function base64Field(object: JsonObject, key: string): string {
  const value = object[key];
  if (typeof value !== 'string' || value === '' || !BASE64.test(value)) {
    throw malformed(`${key} is not a non-empty standard base64 string`);
  }
  return value;
}

function integerField(object: JsonObject, key: string): number {
  const value = object[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`${key} ${JSON.stringify(value)} is not a non-negative integer`);
  }
  return value;
}

function malformed(message: string): SignatureError {
  return new SignatureError(
    'rekor-bundle-malformed',
    `the dev.sigstore.cosign/bundle annotation is invalid: ${message}`,
  );
}

/**
 * Requires the logged `hashedrekord` 0.0.1 entry to name this signature, this certificate (DER
 * compared) and the SHA-256 of this payload. @sigstore/verify 3.1 compares only the signature
 * and digest of such an entry, and a log entry for other material proves nothing about ours.
 */
function checkLoggedEntry(body: Buffer, payload: Buffer, signature: Buffer, leafDer: Buffer): void {
  let entry: JsonValue;
  try {
    entry = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new SignatureError(
      'rekor-bundle-malformed',
      `the Rekor entry body is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!isJsonObject(entry) || entry['kind'] !== 'hashedrekord' || entry['apiVersion'] !== '0.0.1') {
    throw new SignatureError(
      'rekor-entry-unsupported',
      'the Rekor entry is not a hashedrekord 0.0.1 entry',
    );
  }

  const spec = isJsonObject(entry['spec']) ? entry['spec'] : {};
  const data = isJsonObject(spec['data']) ? spec['data'] : {};
  const hash = isJsonObject(data['hash']) ? data['hash'] : {};
  const loggedSignature = isJsonObject(spec['signature']) ? spec['signature'] : {};
  const publicKey = isJsonObject(loggedSignature['publicKey']) ? loggedSignature['publicKey'] : {};

  const payloadHash = createHash('sha256').update(payload).digest('hex');
  if (hash['algorithm'] !== 'sha256' || hash['value'] !== payloadHash) {
    throw mismatch(
      `the Rekor entry names payload hash ${String(hash['algorithm'])}:${String(hash['value'])}, not sha256:${payloadHash}`,
    );
  }

  const content = loggedSignature['content'];
  if (typeof content !== 'string' || !Buffer.from(content, 'base64').equals(signature)) {
    throw mismatch('the Rekor entry logs a different signature than the signature annotation');
  }

  const loggedCertificate = publicKey['content'];
  let loggedDer: Buffer | undefined;
  try {
    loggedDer =
      typeof loggedCertificate === 'string'
        ? parseSinglePem(
            Buffer.from(loggedCertificate, 'base64').toString('utf8'),
            'CERTIFICATE',
            'the Rekor entry certificate',
          )
        : undefined;
  } catch (error) {
    throw mismatch(`the Rekor entry certificate is unreadable: ${(error as Error).message}`, error);
  }
  if (loggedDer === undefined || !loggedDer.equals(leafDer)) {
    throw mismatch('the Rekor entry logs a different certificate than the certificate annotation');
  }
}

function mismatch(message: string, cause?: unknown): SignatureError {
  return new SignatureError('rekor-entry-mismatch', message, { cause });
}

/**
 * Builds a v0.1 Sigstore bundle: the certificates as the chain, the Rekor entry with its SET
 * as inclusion promise, and the payload's SHA-256 as the message digest.
 */
function assembleBundle(
  payload: Buffer,
  signature: Buffer,
  certificates: Buffer[],
  rekor: RekorBundle,
): JsonObject {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: {
        certificates: certificates.map((der) => ({ rawBytes: der.toString('base64') })),
      },
      tlogEntries: [
        {
          logIndex: String(rekor.logIndex),
          logId: { keyId: Buffer.from(rekor.logIdHex, 'hex').toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(rekor.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rekor.signedEntryTimestamp },
          // The SET is checked over this body re-encoded to base64, so a body annotation in
          // any other base64 spelling fails the SET check instead of passing unsigned bytes.
          canonicalizedBody: rekor.bodyBase64,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: createHash('sha256').update(payload).digest('base64'),
      },
      signature: signature.toString('base64'),
    },
  };
}
