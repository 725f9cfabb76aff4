import { verifyCosignCandidate } from './cosign';
import { assertSupportedDigest, digestLike } from './digest';
import { SignatureError } from './errors';
import type { FormatVerification } from './format-result';
import { verifyGpgSignature } from './gpg';
import { matchSignedIdentity } from './identity';
import { DEFAULT_LIMITS, readBlob, VerificationLimits } from './limits';
import { verifyNotarySignature } from './notary';
import { policyForScope } from './policy';
import type { PolicyRequirement, TrustPolicy } from './policy-types';
import type { ImageReference } from './reference';
import { verifySigstoreBundle } from './sigstore-bundle';
import type {
  ImageSignatureVerdict,
  SignatureCandidate,
  SignatureCheck,
  SignerInfo,
  VerificationTarget,
} from './types';

/** Input of {@link verifyImageSignatures}. */
export interface VerifyImageInput extends VerificationTarget {
  candidates: readonly SignatureCandidate[];
  policy: TrustPolicy;
  /**
   * Time at which GPG keys, Notary certificates and signature expiry are checked. Defaults to
   * the current time. Sigstore bundles and keyless cosign signatures use their log or
   * timestamp time instead.
   */
  now?: Date;
  limits?: Partial<VerificationLimits>;
}

type SignedByRequirement = Extract<PolicyRequirement, { type: 'signedBy' }>;

/** A check together with the index of the `signedBy` requirement it was made against. */
interface RequirementCheck {
  requirementIndex: number;
  check: SignatureCheck;
}

/**
 * Judges the signatures of one manifest digest against the policy scope of its reference.
 * Only the digest given here counts: a signature over an index does not verify a child
 * manifest, and a signature over a child does not verify the index.
 */
export async function verifyImageSignatures(
  input: VerifyImageInput,
): Promise<ImageSignatureVerdict> {
  assertSupportedDigest(input.digest, 'image digest');
  const limits: VerificationLimits = { ...DEFAULT_LIMITS, ...input.limits };
  const now = input.now ?? new Date();
  const image: ImageReference = {
    ...input.reference,
    ...(input.reference.tag === undefined && { digest: input.digest }),
  };
  const { scope, requirements } = policyForScope(input.policy, image);

  if (input.manifest !== undefined && digestLike(input.digest, input.manifest) !== input.digest) {
    return verdict('invalid', `the manifest bytes do not hash to ${input.digest}`, scope, []);
  }
  if (requirements.length === 0) {
    return verdict('rejected', `policy scope ${scope} has no requirements`, scope, []);
  }
  if (requirements.some((requirement) => requirement.type === 'reject')) {
    return verdict('rejected', `policy scope ${scope} rejects every image`, scope, []);
  }
  const signedBy = requirements.filter(
    (requirement): requirement is SignedByRequirement => requirement.type === 'signedBy',
  );
  if (signedBy.length === 0) {
    return verdict(
      'not-required',
      `policy scope ${scope} accepts images without signatures`,
      scope,
      [],
    );
  }
  if (input.candidates.length === 0) {
    return verdict('unsigned', `no signatures were found for ${input.digest}`, scope, []);
  }

  const considered = input.candidates.slice(0, limits.maxSignatures);
  const results: RequirementCheck[] = [];
  for (const candidate of considered) {
    results.push(...(await checkCandidate(candidate, signedBy, input, image, now, limits)));
  }
  const checks = results.map((entry) => entry.check);
  if (input.candidates.length > considered.length) {
    checks.push({
      format: considered[0]?.format ?? 'cosign',
      source: `${input.candidates.length - considered.length} further signatures`,
      result: 'error',
      reasonCode: 'too-many-signatures',
      reason: `${input.candidates.length} signatures found; only the first ${limits.maxSignatures} were checked`,
    });
  }

  const satisfied = signedBy.map((_, index) =>
    results.filter((entry) => entry.requirementIndex === index && entry.check.result === 'valid'),
  );
  if (satisfied.every((valid) => valid.length > 0)) {
    const signers = uniqueSigners(satisfied.flat().map((entry) => entry.check.signer));
    return verdict(
      'verified',
      `every signedBy requirement of scope ${scope} is satisfied`,
      scope,
      checks,
      signers,
    );
  }
  if (checks.some((check) => check.result === 'invalid')) {
    return verdict(
      'invalid',
      'a signature failed verification or names another digest',
      scope,
      checks,
    );
  }
  return verdict(
    'untrusted',
    `no signature satisfies every signedBy requirement of scope ${scope}`,
    scope,
    checks,
  );
}

async function checkCandidate(
  candidate: SignatureCandidate,
  requirements: readonly SignedByRequirement[],
  target: VerificationTarget,
  image: ImageReference,
  now: Date,
  limits: VerificationLimits,
): Promise<RequirementCheck[]> {
  const base = { format: candidate.format, source: candidate.source };
  let blob: Buffer;
  try {
    blob = await readBlob(
      blobOf(candidate),
      limits.maxSignatureBytes,
      `signature blob from ${candidate.source}`,
      candidate.blobDigest,
    );
  } catch (error) {
    const code = error instanceof SignatureError ? error.code : 'blob-unreadable';
    // A blob that does not match its own descriptor was altered. A blob that is too large is only
    // bounded, which says nothing about tampering.
    const result =
      code === 'blob-digest-mismatch' || code === 'blob-size-mismatch' ? 'invalid' : 'error';
    return [
      {
        requirementIndex: -1,
        check: { ...base, result, reasonCode: code, reason: (error as Error).message },
      },
    ];
  }

  const checks: RequirementCheck[] = [];
  for (const [requirementIndex, requirement] of requirements.entries()) {
    let found: FormatVerification;
    try {
      found = await verifyFormat(candidate, blob, requirement, target, now, limits);
    } catch (error) {
      const code = error instanceof SignatureError ? error.code : 'verification-error';
      found = { result: 'error', reasonCode: code, reason: (error as Error).message };
    }
    checks.push({
      requirementIndex,
      check: { ...base, ...applyClaims(found, requirement, target, image) },
    });
  }
  return checks;
}

function blobOf(candidate: SignatureCandidate) {
  switch (candidate.format) {
    case 'cosign':
      return candidate.payload;
    case 'sigstore-bundle':
      return candidate.bundle;
    case 'notary':
      return candidate.envelope;
    case 'gpg':
      return candidate.signature;
  }
}

async function verifyFormat(
  candidate: SignatureCandidate,
  blob: Buffer,
  requirement: SignedByRequirement,
  target: VerificationTarget,
  now: Date,
  limits: VerificationLimits,
): Promise<FormatVerification> {
  switch (candidate.format) {
    case 'cosign':
      return verifyCosignCandidate(candidate, blob, requirement.anchors);
    case 'gpg':
      return verifyGpgSignature(blob, requirement.anchors, now, limits.maxSignatureBytes);
    case 'notary':
      return verifyNotarySignature(
        blob,
        candidate.envelopeMediaType,
        requirement.anchors,
        target,
        now,
      );
    case 'sigstore-bundle':
      return verifySigstoreBundle(
        blob,
        bundleArtifact(candidate.artifact, target.manifest),
        requirement.anchors,
        target.digest,
      );
  }
}

function bundleArtifact(payload: Buffer | undefined, manifest: Buffer | undefined) {
  if (payload !== undefined) {
    return { bytes: payload, kind: 'cosign-payload' as const };
  }
  return manifest === undefined ? undefined : { bytes: manifest, kind: 'manifest' as const };
}

/** Compares the signed digest with the image digest, then applies the identity rule. */
function applyClaims(
  found: FormatVerification,
  requirement: SignedByRequirement,
  target: VerificationTarget,
  image: ImageReference,
): Omit<SignatureCheck, 'format' | 'source'> {
  if (found.result !== 'valid') {
    return found;
  }
  if (found.signedDigest !== target.digest) {
    return {
      ...found,
      result: 'invalid',
      reasonCode: 'digest-mismatch',
      reason: `the signature names ${found.signedDigest ?? 'no digest'}, not ${target.digest}`,
    };
  }
  if (found.dockerReference === undefined) {
    if (requirement.signedIdentity === undefined) {
      return found;
    }
    return {
      ...found,
      result: 'identity-mismatch',
      reasonCode: 'reference-missing',
      reason: `the ${requirement.signedIdentity.type} rule needs a signed docker reference, and this format carries none`,
    };
  }
  const rule = requirement.signedIdentity ?? { type: 'matchRepoDigestOrExact' as const };
  const match = matchSignedIdentity(rule, image, found.dockerReference);
  if (!match.matches) {
    return {
      ...found,
      result: 'identity-mismatch',
      reasonCode: 'identity-mismatch',
      reason: match.reason,
    };
  }
  return { ...found, reason: `${found.reason}; ${match.reason}` };
}

function verdict(
  status: ImageSignatureVerdict['status'],
  reason: string,
  policyScope: string,
  checks: SignatureCheck[],
  signers: SignerInfo[] = [],
): ImageSignatureVerdict {
  return { status, reason, signers, checks, policyScope };
}

function uniqueSigners(signers: (SignerInfo | undefined)[]): SignerInfo[] {
  const seen = new Map<string, SignerInfo>();
  for (const signer of signers) {
    if (signer !== undefined) {
      seen.set(JSON.stringify(signer), signer);
    }
  }
  return [...seen.values()];
}
