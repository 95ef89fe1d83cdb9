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
-- ef_construction 128 (pgvector's default is 64): recall@10 against an exact scan at 100,000 vectors
-- 0.956 instead of 0.888 at ef_search 40, for twice the build time (59 s; scripts/bench_search.sh).
CREATE INDEX issue_embeddings_minilm_hnsw ON analytics.issue_embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 128)
    WHERE model = 'all-MiniLM-L6-v2';

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

-- Embedding on change (docs/search.md): statement triggers on issues mark the tenants whose summaries
-- or descriptions a write inserted or changed. Every analytics.embed_interval seconds the job workers
-- queue an `embed` job for each marked tenant, when the builtin model is installed. A mark commits with
-- the write that made it and is cleared only in the transaction that queues a job, which sees that
-- write: no change waits for another one to be embedded.
CREATE TABLE analytics.embedding_queue (
    tenant_id text PRIMARY KEY CHECK (tenant_id <> ''),
    marked_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.embedding_queue IS 'The tenants with issues to embed (new, or summary or description changed), marked by statement triggers on analytics.issues; the job workers queue an embed job for each.';
REVOKE ALL ON analytics.embedding_queue FROM PUBLIC;

CREATE FUNCTION analytics._embed_mark() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analytics.embedding_queue (tenant_id)
        SELECT DISTINCT n.tenant_id FROM new_rows n
        ON CONFLICT (tenant_id) DO NOTHING;
    ELSE
        INSERT INTO analytics.embedding_queue (tenant_id)
        SELECT DISTINCT n.tenant_id FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
        WHERE n.summary IS DISTINCT FROM o.summary OR n.description IS DISTINCT FROM o.description
        ON CONFLICT (tenant_id) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics._embed_mark() IS 'Internal: statement trigger on analytics.issues that marks the tenants whose issue texts a write inserted or changed, for embedding.';
REVOKE ALL ON FUNCTION analytics._embed_mark() FROM PUBLIC;
CREATE TRIGGER embed_mark_ins AFTER INSERT ON analytics.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._embed_mark();
CREATE TRIGGER embed_mark_upd AFTER UPDATE ON analytics.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._embed_mark();

-- New embeddings change what a similar_to spec finds: they bump the tenant's data version, so no cached
-- result from before them is served.
CREATE TRIGGER data_version_ins AFTER INSERT ON analytics.issue_embeddings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version();
CREATE TRIGGER data_version_upd AFTER UPDATE ON analytics.issue_embeddings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version();

INSERT INTO analytics.job_kinds (kind, function, reusable, description) VALUES
    ('embed', 'analytics.analytics_embed_issues(integer)', false, 'Embed the tenant''s new and changed issues (payload: {"batch": 1..100000, default 200}) with the builtin model, batch by batch, each batch in its own transaction, until none is left; writer access. Queued by the job workers for tenants with changed issues (analytics.embed_interval).');
