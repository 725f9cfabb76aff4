import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A signature found for a manifest digest, with the result of its last check. */
@Entity('image_signatures')
// A signature copied again (re-pushed, re-tagged) has the same fingerprint and stays one row.
@Unique('uq_image_signatures_fingerprint', ['digest', 'fingerprint'])
export class ImageSignatureEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text')
  digest!: string;

  @Column('text')
  format!: 'cosign' | 'sigstore-bundle' | 'notation' | 'gpg';

  /** Where it was found, e.g. `tag:sha256-<hex>.sig`, `referrer:<digest>`, `lookaside:signature-1`. */
  @Column('text')
  source!: string;

  /** SHA-256 over the signature material, independent of the manifest that carried it. */
  @Column('text')
  fingerprint!: string;

  @Column('text')
  result!: string;

  @Column('text', { name: 'reason_code' })
  reasonCode!: string;

  @Column('text')
  reason!: string;

  @Column('jsonb')
  signer!: Record<string, unknown>;

  @Column('text', { name: 'signed_digest', nullable: true })
  signedDigest!: string | null;

  @Column('text', { name: 'docker_reference', nullable: true })
  dockerReference!: string | null;

  @Column('int', { name: 'policy_version', nullable: true })
  policyVersion!: number | null;

  @Column('timestamptz', { name: 'checked_at' })
  checkedAt!: Date;
}
