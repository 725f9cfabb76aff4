import { verifyCosignKeyless } from './cosign-keyless';
import { failed, FormatVerification } from './format-result';
import { parsePublicKeyPem, publicKeyFingerprint, verifyRawSignature } from './keys';
import type { TrustAnchor } from './policy-types';
import { COSIGN_PAYLOAD_TYPE, parseSimpleSigningPayload } from './simple-signing';
import type { CosignCandidate } from './types';

/** Annotation keys of a cosign `.sig` manifest layer, as cosign writes them. */
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const COSIGN_CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const COSIGN_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Verifies a cosign `.sig` layer signature. A signature with a certificate is verified keyless
 * against the `sigstore` anchors, and with the `publicKey` anchors when that fails. When both
 * fail, an `invalid` keyless result (tampering) is returned in place of the key result.
 */
export async function verifyCosignCandidate(
  candidate: Pick<
    CosignCandidate,
    'signatureBase64' | 'certificatePem' | 'chainPem' | 'rekorBundleJson'
  >,
  payload: Buffer,
  anchors: readonly TrustAnchor[],
): Promise<FormatVerification> {
  const { signatureBase64, certificatePem } = candidate;
  const keyless =
    certificatePem !== undefined && anchors.some((anchor) => anchor.kind === 'sigstore');
  if (!keyless) {
    return verifyCosignSignature(payload, signatureBase64, anchors, {
      hasCertificate: certificatePem !== undefined,
    });
  }
  if (signatureBase64 === '' || !BASE64.test(signatureBase64)) {
    return malformedSignature();
  }

  const keylessResult = await verifyCosignKeyless(
    payload,
    Buffer.from(signatureBase64, 'base64'),
    {
      certificatePem,
      ...(candidate.chainPem !== undefined && { chainPem: candidate.chainPem }),
      ...(candidate.rekorBundleJson !== undefined && {
        rekorBundleJson: candidate.rekorBundleJson,
      }),
    },
    anchors,
  );
  if (keylessResult.result === 'valid' || !anchors.some((anchor) => anchor.kind === 'publicKey')) {
    return keylessResult;
  }
  const keyResult = verifyCosignSignature(payload, signatureBase64, anchors, {
    hasCertificate: true,
  });
  return keyResult.result !== 'valid' && keylessResult.result === 'invalid'
    ? keylessResult
    : keyResult;
}

function malformedSignature(): FormatVerification {
  return failed(
    'invalid',
    'signature-malformed',
    'the cosign signature annotation is empty or not standard base64',
  );
}

/**
 * Verifies a cosign key-based signature: the signature over the exact payload bytes with a
 * trusted public key, then a strict parse of the payload. The caller compares the claims.
 */
export function verifyCosignSignature(
  payload: Buffer,
  signatureBase64: string,
  anchors: readonly TrustAnchor[],
  options: { hasCertificate?: boolean } = {},
): FormatVerification {
  if (signatureBase64 === '' || !BASE64.test(signatureBase64)) {
    return malformedSignature();
  }
  const signature = Buffer.from(signatureBase64, 'base64');
  const keyAnchors = anchors.filter((anchor) => anchor.kind === 'publicKey');
  if (keyAnchors.length === 0) {
    return failed(
      'untrusted',
      'no-applicable-anchor',
      options.hasCertificate === true
        ? 'the cosign signature carries a certificate, and the policy requirement configures neither a Sigstore trust root nor a public key'
        : 'the policy requirement configures no public key for cosign signatures',
    );
  }

  for (const anchor of keyAnchors) {
    const key = parsePublicKeyPem(anchor.publicKeyPem, `public key ${anchor.name ?? ''}`.trim());
    if (
      !verifyRawSignature(key, payload, signature, { rsaPadding: anchor.rsaPadding ?? 'pkcs1v15' })
    ) {
      continue;
    }
    const signer = {
      keyFingerprint: publicKeyFingerprint(key),
      ...(anchor.name !== undefined && { identity: anchor.name }),
    };
    let claims;
    try {
      claims = parseSimpleSigningPayload(payload, COSIGN_PAYLOAD_TYPE);
    } catch (error) {
      return failed('invalid', 'payload-invalid', (error as Error).message, signer);
    }
    return {
      result: 'valid',
      reasonCode: 'signature-valid',
      reason: `signature verified with public key sha256:${signer.keyFingerprint}`,
      signer,
      signedDigest: claims.dockerManifestDigest,
      dockerReference: claims.dockerReference,
    };
  }
  // The signature carries no key identifier, so a tampered payload and a signature by an
  // unknown key look the same here.
  return failed(
    'untrusted',
    'no-trusted-key',
    `none of the ${keyAnchors.length} trusted public keys verifies the signature`,
  );
}
