-- The result cache of analytics_run. An entry is valid while the catalog stamp (bumped by every catalog
-- change), the tenant's data version and the global version (bumped by view refreshes and TRUNCATE) are
-- those it recorded (analytics._cache_versions) and its TTL (analytics.cache_ttl) has not passed: the
-- rule is written once, in analytics._cache_get, which every lookup goes through. Users have no access to
-- these tables: the extension reads and writes them as their owner, always for the session's tenant only.
-- Entries are found by the MD5 of the spec's jsonb text and the session settings that change its
-- answer (analytics._cache_md5), so a hit needs no parsing at all; a result is also filed under the
-- spec's canonical text, so an equivalent spelling (["x"] for [{"name": "x"}], keys in another order)
-- is found after one parse, and is then filed under that spelling too.

CREATE TABLE analytics.data_versions (
    tenant_id  text PRIMARY KEY,
    version    bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.data_versions IS 'Per tenant, a counter bumped by every write to its base tables; the row with tenant_id '''' is global (view refreshes, TRUNCATE). Part of every cache key.';
INSERT INTO analytics.data_versions (tenant_id) VALUES ('');
REVOKE ALL ON analytics.data_versions FROM PUBLIC;

CREATE FUNCTION analytics._bump_data_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE analytics.data_versions SET version = version + 1, changed_at = now() WHERE tenant_id = '';
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics.data_versions AS d (tenant_id, version)
        SELECT DISTINCT n.tenant_id, 1 FROM new_rows n
        ON CONFLICT (tenant_id) DO UPDATE SET version = d.version + 1, changed_at = now();
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics.data_versions AS d (tenant_id, version)
        SELECT DISTINCT o.tenant_id, 1 FROM old_rows o
        ON CONFLICT (tenant_id) DO UPDATE SET version = d.version + 1, changed_at = now();
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics._bump_data_version() IS 'Internal: statement trigger that bumps the data version of every tenant a write touched.';
REVOKE ALL ON FUNCTION analytics._bump_data_version() FROM PUBLIC;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['issues', 'issue_transitions', 'issue_changes', 'issue_comments', 'sprints', 'sprint_issues'] LOOP
        EXECUTE format('CREATE TRIGGER data_version_ins AFTER INSERT ON analytics.%I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version()', t);
        EXECUTE format('CREATE TRIGGER data_version_upd AFTER UPDATE ON analytics.%I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version()', t);
        EXECUTE format('CREATE TRIGGER data_version_del AFTER DELETE ON analytics.%I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version()', t);
        EXECUTE format('CREATE TRIGGER data_version_trunc AFTER TRUNCATE ON analytics.%I FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version()', t);
    END LOOP;
END
$$;

CREATE TABLE analytics.catalog_stamp (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    stamp bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE analytics.catalog_stamp IS 'A counter bumped by every change of the metric catalog; part of every cache key.';
INSERT INTO analytics.catalog_stamp DEFAULT VALUES;
REVOKE ALL ON analytics.catalog_stamp FROM PUBLIC;

-- What a cached result is found by: the spec's jsonb text and the session settings that change a
-- query's answer or how its values print. TimeZone decides date buckets and which moment a date means;
-- DateStyle, IntervalStyle and extra_float_digits how values print. So a colleague in another time zone
-- is never served a result bucketed in yours.
CREATE FUNCTION analytics._cache_md5(spec_text text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN md5(spec_text || chr(31) || current_setting('TimeZone') || chr(31) || current_setting('DateStyle')
           || chr(31) || current_setting('IntervalStyle') || chr(31) || current_setting('extra_float_digits'));
COMMENT ON FUNCTION analytics._cache_md5(text) IS 'Internal: what a cached analytics_run result is found by (the MD5 of the spec text and the session settings that change its answer).';
REVOKE ALL ON FUNCTION analytics._cache_md5(text) FROM PUBLIC;

CREATE TABLE analytics.analytics_cache (
    tenant_id       text NOT NULL CHECK (tenant_id <> ''),
    spec_text_md5   text NOT NULL,
    spec_hash       text NOT NULL,
    catalog_stamp   bigint NOT NULL,
    data_version    bigint NOT NULL,
    global_version  bigint NOT NULL,
    result          jsonb NOT NULL,
    bytes           integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, spec_text_md5)
);
COMMENT ON TABLE analytics.analytics_cache IS 'Results of analytics_run per tenant and spec (found by analytics._cache_md5: the MD5 of the spec''s jsonb text and the session settings that change its answer; spec_hash is the canonical SHA-256); valid while catalog_stamp, data_version and global_version equal analytics._cache_versions(tenant_id) and expires_at has not passed. Not readable by users: see analytics_cache_stats().';
ALTER TABLE analytics.analytics_cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.analytics_cache FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.analytics_cache
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
CREATE INDEX analytics_cache_expires_idx ON analytics.analytics_cache (expires_at);
REVOKE ALL ON analytics.analytics_cache FROM PUBLIC;

-- The versions a cache entry records when it is stored and must still match to be served: the catalog
-- stamp, the tenant's data version and the global version. PL/pgSQL, like _cache_get: its plans are
-- kept between calls. Called as the extension owner (by _cache_get and by the Rust code that stores).
CREATE FUNCTION analytics._cache_versions(tenant text) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN ARRAY[(SELECT s.stamp FROM analytics.catalog_stamp s),
                 coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = tenant), 0),
                 coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = ''), 0)];
END
$$;
COMMENT ON FUNCTION analytics._cache_versions(text) IS 'Internal: a tenant''s current {catalog stamp, data version, global version}, which a cached result must have recorded to be served.';
REVOKE ALL ON FUNCTION analytics._cache_versions(text) FROM PUBLIC;

-- A cache hit, served without leaving SQL: the session tenant's entry for this key, if caching is on,
-- its versions are the current ones and it has not expired. The validity rule of an entry: every
-- lookup, the SQL fast path's and the Rust code's, goes through here.
CREATE FUNCTION analytics._cache_get(spec_text_md5 text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
-- PL/pgSQL, not SQL: its statement plans are kept between calls, which a SQL function's are not.
DECLARE
    tenant text := analytics.current_tenant();
    versions bigint[];
BEGIN
    IF current_setting('analytics.cache_ttl', true) = '0' THEN
        RETURN NULL;
    END IF;
    versions := analytics._cache_versions(tenant);
    RETURN (
        SELECT c.result || jsonb_build_object('cached', true,
                   'query_ms', round((extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::numeric, 3))
        FROM analytics.analytics_cache c
        WHERE c.tenant_id = tenant
          AND c.spec_text_md5 = $1
          AND ARRAY[c.catalog_stamp, c.data_version, c.global_version] = versions
          AND c.expires_at > now());
END
$$;
COMMENT ON FUNCTION analytics._cache_get(text) IS 'Internal: a valid cached analytics_run result of the session''s tenant for a spec text, or NULL.';
REVOKE ALL ON FUNCTION analytics._cache_get(text) FROM PUBLIC;
