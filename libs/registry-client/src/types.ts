/** A manifest as the registry served it. */
export interface FetchedManifest {
  /** `sha256:<hex>` of `bytes`, computed by the client and never taken from a response header. */
  digest: string;
  /** The `Content-Type` of the response without parameters, in lowercase. */
  mediaType: string;
  /** The exact body bytes, which the digest covers. */
  bytes: Buffer;
}

/** Digest, media type and size of a manifest, from a HEAD request. */
export interface ManifestHead {
  /** `sha256:<hex>` of the manifest. */
  digest: string;
  mediaType: string;
  /** Size of the manifest in bytes. */
  size: number;
}
