import { MigrationInterface, QueryRunner } from 'typeorm';

/** Creates the system of record: outbox, images, tags, lineage, freshness and API keys. */
export class CreateInitialSchema1764871200000 implements MigrationInterface {
  name = 'CreateInitialSchema1764871200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        registry text NOT NULL,
        event_id text NOT NULL,
        source text NOT NULL,
        action text NOT NULL,
        repository text NOT NULL,
        tag text,
        digest text,
        media_type text,
        event_time timestamptz,
        request_id text,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        detail text,
        received_at timestamptz NOT NULL DEFAULT now(),
        enqueued_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT uq_webhook_deliveries_event UNIQUE (registry, event_id),
        CONSTRAINT ck_webhook_deliveries_status
          CHECK (status IN ('pending', 'processing', 'done', 'skipped', 'failed'))
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_webhook_deliveries_status ON webhook_deliveries (status)`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_webhook_deliveries_received ON webhook_deliveries (received_at DESC, id DESC)`,
    );

    await queryRunner.query(`
      CREATE TABLE images (
        digest text PRIMARY KEY,
        media_type text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('image', 'index')),
        size bigint NOT NULL,
        config_digest text,
        architecture text,
        os text,
        variant text,
        created timestamptz,
        config_user text,
        labels jsonb NOT NULL DEFAULT '{}',
        annotations jsonb NOT NULL DEFAULT '{}',
        layer_count integer NOT NULL DEFAULT 0,
        diff_ids text[] NOT NULL DEFAULT '{}',
        chain_ids text[] NOT NULL DEFAULT '{}',
        top_chain_id text,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        ingested_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_images_top_chain_id ON images (top_chain_id)`);
    await queryRunner.query(`CREATE INDEX ix_images_chain_ids ON images USING gin (chain_ids)`);

    await queryRunner.query(`
      CREATE TABLE index_children (
        index_digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        position integer NOT NULL,
        child_digest text NOT NULL,
        platform_os text,
        platform_architecture text,
        platform_variant text,
        PRIMARY KEY (index_digest, position)
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_index_children_child ON index_children (child_digest)`,
    );

    await queryRunner.query(`
      CREATE TABLE repository_images (
        registry text NOT NULL,
        repository text NOT NULL,
        digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        PRIMARY KEY (registry, repository, digest)
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_repository_images_digest ON repository_images (digest)`,
    );

    await queryRunner.query(`
      CREATE TABLE tags (
        registry text NOT NULL,
        repository text NOT NULL,
        name text NOT NULL,
        digest text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        event_time timestamptz,
        PRIMARY KEY (registry, repository, name)
      )`);
    await queryRunner.query(`CREATE INDEX ix_tags_digest ON tags (digest)`);

    await queryRunner.query(`
      CREATE TABLE tag_history (
        id bigserial PRIMARY KEY,
        registry text NOT NULL,
        repository text NOT NULL,
        tag text NOT NULL,
        digest text,
        previous_digest text,
        changed_at timestamptz NOT NULL DEFAULT now(),
        event_time timestamptz,
        source text NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_tag_history_tag ON tag_history (registry, repository, tag, id)`,
    );
    // The history is append-only: the database refuses updates and deletes.
    await queryRunner.query(`
      CREATE FUNCTION tag_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'tag_history is append-only';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tr_tag_history_append_only BEFORE UPDATE OR DELETE ON tag_history
      FOR EACH ROW EXECUTE FUNCTION tag_history_append_only()`);

    await queryRunner.query(`
      CREATE TABLE base_edges (
        child_digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        base_digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        base_layer_count integer NOT NULL,
        declared boolean NOT NULL DEFAULT false,
        is_primary boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (child_digest, base_digest)
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_base_edges_base ON base_edges (base_digest) WHERE is_primary`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX uq_base_edges_primary ON base_edges (child_digest) WHERE is_primary`,
    );

    await queryRunner.query(`
      CREATE TABLE tracked_base_tags (
        child_digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        registry text NOT NULL,
        repository text NOT NULL,
        tag text NOT NULL,
        base_digest text NOT NULL,
        PRIMARY KEY (child_digest, registry, repository, tag)
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_tracked_base_tags_tag ON tracked_base_tags (registry, repository, tag)`,
    );

    await queryRunner.query(`
      CREATE TABLE freshness (
        digest text PRIMARY KEY REFERENCES images (digest) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('fresh', 'stale', 'unknown')),
        reasons jsonb NOT NULL DEFAULT '[]',
        computed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_freshness_status ON freshness (status)`);

    await queryRunner.query(`
      CREATE TABLE findings (
        id bigserial PRIMARY KEY,
        digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        code text NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_findings_digest_code UNIQUE (digest, code)
      )`);

    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('ci', 'security', 'admin')),
        key_prefix text NOT NULL,
        key_hash text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT uq_api_keys_prefix UNIQUE (key_prefix)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE findings`);
    await queryRunner.query(`DROP TABLE freshness`);
    await queryRunner.query(`DROP TABLE tracked_base_tags`);
    await queryRunner.query(`DROP TABLE base_edges`);
    await queryRunner.query(`DROP TABLE tag_history`);
    await queryRunner.query(`DROP FUNCTION tag_history_append_only()`);
    await queryRunner.query(`DROP TABLE tags`);
    await queryRunner.query(`DROP TABLE repository_images`);
    await queryRunner.query(`DROP TABLE index_children`);
    await queryRunner.query(`DROP TABLE images`);
    await queryRunner.query(`DROP TABLE webhook_deliveries`);
  }
}
