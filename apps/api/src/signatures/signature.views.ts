import type { ImageSignatureStatus } from '@app/signatures';

/** Signer details as the verifier recorded them; each field only when the format provides it. */
export interface SignerView {
  /** SHA-256 of the SPKI public key (hex), or the OpenPGP primary key fingerprint. */
  keyFingerprint?: string;
  /** Key name, certificate subject or Sigstore subject alternative name. */
  identity?: string;
  /** OIDC issuer of a Sigstore certificate. */
  issuer?: string;
  subject?: string;
}

/** A verdict reason as the worker stored it: a message or a structured object. */
export type VerdictReason = string | Record<string, unknown>;

/** The signature verdict of one manifest in one repository. */
export interface RepositoryVerdictView {
  registry: string;
  repository: string;
  status: ImageSignatureStatus;
  signers: SignerView[];
  reasons: VerdictReason[];
  /** Policy scope that decided, `default` when no scope matched. */
  policyScope: string;
  /** Null when no policy version was saved and the accept-all policy applied. */
  policyVersion: number | null;
  checkedAt: string;
}

/**
 * Signature verdict summary of an image. For one repository it is that repository's verdict.
 * Across repositories it is the verdict with the most severe status, and `repositories` lists
 * every verdict.
 */
export interface SignatureSummaryView {
  status: ImageSignatureStatus;
  signers: SignerView[];
  reasons: VerdictReason[];
  policyScope: string;
  policyVersion: number | null;
  checkedAt: string;
  /** Present on summaries built across repositories. */
  repositories?: Array<Pick<RepositoryVerdictView, 'registry' | 'repository' | 'status'>>;
}

/** Relation of the manifest that carried a signature to the requested digest. */
export type CarrierRelation = 'self' | 'platform' | 'index';

/** One signature found for the requested digest or for a related manifest. */
export interface SignatureView {
  format: string;
  /** Where the worker found it, e.g. `tag:sha256-<hex>.sig` or `referrer:<digest>`. */
  source: string;
  /** The manifest the signature is attached to and signs. */
  manifest: {
    digest: string;
    /**
     * `self`: the requested digest. `platform`: a platform manifest of the requested index.
     * `index`: an index that lists the requested platform manifest.
     */
    relation: CarrierRelation;
    /** Platform of the manifest within the index, for `platform` and `index` relations. */
    platform: string | null;
  };
  signer: SignerView;
  /** Check result: valid, invalid, untrusted, identity-mismatch or error. */
  result: string;
  reasonCode: string;
  reason: string;
  /** Manifest digest named by the signed payload. */
  signedDigest: string | null;
  /** Docker reference named by the signed payload. */
  dockerReference: string | null;
  policyVersion: number | null;
  checkedAt: string;
}

/** Response of `GET /v1/images/{digest}/signatures`. */
export interface ImageSignaturesView {
  digest: string;
  kind: string;
  signatures: SignatureView[];
  /** Verdicts of the requested digest, one per repository it is in. */
  verdicts: RepositoryVerdictView[];
}

/** Response of `POST /v1/images/{digest}/verify`. */
export interface VerificationRequestView {
  digest: string;
  jobId: string;
  cause: 'requested';
}
