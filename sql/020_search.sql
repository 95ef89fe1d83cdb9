-- Semantic and lexical search over issues (docs/search.md). Embeddings are derived data, like the
-- result cache: users read them (row-level security scopes them to the tenant) and never write them;
-- the embedding functions write them as the extension's owner, for the session's tenant only.

-- One embedding per issue and model; content_hash is the SHA-256 of the text that was embedded
-- (summary and description), so an issue is embedded again only when that text changed. The vector has
-- no fixed length here (models differ); each model's index casts to its length.
CREATE TABLE analytics.issue_embeddings (
    tenant_id    text NOT NULL CHECK (tenant_id <> ''),
    issue_id     bigint NOT NULL,
    model        text NOT NULL CHECK (model ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$'),
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    embedding    vector NOT NULL,
    embedded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT issue_embeddings_pkey PRIMARY KEY (tenant_id, issue_id, model),
    CONSTRAINT issue_embeddings_issue_fk FOREIGN KEY (tenant_id, issue_id)
        REFERENCES analytics.issues (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE analytics.issue_embeddings IS 'Embeddings of issues (summary and description), one per issue and model; written only by the extension''s embedding functions, read through row-level security.';
COMMENT ON COLUMN analytics.issue_embeddings.content_hash IS 'SHA-256 (hex) of the text that was embedded: the issue is embedded again only when it changes.';

-- One HNSW index per model, shared by every tenant (an index per tenant would be thousands of partial
-- indexes). pgvector uses it only for a query that repeats the cast and the model filter:
--   WHERE model = 'all-MiniLM-L6-v2' ORDER BY embedding::vector(384) <=> $1 LIMIT k
-- The tenant filter applies after the index scan, so searches use pgvector's iterative scans to still
-- return k rows for a small tenant beside a large one.
CREATE INDEX issue_embeddings_minilm_hnsw ON analytics.issue_embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE model = 'all-MiniLM-L6-v2';

ALTER TABLE analytics.issue_embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.issue_embeddings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.issue_embeddings
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.issue_embeddings FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges)
VALUES ('reader', 'table', 'analytics.issue_embeddings', 'SELECT');

-- Lexical search: PostgreSQL full-text search over summary and description, English configuration.
-- A query uses this index when it repeats the expression.
CREATE INDEX issues_fts_idx ON analytics.issues
    USING gin (pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig,
                                      coalesce(summary, '') || ' ' || coalesce(description, '')));
