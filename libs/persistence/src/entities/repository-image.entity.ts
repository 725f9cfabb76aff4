import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Presence of a manifest in one repository of one registry. */
@Entity('repository_images')
export class RepositoryImageEntity {
  @PrimaryColumn('text')
  registry!: string;

  @PrimaryColumn('text')
  repository!: string;

  @PrimaryColumn('text')
  digest!: string;

  @Column('timestamptz', { name: 'first_seen_at' })
  firstSeenAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
