import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

import { TrustPolicy, validateTrustPolicy } from '@app/signatures';

import { SignatureJobError } from './errors';

/** The trust policy in force and its version; version null means no policy was ever saved. */
export interface ActivePolicy {
  version: number | null;
  policy: TrustPolicy;
}

/** Policy used while trust_policies is empty: every image is accepted without signatures. */
export const DEFAULT_TRUST_POLICY: TrustPolicy = { default: [{ type: 'accept' }], scopes: {} };

/** Reads the newest trust policy version; rows of trust_policies never change once written. */
@Injectable()
export class TrustPolicyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Loads the newest policy. Throws a permanent {@link SignatureJobError} `policy-invalid` when
   * the stored document is not a valid trust policy, because every retry would read it again.
   */
  async current(): Promise<ActivePolicy> {
    const [row]: Array<{ version: number; policy: unknown }> = await this.dataSource.query(
      `SELECT version, policy FROM trust_policies ORDER BY version DESC LIMIT 1`,
    );
    if (row === undefined) return { version: null, policy: DEFAULT_TRUST_POLICY };
    return { version: row.version, policy: parseStoredPolicy(row.policy, row.version) };
  }

  async newestVersion(): Promise<number | null> {
    const [row]: Array<{ version: number | null }> = await this.dataSource.query(
      `SELECT max(version) AS version FROM trust_policies`,
    );
    return row?.version ?? null;
  }
}

function parseStoredPolicy(value: unknown, version: number): TrustPolicy {
  const invalid = (detail: string, cause?: unknown) =>
    new SignatureJobError(
      'policy-invalid',
      `Trust policy version ${version} is invalid: ${detail}. Save a corrected version.`,
      false,
      { cause },
    );
  if (!isRecord(value) || !Array.isArray(value.default) || !isRecord(value.scopes)) {
    throw invalid('expected an object with a "default" array and a "scopes" object');
  }
  const policy = value as unknown as TrustPolicy;
  try {
    validateTrustPolicy(policy);
  } catch (error) {
    throw invalid((error as Error).message, error);
  }
  return policy;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
