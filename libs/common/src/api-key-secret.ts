import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_ROLES = ['ci', 'security', 'admin'] as const;
export type ApiKeyRoleName = (typeof API_KEY_ROLES)[number];

/** Roles in order of privilege: each includes the reads of the one before it. */
const ROLE_RANK: Record<ApiKeyRoleName, number> = { ci: 0, security: 1, admin: 2 };

export function roleAllows(role: ApiKeyRoleName, required: ApiKeyRoleName): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[required];
}

export interface GeneratedApiKey {
  /** The full key, shown once to its owner and never stored. */
  key: string;
  prefix: string;
  hash: string;
}

/** Keys read `ipk_<prefix>_<secret>`: the prefix finds the row, the hash of the whole key proves it. */
export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const key = `ipk_${prefix}_${secret}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function parseApiKeyPrefix(key: string): string | undefined {
  const match = /^ipk_([0-9a-f]{12})_[A-Za-z0-9_-]{32}$/.exec(key);
  return match?.[1];
}

/** Compares two secrets in constant time by hashing both to the same length first. */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
