import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ApiKeyRole = 'ci' | 'security' | 'admin';

/** An API key; only the SHA-256 of its secret part is stored. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  role!: ApiKeyRole;

  /** Public part of the key, shown in listings and logs. */
  @Column('text', { name: 'key_prefix', unique: true })
  keyPrefix!: string;

  @Column('text', { name: 'key_hash' })
  keyHash!: string;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
