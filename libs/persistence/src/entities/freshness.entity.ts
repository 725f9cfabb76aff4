import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { FreshnessReason, FreshnessStatus } from '@app/lineage';

/** The last computed freshness verdict of an image. */
@Entity('freshness')
export class FreshnessEntity {
  @PrimaryColumn('text')
  digest!: string;

  @Column('text')
  status!: FreshnessStatus;

  @Column('jsonb')
  reasons!: FreshnessReason[];

  @Column('timestamptz', { name: 'computed_at' })
  computedAt!: Date;
}
