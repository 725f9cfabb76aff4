import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';

import { FlattenedSign } from 'jose';

export const COSIGN_SIMPLE_SIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const OCI_EMPTY_JSON = 'application/vnd.oci.empty.v1+json';
export const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
export const NOTARY_PAYLOAD = 'application/vnd.cncf.notary.payload.v1+json';
export const SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** An ECDSA P-256 key pair, the kind `cosign generate-key-pair` makes. */
export interface CosignKey {
  privateKey: KeyObject;
  /** SPKI PEM, as a trust policy `publicKey` anchor takes it. */
  publicKeyPem: string;
  /** Hex SHA-256 of the DER SPKI, as verdicts report `keyFingerprint`. */
  fingerprint: string;
}

export function generateCosignKey(): CosignKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    fingerprint: createHash('sha256').update(der).digest('hex'),
  };
}

/** Builds a cosign simple-signing payload naming `digest`, with the keys cosign writes. */
export function cosignPayload(digest: string, dockerReference: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** Signs payload bytes as cosign does (ECDSA over SHA-256, DER) and returns base64. */
export function signPayload(key: CosignKey, payload: Buffer): string {
  return sign('sha256', payload, key.privateKey).toString('base64');
}

/** A manifest with the blobs it references, ready to push. */
export interface ArtifactManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
  blobs: Buffer[];
}

export interface CosignSignature {
  payload: Buffer;
  signatureBase64: string;
}

/**
 * Builds the OCI manifest of a cosign `sha256-<hex>.sig` tag: one simple-signing layer per
 * signature, with the signature in the layer annotation, and an image config listing the
 * payload digests, as cosign writes it.
 */
export function cosignSignatureManifest(signatures: CosignSignature[]): ArtifactManifest {
  const layers = signatures.map(({ payload, signatureBase64 }) => ({
    mediaType: COSIGN_SIMPLE_SIGNING_LAYER,
    digest: sha256(payload),
    size: payload.length,
    annotations: { 'dev.cosignproject.cosign/signature': signatureBase64 },
  }));
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
    }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers,
  };
  return artifact(manifest, [config, ...signatures.map((entry) => entry.payload)]);
}

/** Builds an OCI 1.1 referrer manifest: empty config, `artifactType`, layers and `subject`. */
export function referrerManifest(
  subject: { digest: string; size: number; mediaType: string },
  artifactType: string,
  layers: Array<{ mediaType: string; bytes: Buffer }>,
): ArtifactManifest {
  const empty = Buffer.from('{}');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType,
    config: { mediaType: OCI_EMPTY_JSON, digest: sha256(empty), size: empty.length },
    layers: layers.map((layer) => ({
      mediaType: layer.mediaType,
      digest: sha256(layer.bytes),
      size: layer.bytes.length,
    })),
    subject,
  };
  return artifact(manifest, [empty, ...layers.map((layer) => layer.bytes)]);
}

/** A Notary Project signer: a P-256 leaf key and its chain (DER, leaf first, root last). */
export interface NotarySigner {
  key: KeyObject;
  chain: Buffer[];
}

/** Signs a Notary Project payload for `target` into a flattened JWS envelope (ES256). */
export async function notaryJwsEnvelope(
  signer: NotarySigner,
  target: { digest: string; size: number; mediaType: string },
): Promise<Buffer> {
  const payload = Buffer.from(JSON.stringify({ targetArtifact: target }));
  const envelope = await new FlattenedSign(payload)
    .setProtectedHeader({
      alg: 'ES256',
      cty: NOTARY_PAYLOAD,
      crit: ['io.cncf.notary.signingScheme'],
      'io.cncf.notary.signingScheme': 'notary.x509',
      'io.cncf.notary.signingTime': new Date().toISOString(),
    })
    .setUnprotectedHeader({ x5c: signer.chain.map((der) => der.toString('base64')) })
    .sign(signer.key, { crit: { 'io.cncf.notary.signingScheme': true } });
  return Buffer.from(JSON.stringify(envelope));
}

/**
 * Pushes blobs and a manifest through the OCI distribution API (monolithic POST then PUT
 * uploads, then PUT of the manifest) and returns the manifest digest.
 */
export async function pushArtifact(
  registryUrl: string,
  repository: string,
  reference: string,
  manifest: ArtifactManifest,
): Promise<string> {
  for (const blob of manifest.blobs) {
    const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
    });
    const location = started.headers.get('location');
    if (started.status !== 202 || location === null) {
      throw new Error(`Starting a blob upload to ${repository} returned HTTP ${started.status}`);
    }
    const uploadUrl = new URL(location, registryUrl);
    uploadUrl.searchParams.set('digest', sha256(blob));
    const finished = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: blob,
    });
    if (finished.status !== 201) {
      throw new Error(`Uploading blob ${sha256(blob)} returned HTTP ${finished.status}`);
    }
  }
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': manifest.mediaType },
    body: manifest.bytes,
  });
  if (response.status !== 201) {
    throw new Error(
      `Pushing manifest ${repository}:${reference} returned HTTP ${response.status}: ${await response.text()}`,
    );
  }
  return manifest.digest;
}

/** Returns the cosign signature tag of a sha256 digest. */
export function cosignTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function artifact(manifest: object, blobs: Buffer[]): ArtifactManifest {
  const bytes = Buffer.from(JSON.stringify(manifest));
  return {
    bytes,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256(bytes),
    blobs,
  };
}
