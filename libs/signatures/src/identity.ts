import { SignatureError } from './errors';
import type { IdentityRule } from './policy-types';
import {
  formatReference,
  formatRepository,
  ImageReference,
  parseDockerReference,
} from './reference';

/** Result of matching a signed docker reference against an identity rule. */
export interface IdentityMatch {
  matches: boolean;
  reason: string;
}

/**
 * Checks the docker reference from a signed payload against the image being verified.
 * `image` carries a tag when the image was requested by tag, otherwise its digest.
 */
export function matchSignedIdentity(
  rule: IdentityRule,
  image: ImageReference,
  signedReference: string,
): IdentityMatch {
  let signed: ImageReference;
  try {
    signed = parseDockerReference(signedReference);
  } catch (error) {
    const message = error instanceof SignatureError ? error.message : String(error);
    return { matches: false, reason: message };
  }
  if (signed.tag !== undefined && signed.digest !== undefined) {
    return {
      matches: false,
      reason: `signed reference ${signedReference} has both a tag and a digest, which is ambiguous`,
    };
  }

  switch (rule.type) {
    case 'matchExact':
      return matchExact(image, signed);
    case 'matchRepoDigestOrExact':
      return matchRepoDigestOrExact(image, signed);
    case 'matchRepository':
      return sameRepository(image, signed);
    case 'exactReference': {
      const expected = parseDockerReference(rule.dockerReference);
      return matchExact(expected, signed);
    }
    case 'exactRepository': {
      const expected = parseDockerReference(rule.dockerRepository);
      return sameRepository(expected, signed);
    }
    case 'remapIdentity':
      return matchRemapped(rule, image, signed);
  }
}

/** Throws unless the rule's fixed references parse; used when a policy is built or imported. */
export function assertIdentityRuleValid(rule: IdentityRule): void {
  if (rule.type === 'exactReference') {
    const reference = parseDockerReference(rule.dockerReference);
    if ((reference.tag === undefined) === (reference.digest === undefined)) {
      throw new SignatureError(
        'identity-rule-invalid',
        `exactReference ${JSON.stringify(rule.dockerReference)} must have exactly one of a tag or a digest`,
      );
    }
  }
  if (rule.type === 'exactRepository') {
    const reference = parseDockerReference(rule.dockerRepository);
    if (reference.tag !== undefined || reference.digest !== undefined) {
      throw new SignatureError(
        'identity-rule-invalid',
        `exactRepository ${JSON.stringify(rule.dockerRepository)} must not have a tag or digest`,
      );
    }
  }
}

function matchExact(expected: ImageReference, signed: ImageReference): IdentityMatch {
  if (expected.tag === undefined && expected.digest === undefined) {
    return {
      matches: false,
      reason: `reference ${formatReference(expected)} has no tag or digest to match exactly`,
    };
  }
  const matches =
    formatRepository(expected) === formatRepository(signed) &&
    expected.tag === signed.tag &&
    expected.digest === signed.digest;
  return {
    matches,
    reason: matches
      ? `signed reference ${formatReference(signed)} equals ${formatReference(expected)}`
      : `signed reference ${formatReference(signed)} does not equal ${formatReference(expected)}`,
  };
}

function matchRepoDigestOrExact(image: ImageReference, signed: ImageReference): IdentityMatch {
  if (image.tag !== undefined) {
    return matchExact(
      { registry: image.registry, repository: image.repository, tag: image.tag },
      signed,
    );
  }
  return sameRepository(image, signed);
}

function sameRepository(expected: ImageReference, signed: ImageReference): IdentityMatch {
  const matches = formatRepository(expected) === formatRepository(signed);
  return {
    matches,
    reason: matches
      ? `signed reference ${formatReference(signed)} is in repository ${formatRepository(expected)}`
      : `signed reference ${formatReference(signed)} is not in repository ${formatRepository(expected)}`,
  };
}

function matchRemapped(
  rule: Extract<IdentityRule, { type: 'remapIdentity' }>,
  image: ImageReference,
  signed: ImageReference,
): IdentityMatch {
  const name = formatRepository(image);
  if (name !== rule.prefix && !name.startsWith(`${rule.prefix}/`)) {
    return matchRepoDigestOrExact(image, signed);
  }
  const remappedName = rule.signedPrefix + name.slice(rule.prefix.length);
  const suffix =
    image.tag !== undefined
      ? `:${image.tag}`
      : image.digest !== undefined
        ? `@${image.digest}`
        : '';
  const remapped = parseDockerReference(remappedName + suffix);
  const match = matchRepoDigestOrExact(remapped, signed);
  return {
    matches: match.matches,
    reason: `after remapping ${rule.prefix} to ${rule.signedPrefix}, ${match.reason}`,
  };
}
