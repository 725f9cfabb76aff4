import { Key, readKeys, readMessage, verify } from 'openpgp';

import { SignatureError } from './errors';
import { failed, FormatVerification } from './format-result';
import { DEFAULT_LIMITS } from './limits';
import { memoizeByText } from './memo';
import type { TrustAnchor } from './policy-types';
import { ATOMIC_PAYLOAD_TYPE, parseSimpleSigningPayload } from './simple-signing';

const readKeyringCached = memoizeByText((keyring: string): Promise<Key[]> =>
  keyring.trimStart().startsWith('-----BEGIN PGP')
    ? readKeys({ armoredKeys: keyring })
    : readKeys({ binaryKeys: Buffer.from(keyring, 'base64') }),
);

/** Reads the OpenPGP public keys of a `gpgKeys` anchor: ASCII armor, or base64 of a binary keyring. */
export async function readGpgKeyring(keyring: string, description: string): Promise<Key[]> {
  try {
    return await readKeyringCached(keyring);
  } catch (error) {
    throw new SignatureError(
      'gpg-keyring-invalid',
      `${description} is not a readable OpenPGP public keyring`,
      { cause: error },
    );
  }
}

/**
 * Verifies a GPG simple-signing signature: an OpenPGP signed message (not cleartext, not
 * detached, not an unsigned literal) with exactly one signature by a trusted primary key or one
 * of its subkeys, valid at `now`. The embedded payload is then parsed strictly.
 */
export async function verifyGpgSignature(
  message: Buffer,
  anchors: readonly TrustAnchor[],
  now: Date,
  maxPayloadBytes: number = DEFAULT_LIMITS.maxSignatureBytes,
): Promise<FormatVerification> {
  // Bounds decompression, because a small compressed message can expand without limit.
  const config = { maxDecompressedMessageSize: maxPayloadBytes };
  const keyAnchors = anchors.filter((anchor) => anchor.kind === 'gpgKeys');
  if (keyAnchors.length === 0) {
    return failed(
      'untrusted',
      'no-applicable-anchor',
      'the policy requirement configures no GPG keys',
    );
  }

  let parsed;
  try {
    parsed = await readMessage({ binaryMessage: message, config });
  } catch (error) {
    return failed(
      'invalid',
      'signature-malformed',
      `the signature is not a binary OpenPGP message: ${(error as Error).message}`,
    );
  }
  const keyIds = parsed.getSigningKeyIDs();
  if (keyIds.length === 0) {
    return failed(
      'invalid',
      'signature-missing',
      'the OpenPGP message carries no signature (an unsigned literal message)',
    );
  }
  if (keyIds.length !== 1) {
    return failed(
      'invalid',
      'signature-count',
      `the OpenPGP message carries ${keyIds.length} signatures, expected 1`,
    );
  }
  const [keyId] = keyIds as [(typeof keyIds)[number]];

  let signingKey: Key | undefined;
  let anchorName: string | undefined;
  for (const anchor of keyAnchors) {
    const keys = await readGpgKeyring(anchor.keyring, `GPG keyring ${anchor.name ?? ''}`.trim());
    signingKey = keys.find((key) => key.getKeys(keyId).length > 0);
    if (signingKey !== undefined) {
      anchorName = anchor.name;
      break;
    }
  }
  if (signingKey === undefined) {
    return failed(
      'untrusted',
      'no-trusted-key',
      `signing key ID ${keyId.toHex().toUpperCase()} is not in a trusted keyring`,
    );
  }
  const fingerprint = signingKey.getFingerprint().toUpperCase();
  const signer = {
    keyFingerprint: fingerprint,
    ...(anchorName !== undefined && { identity: anchorName }),
  };

  try {
    // openpgp checks the key at the signature's creation time. This check also rejects a key or
    // subkey that has expired or been revoked by `now`.
    await signingKey.getSigningKey(keyId, now);
  } catch (error) {
    return failed(
      'untrusted',
      'key-not-valid',
      `OpenPGP key ${fingerprint} has no signing key valid at ${now.toISOString()}: ${(error as Error).message}`,
      signer,
    );
  }

  let payload: Uint8Array;
  try {
    const result = await verify({
      message: parsed,
      verificationKeys: signingKey,
      expectSigned: true,
      format: 'binary',
      date: now,
      config,
    });
    payload = result.data;
  } catch (error) {
    const message = (error as Error).message;
    // openpgp reports expiry of the signature or of the key in its message text.
    const expired = /expired/i.test(message);
    return failed(
      expired ? 'untrusted' : 'invalid',
      expired ? 'signature-expired' : 'signature-invalid',
      `OpenPGP verification with key ${fingerprint} failed: ${message}`,
      signer,
    );
  }

  let claims;
  try {
    claims = parseSimpleSigningPayload(payload, ATOMIC_PAYLOAD_TYPE);
  } catch (error) {
    return failed('invalid', 'payload-invalid', (error as Error).message, signer);
  }
  return {
    result: 'valid',
    reasonCode: 'signature-valid',
    reason: `signature verified with OpenPGP key ${fingerprint}`,
    signer,
    signedDigest: claims.dockerManifestDigest,
    dockerReference: claims.dockerReference,
  };
}
