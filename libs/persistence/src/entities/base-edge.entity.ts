import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * "child was built on base": the base's layers are a prefix of the child's. One edge per child is
 * primary (the direct base); others with the same layers are alternatives.
 */
@Entity('base_edges')
export class BaseEdgeEntity {
  @PrimaryColumn('text', { name: 'child_digest' })
  childDigest!: string;

  @PrimaryColumn('text', { name: 'base_digest' })
  baseDigest!: string;

  @Column('int', { name: 'base_layer_count' })
  baseLayerCount!: number;

  @Column('boolean')
  declared!: boolean;

  @Column('boolean', { name: 'is_primary' })
  isPrimary!: boolean;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
