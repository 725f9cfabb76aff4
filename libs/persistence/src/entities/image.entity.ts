import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type ImageKind = 'image' | 'index';

/** A manifest the service fetched and verified, identified by the digest of its exact bytes. */
@Entity('images')
export class ImageEntity {
  @PrimaryColumn('text')
  digest!: string;

  @Column('text', { name: 'media_type' })
  mediaType!: string;

  @Column('text')
  kind!: ImageKind;

  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size!: number;

  @Column('text', { name: 'config_digest', nullable: true })
  configDigest!: string | null;

  @Column('text', { nullable: true })
  architecture!: string | null;

  @Column('text', { nullable: true })
  os!: string | null;

  @Column('text', { nullable: true })
  variant!: string | null;

  @Column('timestamptz', { nullable: true })
  created!: Date | null;

  @Column('text', { name: 'config_user', nullable: true })
  configUser!: string | null;

  @Column('jsonb')
  labels!: Record<string, string>;

  @Column('jsonb')
  annotations!: Record<string, string>;

  @Column('int', { name: 'layer_count' })
  layerCount!: number;

  @Column('text', { name: 'diff_ids', array: true })
  diffIds!: string[];

  @Column('text', { name: 'chain_ids', array: true })
  chainIds!: string[];

  // The base lookup: an image whose top ChainID equals a prefix ChainID of the child.
  @Index('ix_images_top_chain_id')
  @Column('text', { name: 'top_chain_id', nullable: true })
  topChainId!: string | null;

  @Column('timestamptz', { name: 'first_seen_at' })
  firstSeenAt!: Date;

  @Column('timestamptz', { name: 'ingested_at' })
  ingestedAt!: Date;
}
