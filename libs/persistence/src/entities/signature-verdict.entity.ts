import { Column, Entity, PrimaryColumn } from 'typeorm';

export type SignatureStatus =
  'verified' | 'unsigned' | 'untrusted' | 'invalid' | 'not-required' | 'rejected';

/** The signature verdict of a manifest as present in one repository, under one policy version. */
@Entity('signature_verdicts')
export class SignatureVerdictEntity {
  @PrimaryColumn('text')
  digest!: string;

  @PrimaryColumn('text')
  registry!: string;

  @PrimaryColumn('text')
  repository!: string;

  @Column('text')
  status!: SignatureStatus;

  @Column('jsonb')
  signers!: unknown[];

  @Column('jsonb')
  reasons!: unknown[];

  @Column('text', { name: 'policy_scope' })
  policyScope!: string;

  @Column('int', { name: 'policy_version', nullable: true })
  policyVersion!: number | null;

  @Column('timestamptz', { name: 'checked_at' })
  checkedAt!: Date;
}
