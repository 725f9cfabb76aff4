import { PolicyError, SignatureError } from './errors';
import { assertIdentityRuleValid } from './identity';
import type { PolicyRequirement, TrustPolicy } from './policy-types';
import { formatRepository, ImageReference } from './reference';

/** Requirements selected for one image, and the scope key that selected them. */
export interface ScopedRequirements {
  /** The matching scope key, or `default`. */
  scope: string;
  requirements: PolicyRequirement[];
}

const SCOPE =
  /^(?:\*\.[a-z0-9-]+(?:\.[a-z0-9-]+)*|[a-zA-Z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)*(?::[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|@sha(?:256|512):[a-f0-9]+)?)$/;

/**
 * Selects the requirements for an image: the most specific scope wins and the others are
 * ignored. Order: `registry/repository:tag` (or `@digest` for an image by digest),
 * `registry/repository`, each parent namespace up to `registry`, `*.domain` wildcards on the
 * host without port from longest to shortest, then `default`.
 */
export function policyForScope(policy: TrustPolicy, reference: ImageReference): ScopedRequirements {
  for (const scope of scopeCandidates(reference)) {
    const requirements = policy.scopes[scope];
    if (requirements !== undefined && Object.prototype.hasOwnProperty.call(policy.scopes, scope)) {
      return { scope, requirements };
    }
  }
  return { scope: 'default', requirements: policy.default };
}

/** Lists the scope keys that could match an image, most specific first. */
export function scopeCandidates(reference: ImageReference): string[] {
  const repository = formatRepository(reference);
  const candidates: string[] = [];
  if (reference.tag !== undefined) {
    candidates.push(`${repository}:${reference.tag}`);
  }
  if (reference.digest !== undefined) {
    candidates.push(`${repository}@${reference.digest}`);
  }
  const components = repository.split('/');
  for (let length = components.length; length >= 1; length -= 1) {
    candidates.push(components.slice(0, length).join('/'));
  }
  const host = reference.registry.replace(/:[0-9]+$/, '');
  const labels = host.split('.');
  for (let start = 1; start < labels.length; start += 1) {
    candidates.push(`*.${labels.slice(start).join('.')}`);
  }
  return candidates;
}

/**
 * Throws a {@link PolicyError} naming the first problem: an empty requirement list, an
 * unknown scope form, a `signedBy` without anchors, an identity rule that does not parse.
 */
export function validateTrustPolicy(policy: TrustPolicy): void {
  withField('default', () => validateRequirements(policy.default, 'default'));
  for (const [scope, requirements] of Object.entries(policy.scopes)) {
    const field = `scopes[${JSON.stringify(scope)}]`;
    if (!SCOPE.test(scope)) {
      throw new PolicyError(
        `scope ${JSON.stringify(scope)} is not a registry, namespace, repository, tag or *.domain scope`,
        { field },
      );
    }
    withField(field, () => validateRequirements(requirements, `scope ${scope}`));
  }
}

/** Rethrows a policy error from `check` with the path of the part that was checked. */
function withField(field: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof PolicyError && error.field === undefined) {
      throw new PolicyError(error.message, { cause: error.cause, field });
    }
    throw error;
  }
}

function validateRequirements(requirements: PolicyRequirement[], where: string): void {
  if (requirements.length === 0) {
    throw new PolicyError(
      `${where} has no requirements; use [{"type":"reject"}] or [{"type":"accept"}] explicitly`,
    );
  }
  for (const requirement of requirements) {
    if (requirement.type !== 'signedBy') {
      continue;
    }
    if (requirement.anchors.length === 0) {
      throw new PolicyError(`${where} has a signedBy requirement without trust anchors`);
    }
    if (requirement.signedIdentity !== undefined) {
      try {
        assertIdentityRuleValid(requirement.signedIdentity);
      } catch (error) {
        throw new PolicyError(`${where}: ${(error as SignatureError).message}`, { cause: error });
      }
    }
    for (const anchor of requirement.anchors) {
      if (anchor.kind === 'sigstore') {
        if ((anchor.trustedRootJson === undefined) === (anchor.fulcioCaPem === undefined)) {
          throw new PolicyError(
            `${where}: a sigstore anchor needs exactly one of trustedRootJson or fulcioCaPem`,
          );
        }
        if (anchor.identities.length === 0) {
          throw new PolicyError(`${where}: a sigstore anchor needs at least one identity`);
        }
        for (const identity of anchor.identities) {
          if ((identity.subject === undefined) === (identity.subjectPattern === undefined)) {
            throw new PolicyError(
              `${where}: a sigstore identity needs exactly one of subject or subjectPattern`,
            );
          }
          if (identity.subjectPattern !== undefined) {
            try {
              new RegExp(identity.subjectPattern, 'u');
            } catch (error) {
              throw new PolicyError(
                `${where}: subjectPattern ${JSON.stringify(identity.subjectPattern)} is not a valid regular expression`,
                { cause: error },
              );
            }
          }
        }
      }
    }
  }
}
