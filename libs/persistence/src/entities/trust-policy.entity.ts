import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One saved version of the trust policy; the newest version is in force. Rows never change. */
@Entity('trust_policies')
export class TrustPolicyEntity {
  @PrimaryGeneratedColumn('increment')
  version!: number;

  /** The policy in the TrustPolicy shape of @app/signatures, key material inline. */
  @Column('jsonb')
  policy!: unknown;

  @Column('text')
  source!: 'api' | 'import';

  /** API key prefix and name of whoever saved it. */
  @Column('text', { name: 'created_by' })
  createdBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('text', { nullable: true })
  comment!: string | null;

  /** policy.json parts that an import could not map. */
  @Column('jsonb')
  unsupported!: string[];
}
