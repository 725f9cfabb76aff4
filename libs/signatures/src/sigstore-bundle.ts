import { failed, FormatVerification } from './format-result';
import type { TrustAnchor } from './policy-types';

export async function verifySigstoreBundle(
  _bundle: Buffer,
  _artifact: Buffer | undefined,
  _anchors: readonly TrustAnchor[],
): Promise<FormatVerification> {
  return failed('error', 'not-implemented', 'not implemented');
}
