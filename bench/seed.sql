-- 100k tagged images in 1,000 repositories, 90% with a base edge to the previous image, each
-- with a fresh verdict: the data set for the freshness query benchmark.
INSERT INTO images (digest, media_type, kind, size, layer_count, diff_ids, chain_ids, top_chain_id)
SELECT 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex'), 'application/vnd.oci.image.manifest.v1+json',
       'image', 1000, 2, '{}', '{}', 'sha256:' || encode(sha256(('top' || g)::bytea), 'hex')
  FROM generate_series(1, 100000) g;

INSERT INTO repository_images (registry, repository, digest)
SELECT 'local', 'bench/repo-' || (g % 1000), 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex')
  FROM generate_series(1, 100000) g;

INSERT INTO tags (registry, repository, name, digest)
SELECT 'local', 'bench/repo-' || (g % 1000), 't' || g, 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex')
  FROM generate_series(1, 100000) g;

INSERT INTO base_edges (child_digest, base_digest, base_layer_count, is_primary)
SELECT 'sha256:' || encode(sha256(('img' || g)::bytea), 'hex'),
       'sha256:' || encode(sha256(('img' || (g - 1))::bytea), 'hex'), 1, true
  FROM generate_series(2, 100000) g WHERE g % 10 <> 1;

INSERT INTO freshness (digest, status, reasons) SELECT digest, 'fresh', '[]' FROM images;

ANALYZE;
