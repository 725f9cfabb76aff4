import { assertDigest, sha256Digest } from './digest';

/**
 * DiffID of a tar archive of 1024 zero bytes, which is a layer without files. Unrelated images
 * can both contain it, so a match on it alone is no evidence of a shared base.
 */
export const EMPTY_TAR_DIFF_ID =
  'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/**
 * Computes the ChainID of every layer prefix, as defined in image-spec `config.md`:
 * `chain[0] = diffIds[0]` and `chain[k] = sha256(chain[k-1] + " " + diffIds[k])`.
 * Returns an empty array for an image without layers. Throws `invalid-digest` for a malformed
 * diff_id.
 */
export function computeChainIds(diffIds: readonly string[]): string[] {
  const chainIds: string[] = [];
  for (const diffId of diffIds) {
    assertDigest(diffId);
    const previous = chainIds.at(-1);
    chainIds.push(previous === undefined ? diffId : sha256Digest(`${previous} ${diffId}`));
  }
  return chainIds;
}
