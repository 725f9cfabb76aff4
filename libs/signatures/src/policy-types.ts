import type { RsaPadding } from './keys';

/**
 * Rule that relates the docker reference inside a signature to the image being verified,
 * with the semantics of containers/image `signedIdentity` (containers-policy.json(5)).
 */
export type IdentityRule =
  /** Image by tag: signed reference must be identical. Image by digest: same repository. */
  | { type: 'matchRepoDigestOrExact' }
  /** Signed reference must equal the image reference, tag or digest included. */
  | { type: 'matchExact' }
  /** Same repository; the tag is ignored, so a signature for one tag verifies every tag. */
  | { type: 'matchRepository' }
  /** Signed reference must equal this fixed reference. */
  | { type: 'exactReference'; dockerReference: string }
  /** Signed reference must be in this fixed repository. */
  | { type: 'exactRepository'; dockerRepository: string }
  /** Replace `prefix` by `signedPrefix` in the image name, then apply matchRepoDigestOrExact. */
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

/** A Sigstore keyless signer: OIDC issuer plus subject (SAN), exact or as a regular expression. */
export interface SigstoreIdentity {
  issuer: string;
  /** Exact subject alternative name (email, URI). */
  subject?: string;
  /** JavaScript regular expression for the SAN; it is anchored at both ends before use. */
  subjectPattern?: string;
}

/** Trust material that one `signedBy` requirement accepts; any one matching anchor satisfies it. */
export type TrustAnchor =
  /** A PEM SPKI public key for cosign key-based signatures and Sigstore bundles with a key hint. */
  | { kind: 'publicKey'; name?: string; publicKeyPem: string; rsaPadding?: RsaPadding }
  /** OpenPGP public keys: ASCII-armored text, or base64 of a binary keyring (policy.json keyData). */
  | { kind: 'gpgKeys'; name?: string; keyring: string }
  /**
   * X.509 roots for Notary Project signatures. `trustedIdentities` lists RFC 4514 subject DNs
   * or `*`, and a leaf matches a DN when it has every attribute of it. Omitted means `*`.
   */
  | { kind: 'x509Roots'; name?: string; rootsPem: string; trustedIdentities?: string[] }
  /**
   * Sigstore keyless trust: a trusted_root.json document, or a Fulcio CA with Rekor keys
   * (the policy.json `fulcio` form), plus the accepted identities.
   */
  | {
      kind: 'sigstore';
      name?: string;
      trustedRootJson?: string;
      fulcioCaPem?: string;
      rekorPublicKeysPem?: string[];
      identities: SigstoreIdentity[];
      /** Embedded certificate transparency SCTs required; default 1 with a trusted root, 0 with the fulcio form. */
      ctlogThreshold?: number;
    };

/** One requirement of a policy scope; every requirement of the selected scope must pass. */
export type PolicyRequirement =
  | { type: 'reject' }
  /** No signature is needed (policy.json `insecureAcceptAnything`). */
  | { type: 'accept' }
  | {
      type: 'signedBy';
      anchors: TrustAnchor[];
      /** Defaults to matchRepoDigestOrExact for formats that sign a docker reference. */
      signedIdentity?: IdentityRule;
    };

/**
 * Trust policy. Scope keys, from most to least specific: `registry/repository:tag`,
 * `registry/repository`, `registry/namespace`, `registry` (with port), `*.domain` wildcards.
 */
export interface TrustPolicy {
  default: PolicyRequirement[];
  scopes: Record<string, PolicyRequirement[]>;
}
