-- The catalog's SQL-only API (the Rust half is src/api/catalog.rs).

CREATE FUNCTION analytics.analytics_metrics(category text DEFAULT NULL, search text DEFAULT NULL)
RETURNS SETOF analytics.metrics_catalog
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.*
    FROM analytics.metrics_catalog c
    WHERE c.is_active
      AND ($1 IS NULL OR c.category = $1)
      AND ($2 IS NULL
           OR strpos(lower(c.name), lower($2)) > 0
           OR strpos(lower(c.display_name), lower($2)) > 0
           OR strpos(lower(c.description), lower($2)) > 0
           OR EXISTS (SELECT FROM unnest(c.synonyms) s WHERE strpos(lower(s), lower($2)) > 0))
    ORDER BY c.category, c.name;
END;
COMMENT ON FUNCTION analytics.analytics_metrics(text, text) IS
  'Active metrics, optionally of one category and/or matching a search text (case-insensitive, in name, display name, description or synonyms).';

-- The SQLSTATE and message planning a query fails with, or NULL when it plans. Used to check metric SQL.
CREATE FUNCTION analytics._probe_error(probe text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE 'EXPLAIN (COSTS OFF) ' || probe;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
COMMENT ON FUNCTION analytics._probe_error(text) IS 'Internal: plans a catalog probe query; returns the error (SQLSTATE: message) or NULL.';

CREATE FUNCTION analytics.analytics_catalog_check()
RETURNS TABLE (metric text, code text, problem text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    err text;
BEGIN
    RETURN QUERY
        SELECT p ->> 'metric', p ->> 'code', p ->> 'message'
        FROM jsonb_array_elements(analytics._catalog_problems()) AS p;
    FOR r IN SELECT c.name, analytics._metric_probe(to_jsonb(c)) AS probe
             FROM analytics.metrics_catalog c ORDER BY c.name LOOP
        CONTINUE WHEN r.probe IS NULL;
        err := analytics._probe_error(r.probe);
        IF err IS NOT NULL THEN
            metric := r.name;
            code := 'invalid_sql';
            problem := err;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.analytics_catalog_check() IS
  'One row per problem of the metric catalog: invalid SQL (each metric''s SQL is planned against the live schema), invalid definitions, missing, inactive or cyclic dependencies, weights not summing to 1, missing versions. Zero rows for the shipped catalog.';
