import { z } from 'zod';

import { DomainError, DomainErrorCode } from '@app/common';
import { PolicyError, SignatureError, TrustPolicy, validateTrustPolicy } from '@app/signatures';

/** Maximum length of the free-text comment stored with a policy version. */
export const MAX_COMMENT_LENGTH = 2000;

/** Maximum number of field errors listed in one problem body. */
const MAX_REPORTED_ISSUES = 20;

const optionalName = z.string().min(1).max(200).optional();

const identityRule = z.discriminatedUnion('type', [
  z.object({ type: z.literal('matchRepoDigestOrExact') }).strict(),
  z.object({ type: z.literal('matchExact') }).strict(),
  z.object({ type: z.literal('matchRepository') }).strict(),
  z.object({ type: z.literal('exactReference'), dockerReference: z.string().min(1) }).strict(),
  z.object({ type: z.literal('exactRepository'), dockerRepository: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('remapIdentity'),
      prefix: z.string().min(1),
      signedPrefix: z.string().min(1),
    })
    .strict(),
]);

const sigstoreIdentity = z
  .object({
    issuer: z.string().min(1),
    subject: z.string().min(1).optional(),
    subjectPattern: z.string().min(1).optional(),
  })
  .strict();

const trustAnchor = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('publicKey'),
      name: optionalName,
      publicKeyPem: z.string().min(1),
      rsaPadding: z.enum(['pkcs1v15', 'pss']).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('gpgKeys'), name: optionalName, keyring: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('x509Roots'),
      name: optionalName,
      rootsPem: z.string().min(1),
      trustedIdentities: z.array(z.string().min(1)).min(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('sigstore'),
      name: optionalName,
      trustedRootJson: z.string().min(1).optional(),
      fulcioCaPem: z.string().min(1).optional(),
      rekorPublicKeysPem: z.array(z.string().min(1)).optional(),
      identities: z.array(sigstoreIdentity),
      ctlogThreshold: z.number().int().min(0).max(10).optional(),
    })
    .strict(),
]);

const requirement = z.discriminatedUnion('type', [
  z.object({ type: z.literal('reject') }).strict(),
  z.object({ type: z.literal('accept') }).strict(),
  z
    .object({
      type: z.literal('signedBy'),
      anchors: z.array(trustAnchor),
      signedIdentity: identityRule.optional(),
    })
    .strict(),
]);

const trustPolicy = z
  .object({
    default: z.array(requirement),
    scopes: z.record(z.string(), z.array(requirement)).default({}),
  })
  .strict();

const policyUpdate = z
  .object({
    policy: trustPolicy,
    comment: z.string().max(MAX_COMMENT_LENGTH).optional(),
  })
  .strict();

/** A validated `PUT /v1/trust-policy` body. */
export interface TrustPolicyUpdate {
  policy: TrustPolicy;
  comment: string | null;
}

/** One field error of a rejected request body. */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * Parses a `PUT /v1/trust-policy` body: checks the shape field by field, then the policy rules
 * of {@link validateTrustPolicy}. Throws a 400 DomainError whose message and `field` name the
 * first invalid field; `errors` lists up to 20 of them.
 */
export function parseTrustPolicyUpdate(body: unknown): TrustPolicyUpdate {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DomainError(
      DomainErrorCode.BadRequest,
      'The body must be a JSON object {"policy": {...}, "comment": "..."} sent as application/json.',
      { field: 'body' },
    );
  }
  const parsed = policyUpdate.safeParse(body);
  if (!parsed.success) {
    throw invalidFields(parsed.error.issues.map(toFieldIssue));
  }
  const policy: TrustPolicy = parsed.data.policy;
  assertPolicyRules(policy, 'policy');
  return { policy, comment: parsed.data.comment ?? null };
}

/**
 * Checks a policy against the rules of {@link validateTrustPolicy} and throws a 400 DomainError
 * naming `field` and the scope that failed.
 */
export function assertPolicyRules(policy: TrustPolicy, field: string): void {
  try {
    validateTrustPolicy(policy);
  } catch (error) {
    if (error instanceof SignatureError) {
      const path = error instanceof PolicyError && error.field ? `${field}.${error.field}` : field;
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `Invalid trust policy: ${path}: ${error.message}.`,
        { field: path, errors: [{ field: path, message: error.message }] },
        { cause: error },
      );
    }
    throw error;
  }
}

/** Builds the 400 error for a list of field issues; the message names the first one. */
export function invalidFields(issues: FieldIssue[]): DomainError {
  const [first] = issues;
  const summary = first ? `${first.field}: ${first.message}` : 'the body is invalid';
  const more = issues.length > 1 ? ` (${issues.length - 1} more in "errors")` : '';
  return new DomainError(DomainErrorCode.BadRequest, `Invalid trust policy: ${summary}${more}.`, {
    field: first?.field ?? 'body',
    errors: issues.slice(0, MAX_REPORTED_ISSUES),
  });
}

function toFieldIssue(issue: z.ZodIssue): FieldIssue {
  if (issue.code === 'unrecognized_keys') {
    const path = formatFieldPath(issue.path);
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(', ');
    return { field: path, message: `unknown field(s) ${keys}` };
  }
  return { field: formatFieldPath(issue.path), message: issue.message };
}

/** Formats a zod path as `policy.scopes["registry.example.com/team"][0].anchors`. */
export function formatFieldPath(path: ReadonlyArray<string | number>): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') {
      text += `[${part}]`;
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) {
      text += text === '' ? part : `.${part}`;
    } else {
      text += `[${JSON.stringify(part)}]`;
    }
  }
  return text === '' ? 'body' : text;
}
