import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Current target of a tag; tag_history keeps every move. */
@Entity('tags')
export class TagEntity {
  @PrimaryColumn('text')
  registry!: string;

  @PrimaryColumn('text')
  repository!: string;

  @PrimaryColumn('text')
  name!: string;

  @Column('text')
  digest!: string;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  /** Registry timestamp of the event that set the tag; older events do not move it back. */
  @Column('timestamptz', { name: 'event_time', nullable: true })
  eventTime!: Date | null;
}
