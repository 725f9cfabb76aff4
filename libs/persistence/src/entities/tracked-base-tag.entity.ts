import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tag that pointed at the child's direct base when the edge was made: the tag the child tracks. */
@Entity('tracked_base_tags')
export class TrackedBaseTagEntity {
  @PrimaryColumn('text', { name: 'child_digest' })
  childDigest!: string;

  @PrimaryColumn('text')
  registry!: string;

  @PrimaryColumn('text')
  repository!: string;

  @PrimaryColumn('text')
  tag!: string;

  @Column('text', { name: 'base_digest' })
  baseDigest!: string;
}
