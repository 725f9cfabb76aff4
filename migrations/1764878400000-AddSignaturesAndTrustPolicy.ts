import { MigrationInterface, QueryRunner } from 'typeorm';

/** Adds versioned trust policies, every signature found per image, and per-image verdicts. */
export class AddSignaturesAndTrustPolicy1764878400000 implements MigrationInterface {
  name = 'AddSignaturesAndTrustPolicy1764878400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Each saved policy is a new row: the table is both the version history and the audit log.
    await queryRunner.query(`
      CREATE TABLE trust_policies (
        version serial PRIMARY KEY,
        policy jsonb NOT NULL,
        source text NOT NULL CHECK (source IN ('api', 'import')),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        comment text,
        unsupported jsonb NOT NULL DEFAULT '[]'
      )`);
    await queryRunner.query(`
      CREATE FUNCTION trust_policies_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'trust_policies is append-only';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER tr_trust_policies_append_only BEFORE UPDATE OR DELETE ON trust_policies
      FOR EACH ROW EXECUTE FUNCTION trust_policies_append_only()`);

    await queryRunner.query(`
      CREATE TABLE image_signatures (
        id bigserial PRIMARY KEY,
        digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        format text NOT NULL CHECK (format IN ('cosign', 'sigstore-bundle', 'notation', 'gpg')),
        source text NOT NULL,
        fingerprint text NOT NULL,
        result text NOT NULL,
        reason_code text NOT NULL,
        reason text NOT NULL,
        signer jsonb NOT NULL DEFAULT '{}',
        signed_digest text,
        docker_reference text,
        policy_version integer,
        checked_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_image_signatures_fingerprint UNIQUE (digest, fingerprint)
      )`);

    await queryRunner.query(`
      CREATE TABLE signature_verdicts (
        digest text NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        registry text NOT NULL,
        repository text NOT NULL,
        status text NOT NULL
          CHECK (status IN ('verified', 'unsigned', 'untrusted', 'invalid', 'not-required', 'rejected')),
        signers jsonb NOT NULL DEFAULT '[]',
        reasons jsonb NOT NULL DEFAULT '[]',
        policy_scope text NOT NULL,
        policy_version integer,
        checked_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (digest, registry, repository)
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_signature_verdicts_status ON signature_verdicts (status)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE signature_verdicts`);
    await queryRunner.query(`DROP TABLE image_signatures`);
    await queryRunner.query(`DROP TABLE trust_policies`);
    await queryRunner.query(`DROP FUNCTION trust_policies_append_only()`);
  }
}
