import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';

import {
  API_KEY_ROLES,
  ApiKeyRoleName,
  DomainError,
  DomainErrorCode,
  generateApiKey,
  hashApiKey,
  parseApiKeyPrefix,
  secretsEqual,
} from '@app/common';
import { ApiKeyEntity } from '@app/persistence';

export interface AuthenticatedKey {
  id: string;
  prefix: string;
  name: string;
  role: ApiKeyRoleName;
}

/** Writes of last_used_at are spaced out so that every request does not become a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * How long a verified key is trusted without reading its row again. A key revoked through this
 * process stops at once; one revoked elsewhere (another API process, the CLI) stops within this.
 */
export const KEY_CACHE_TTL_MS = 10_000;

/** Upper bound on cached keys, so that a flood of distinct valid keys cannot grow memory. */
const KEY_CACHE_MAX_ENTRIES = 10_000;

@Injectable()
export class ApiKeysService {
  private readonly verified = new Map<string, { key: AuthenticatedKey; expiresAt: number }>();

  constructor(@InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>) {}

  async authenticate(presented: string): Promise<AuthenticatedKey | undefined> {
    const prefix = parseApiKeyPrefix(presented);
    if (!prefix) return undefined;
    const hash = hashApiKey(presented);
    const cached = this.verified.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached.key;

    const row = await this.keys.findOneBy({ keyPrefix: prefix, revokedAt: IsNull() });
    if (!row || !secretsEqual(hash, row.keyHash)) {
      this.verified.delete(hash);
      return undefined;
    }
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.keys.update({ id: row.id }, { lastUsedAt: new Date() });
    }
    const key = { id: row.id, prefix: row.keyPrefix, name: row.name, role: row.role };
    if (this.verified.size >= KEY_CACHE_MAX_ENTRIES) this.verified.clear();
    this.verified.set(hash, { key, expiresAt: Date.now() + KEY_CACHE_TTL_MS });
    return key;
  }

  async create(
    name: string,
    role: string,
    createdBy: string,
  ): Promise<{ key: string; row: ApiKeyEntity }> {
    if (!API_KEY_ROLES.includes(role as ApiKeyRoleName)) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `Invalid role "${role}"; expected one of ${API_KEY_ROLES.join(', ')}.`,
      );
    }
    if (!name || name.length > 200) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        'A key name of 1 to 200 characters is required.',
      );
    }
    const generated = generateApiKey();
    const row = await this.keys.save(
      this.keys.create({
        name,
        role: role as ApiKeyRoleName,
        keyPrefix: generated.prefix,
        keyHash: generated.hash,
        createdBy,
        createdAt: new Date(),
      }),
    );
    return { key: generated.key, row };
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.keys.find({ order: { createdAt: 'ASC' } });
  }

  async revoke(id: string): Promise<ApiKeyEntity> {
    const row = await this.keys.findOneBy({ id });
    if (!row) throw new DomainError(DomainErrorCode.NotFound, `API key ${id} not found.`);
    if (!row.revokedAt) {
      row.revokedAt = new Date();
      await this.keys.save(row);
    }
    for (const [hash, entry] of this.verified) {
      if (entry.key.id === id) this.verified.delete(hash);
    }
    return row;
  }
}
