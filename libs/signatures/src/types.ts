import type { ImageReference } from './reference';

/** Signature families this library verifies. */
export type SignatureFormat = 'cosign' | 'sigstore-bundle' | 'notary' | 'gpg';

/**
 * Blob bytes that are read only after the declared size passed the limit check. A hostile
 * registry may claim any size, so callers pass the descriptor size and a reader, not the bytes.
 */
export interface LazyBlob {
  declaredSize: number;
  /** Reads at most `maxBytes` bytes; the verifier rejects a result longer than the declared size. */
  read(maxBytes: number): Promise<Buffer>;
}

/** Blob bytes already in memory, or a {@link LazyBlob}. */
export type BlobSource = Buffer | LazyBlob;

interface CandidateBase {
  /** Location of the signature, for example `tag sha256-<hex>.sig layer 0`. */
  source: string;
  /** Digest of the blob from its descriptor; the verifier checks the bytes against it when set. */
  blobDigest?: string;
}

/** A cosign signature from a `.sig` manifest layer: the simple-signing payload and its annotations. */
export interface CosignCandidate extends CandidateBase {
  format: 'cosign';
  /** The layer blob, which is the signed payload. */
  payload: BlobSource;
  /** The `dev.cosignproject.cosign/signature` annotation: base64 of the raw signature bytes. */
  signatureBase64: string;
  /** The `dev.sigstore.cosign/certificate` annotation, when the signature is certificate based. */
  certificatePem?: string;
  /** The `dev.sigstore.cosign/chain` annotation: PEM certificates above the leaf. */
  chainPem?: string;
  /** The `dev.sigstore.cosign/bundle` annotation: the Rekor SET and its signed payload, as JSON. */
  rekorBundleJson?: string;
}

/** A Sigstore bundle (JSON bytes) from a referrer layer, with the signed artifact for message signatures. */
export interface SigstoreBundleCandidate extends CandidateBase {
  format: 'sigstore-bundle';
  bundle: BlobSource;
  /**
   * The cosign simple-signing payload that a message-signature bundle signs. Without it, the
   * bundle must sign the manifest bytes, which the verification target then has to carry.
   */
  artifact?: Buffer;
}

/** A Notary Project envelope from a referrer layer. */
export interface NotaryCandidate extends CandidateBase {
  format: 'notary';
  envelope: BlobSource;
  /** Layer media type: `application/jose+json` (JWS) or `application/cose` (COSE_Sign1). */
  envelopeMediaType: 'application/jose+json' | 'application/cose';
}

/** A GPG simple-signing signature: an OpenPGP signed message with the payload embedded. */
export interface GpgCandidate extends CandidateBase {
  format: 'gpg';
  signature: BlobSource;
}

/** One signature found for an image, in any supported format. */
export type SignatureCandidate =
  CosignCandidate | SigstoreBundleCandidate | NotaryCandidate | GpgCandidate;

/** Outcome of one signature against one trust requirement. */
export type SignatureCheckResult =
  'valid' | 'invalid' | 'untrusted' | 'identity-mismatch' | 'error';

/** Signer details, as far as the format provides them. */
export interface SignerInfo {
  /** SHA-256 of the SPKI public key (hex), or the uppercase OpenPGP primary key fingerprint. */
  keyFingerprint?: string;
  /** Human-readable signer: a key name, certificate subject or Sigstore SAN. */
  identity?: string;
  /** OIDC issuer of a Sigstore certificate. */
  issuer?: string;
  /** Certificate subject distinguished name or Sigstore subject alternative name. */
  subject?: string;
}

/** Result of checking one signature. */
export interface SignatureCheck {
  format: SignatureFormat;
  source: string;
  result: SignatureCheckResult;
  /** Stable machine-readable reason, for example `digest-mismatch` or `no-trusted-key`. */
  reasonCode: string;
  reason: string;
  signer?: SignerInfo;
  /** Manifest digest named by the signed payload. */
  signedDigest?: string;
  /** Docker reference named by the signed payload, when the format carries one. */
  dockerReference?: string;
  /** Time the signature is trusted to exist at (ISO 8601), from a log or timestamp authority. */
  trustedTime?: string;
}

/** Per-image verdict. */
export type ImageSignatureStatus =
  'verified' | 'unsigned' | 'untrusted' | 'invalid' | 'not-required' | 'rejected';

/**
 * Every image signature status, most severe first. A summary over several verdicts takes the
 * first one present: `invalid` signals tampering, and `not-required` ranks below `verified`
 * because it proves nothing.
 */
export const SIGNATURE_STATUS_SEVERITY: readonly ImageSignatureStatus[] = [
  'invalid',
  'rejected',
  'untrusted',
  'unsigned',
  'not-required',
  'verified',
];

/** Verdict of {@link verifyImageSignatures} for one manifest digest. */
export interface ImageSignatureVerdict {
  status: ImageSignatureStatus;
  reason: string;
  /** Signers of the signatures that satisfied the policy (empty unless `verified`). */
  signers: SignerInfo[];
  checks: SignatureCheck[];
  /** Policy scope that decided, `default` when no scope matched. */
  policyScope: string;
}

/** The image a verification is about. */
export interface VerificationTarget {
  /** Manifest digest computed by the service from the exact manifest bytes. */
  digest: string;
  /** Manifest size in bytes and media type; Notary payloads must name both. */
  size?: number;
  mediaType?: string;
  /**
   * The exact manifest bytes. When set, the verifier checks them against `digest`, and a
   * message-signature bundle without its own artifact is verified over them.
   */
  manifest?: Buffer;
  /** Reference the image was requested by; without a tag, it was requested by digest. */
  reference: Omit<ImageReference, 'digest'>;
}
