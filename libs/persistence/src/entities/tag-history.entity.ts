import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only record of tag moves; `digest` is null when the tag was deleted. */
@Entity('tag_history')
export class TagHistoryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text')
  registry!: string;

  @Column('text')
  repository!: string;

  @Column('text')
  tag!: string;

  @Column('text', { nullable: true })
  digest!: string | null;

  @Column('text', { name: 'previous_digest', nullable: true })
  previousDigest!: string | null;

  @Column('timestamptz', { name: 'changed_at' })
  changedAt!: Date;

  @Column('timestamptz', { name: 'event_time', nullable: true })
  eventTime!: Date | null;

  @Column('text')
  source!: string;
}
