import { constants, createHash, createPublicKey, KeyObject, verify } from 'node:crypto';

import { SignatureError } from './errors';
import { parseSinglePem } from './pem';

/** RSA signature padding: PKCS#1 v1.5 (cosign default) or PSS. */
export type RsaPadding = 'pkcs1v15' | 'pss';

/** Options for {@link verifyRawSignature}. */
export interface RawSignatureOptions {
  /** Hash for RSA and ECDSA; cosign uses SHA-256 for every curve. Ignored for Ed25519. */
  hash?: 'sha256' | 'sha384' | 'sha512';
  rsaPadding?: RsaPadding;
  /** PSS salt length; the default, RSA_PSS_SALTLEN_AUTO, accepts any salt length. */
  pssSaltLength?: number;
}

const SUPPORTED_CURVES: Record<string, number> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };

/** Parses one PEM `PUBLIC KEY` (SPKI) block into a key, rejecting unsupported key types. */
export function parsePublicKeyPem(pem: string, description = 'public key'): KeyObject {
  const der = parseSinglePem(pem, 'PUBLIC KEY', description);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (error) {
    throw new SignatureError('key-invalid', `${description} is not a valid SPKI public key`, {
      cause: error,
    });
  }
  assertSupportedKey(key, description);
  return key;
}

/** Throws unless the key is RSA of at least 2048 bits, ECDSA P-256/P-384/P-521 or Ed25519. */
export function assertSupportedKey(key: KeyObject, description: string): void {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) {
      throw new SignatureError(
        'key-unsupported',
        `${description} is a ${bits}-bit RSA key, at least 2048 bits are required`,
      );
    }
    return;
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    if (!(curve in SUPPORTED_CURVES)) {
      throw new SignatureError(
        'key-unsupported',
        `${description} uses curve ${curve}, expected P-256, P-384 or P-521`,
      );
    }
    return;
  }
  if (type === 'ed25519') {
    return;
  }
  throw new SignatureError(
    'key-unsupported',
    `${description} has unsupported key type ${String(type)}`,
  );
}

/** Computes the SHA-256 fingerprint (lowercase hex) of the key's DER SPKI encoding. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ format: 'der', type: 'spki' }))
    .digest('hex');
}

/**
 * Verifies a signature over `data` with node:crypto. ECDSA signatures may be ASN.1 DER or raw
 * r||s (IEEE P1363), as sigstore accepts both. Ed25519 signs the data itself, without prehash.
 */
export function verifyRawSignature(
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
  options: RawSignatureOptions = {},
): boolean {
  const hash = options.hash ?? 'sha256';
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') {
    return verify(null, data, key, signature);
  }
  if (type === 'ec') {
    if (verifySafely(hash, data, { key, dsaEncoding: 'der' }, signature)) {
      return true;
    }
    const coordinateBytes = SUPPORTED_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 0;
    return (
      signature.length === 2 * coordinateBytes &&
      verifySafely(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    );
  }
  if (type === 'rsa' || type === 'rsa-pss') {
    if ((options.rsaPadding ?? 'pkcs1v15') === 'pss' || type === 'rsa-pss') {
      return verifySafely(
        hash,
        data,
        {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: options.pssSaltLength ?? constants.RSA_PSS_SALTLEN_AUTO,
        },
        signature,
      );
    }
    return verifySafely(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  }
  return false;
}

type VerifyKeyInput = Parameters<typeof verify>[2];

function verifySafely(
  hash: string,
  data: Uint8Array,
  key: VerifyKeyInput,
  signature: Uint8Array,
): boolean {
  try {
    return verify(hash, data, key, signature);
  } catch {
    // node:crypto throws on malformed DER instead of returning false; both mean "not valid".
    return false;
  }
}
