import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A platform manifest listed by an index, in the index's order. */
@Entity('index_children')
export class IndexChildEntity {
  @PrimaryColumn('text', { name: 'index_digest' })
  indexDigest!: string;

  @PrimaryColumn('int')
  position!: number;

  @Column('text', { name: 'child_digest' })
  childDigest!: string;

  @Column('text', { name: 'platform_os', nullable: true })
  platformOs!: string | null;

  @Column('text', { name: 'platform_architecture', nullable: true })
  platformArchitecture!: string | null;

  @Column('text', { name: 'platform_variant', nullable: true })
  platformVariant!: string | null;
}
