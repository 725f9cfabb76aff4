import { createHash } from 'node:crypto';

import { Descriptor, ImageManifest } from '@app/oci';
import {
  COSIGN_BUNDLE_ANNOTATION,
  COSIGN_CERTIFICATE_ANNOTATION,
  COSIGN_CHAIN_ANNOTATION,
  COSIGN_SIGNATURE_ANNOTATION,
  LazyBlob,
  SignatureCandidate,
  SignatureFormat,
} from '@app/signatures';

/** Artifact type of a Sigstore bundle referrer, as cosign 3 pushes it. */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Bundle media types accepted as referrer artifact types and as layer media types. */
const SIGSTORE_BUNDLE_TYPES: ReadonlySet<string> = new Set([
  SIGSTORE_BUNDLE_ARTIFACT_TYPE,
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
]);

/** Artifact type of a Notary Project signature manifest. */
export const NOTARY_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';

/** Layer media types of Notary Project envelopes: JWS and COSE_Sign1. */
const NOTARY_ENVELOPE_TYPES = ['application/jose+json', 'application/cose'] as const;
type NotaryEnvelopeType = (typeof NOTARY_ENVELOPE_TYPES)[number];

/**
 * Artifact type of a cosign simple-signing manifest pushed as a referrer (cosign's experimental
 * OCI 1.1 mode). Its layers look like the layers of a `.sig` tag manifest.
 */
export const COSIGN_ARTIFACT_SIGNATURE_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

const COSIGN_SIGNATURE_TAG = /^(sha256)-([a-f0-9]{64})\.sig$/;
const REFERRERS_TAG = /^(sha256)-([a-f0-9]{64})$/;

/** Opens a layer blob for lazy, bounded reading. */
export type BlobOpener = (descriptor: Descriptor) => LazyBlob;

/**
 * Returns the cosign signature tag of a digest: `sha256-<hex>.sig`. Returns undefined for
 * sha512 digests, because their tag would be longer than the 128 characters a tag may have.
 */
export function cosignSignatureTag(digest: string): string | undefined {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  return match ? `sha256-${match[1]}.sig` : undefined;
}

/** Returns the digest that a cosign signature tag names (`sha256-<hex>.sig`), or undefined. */
export function digestOfCosignSignatureTag(tag: string | null | undefined): string | undefined {
  const match = tag ? COSIGN_SIGNATURE_TAG.exec(tag) : null;
  return match ? `${match[1]}:${match[2]}` : undefined;
}

/**
 * Returns the digest that a referrers tag schema tag names (`sha256-<hex>`, OCI distribution
 * spec 1.1), or undefined. Clients push an index of referrers there on registries without the
 * referrers API.
 */
export function digestOfReferrersTag(tag: string | null | undefined): string | undefined {
  const match = tag ? REFERRERS_TAG.exec(tag) : null;
  return match ? `${match[1]}:${match[2]}` : undefined;
}

/** Tells whether a referrer descriptor's artifact type is a signature format this worker reads. */
export function isSignatureArtifactType(artifactType: string | undefined): boolean {
  if (artifactType === undefined) return false;
  return (
    SIGSTORE_BUNDLE_TYPES.has(artifactType) ||
    artifactType === NOTARY_SIGNATURE_ARTIFACT_TYPE ||
    artifactType === COSIGN_ARTIFACT_SIGNATURE_TYPE
  );
}

/**
 * Lists the cosign signatures of a simple-signing manifest: one candidate per layer that has
 * the signature annotation. Layers without it (none in manifests cosign writes) are skipped.
 */
export function cosignCandidates(
  manifest: ImageManifest,
  source: string,
  openBlob: BlobOpener,
): SignatureCandidate[] {
  const candidates: SignatureCandidate[] = [];
  for (const [index, layer] of manifest.layers.entries()) {
    const signatureBase64 = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (signatureBase64 === undefined) continue;
    const certificatePem = layer.annotations?.[COSIGN_CERTIFICATE_ANNOTATION];
    const chainPem = layer.annotations?.[COSIGN_CHAIN_ANNOTATION];
    const rekorBundleJson = layer.annotations?.[COSIGN_BUNDLE_ANNOTATION];
    candidates.push({
      format: 'cosign',
      source: `${source} layer ${index}`,
      payload: openBlob(layer),
      blobDigest: layer.digest,
      signatureBase64,
      ...(certificatePem !== undefined && { certificatePem }),
      ...(chainPem !== undefined && { chainPem }),
      ...(rekorBundleJson !== undefined && { rekorBundleJson }),
    });
  }
  return candidates;
}

/**
 * Lists the signatures a referrer manifest carries, judged by the manifest's own artifact type
 * (or its config media type, the older Notary form), never by the referrers list entry.
 */
export function referrerCandidates(
  manifest: ImageManifest,
  source: string,
  openBlob: BlobOpener,
): SignatureCandidate[] {
  const artifactType = manifest.artifactType ?? manifest.config.mediaType;
  if (artifactType === COSIGN_ARTIFACT_SIGNATURE_TYPE) {
    return cosignCandidates(manifest, source, openBlob);
  }

  const candidates: SignatureCandidate[] = [];
  const several = manifest.layers.length > 1;
  for (const [index, layer] of manifest.layers.entries()) {
    const layerSource = several ? `${source} layer ${index}` : source;
    if (SIGSTORE_BUNDLE_TYPES.has(artifactType) && SIGSTORE_BUNDLE_TYPES.has(layer.mediaType)) {
      candidates.push({
        format: 'sigstore-bundle',
        source: layerSource,
        bundle: openBlob(layer),
        blobDigest: layer.digest,
      });
    }
    if (artifactType === NOTARY_SIGNATURE_ARTIFACT_TYPE && isNotaryEnvelopeType(layer.mediaType)) {
      candidates.push({
        format: 'notary',
        source: layerSource,
        envelope: openBlob(layer),
        envelopeMediaType: layer.mediaType,
        blobDigest: layer.digest,
      });
    }
  }
  return candidates;
}

function isNotaryEnvelopeType(mediaType: string): mediaType is NotaryEnvelopeType {
  return (NOTARY_ENVELOPE_TYPES as readonly string[]).includes(mediaType);
}

/** Format names as the image_signatures table stores them; it calls Notary `notation`. */
export type StoredSignatureFormat = 'cosign' | 'sigstore-bundle' | 'notation' | 'gpg';

export function storedFormat(format: SignatureFormat): StoredSignatureFormat {
  return format === 'notary' ? 'notation' : format;
}

/**
 * Computes the fingerprint of a signature: sha256 over its format and its material, so that
 * the same signature found again under another carrier manifest, tag or repository keeps one
 * identity. Blobs enter through their descriptor digest, which names the bytes exactly and
 * needs no read. The material is:
 * - cosign: payload digest, signature annotation and certificate annotation,
 * - Sigstore bundle and Notary envelope: the blob digest,
 * - GPG: the digest of the OpenPGP message.
 */
export function signatureFingerprint(candidate: SignatureCandidate): string {
  const parts: string[] = [storedFormat(candidate.format)];
  switch (candidate.format) {
    case 'cosign':
      parts.push(
        materialDigest(candidate.payload, candidate.blobDigest, candidate.source),
        candidate.signatureBase64,
        candidate.certificatePem ?? '',
      );
      break;
    case 'sigstore-bundle':
      parts.push(materialDigest(candidate.bundle, candidate.blobDigest, candidate.source));
      break;
    case 'notary':
      parts.push(materialDigest(candidate.envelope, candidate.blobDigest, candidate.source));
      break;
    case 'gpg':
      parts.push(materialDigest(candidate.signature, candidate.blobDigest, candidate.source));
      break;
  }
  // A JSON array keeps the parts apart, so no two different part lists hash the same input.
  return `sha256:${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

function materialDigest(
  blob: Buffer | LazyBlob,
  blobDigest: string | undefined,
  source: string,
): string {
  if (blobDigest !== undefined) return blobDigest;
  if (Buffer.isBuffer(blob)) return `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  throw new Error(`Signature from ${source} has neither its bytes nor a blob digest`);
}
