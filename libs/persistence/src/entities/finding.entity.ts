import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Something an image's manifest or config shows that a reviewer should see. */
@Entity('findings')
// One finding per image and code; a re-ingest refreshes the detail.
@Unique('uq_findings_digest_code', ['digest', 'code'])
export class FindingEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text')
  digest!: string;

  @Column('text')
  code!: string;

  @Column('jsonb')
  detail!: Record<string, unknown>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
