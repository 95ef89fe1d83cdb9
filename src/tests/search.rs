//! The storage of semantic search (sql/020_search.sql): one shared HNSW index per model, used when a
//! query repeats its cast and model filter; a small tenant beside a large one still gets k neighbours,
//! equal to an exact scan, through pgvector's iterative scans; row-level security; the full-text index.

#[pgrx::pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    const MODEL: &str = "all-MiniLM-L6-v2";

    /// `n` issues of `tenant`, each with a deterministic 384-dimension embedding.
    fn issues_with_embeddings(tenant: &str, n: i64) {
        set_tenant(Some(tenant));
        exec(&format!(
            "INSERT INTO analytics.issues (tenant_id, issue_key, summary, created_at)
             SELECT '{tenant}', '{tenant}-' || g, 'issue ' || g, '2026-01-01' FROM generate_series(1, {n}) g"
        ));
        exec(&format!(
            "INSERT INTO analytics.issue_embeddings (tenant_id, issue_id, model, content_hash, embedding)
             SELECT i.tenant_id, i.id, '{MODEL}', repeat('0', 64),
                    (SELECT array_agg(sin(i.id * 0.7 + d * 1.3) + cos(i.id * 0.11 * d)) FROM generate_series(1, 384) d)::vector
             FROM analytics.issues i WHERE i.tenant_id = '{tenant}'"
        ));
    }

    /// The tenant's 10 nearest neighbours of the query vector, as the index needs the query written.
    fn nearest(tenant_filter: &str) -> String {
        format!(
            "SELECT e.issue_id FROM analytics.issue_embeddings e WHERE e.model = '{MODEL}' AND {tenant_filter}
             ORDER BY e.embedding::vector(384) <=> (SELECT v FROM search_query) LIMIT 10"
        )
    }

    /// The first column of every row of a query, as text.
    fn rows(sql: &str) -> Vec<String> {
        Spi::connect(|c| {
            c.select(sql, None, &[])?.map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default())).collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn top10(tenant_filter: &str) -> Vec<String> {
        rows(&format!("SELECT issue_id::text FROM ({}) AS n", nearest(tenant_filter)))
    }

    fn plan(tenant_filter: &str) -> String {
        rows(&format!("EXPLAIN (COSTS OFF) {}", nearest(tenant_filter))).join("\n")
    }

    #[pg_test]
    fn a_small_tenant_beside_a_large_one_gets_k_neighbours_through_the_shared_index() {
        issues_with_embeddings("search_big", 3000);
        issues_with_embeddings("search_small", 12);
        exec("CREATE TEMP TABLE search_query AS SELECT (SELECT array_agg(sin(0.35 + d * 1.3) + cos(0.055 * d)) FROM generate_series(1, 384) d)::vector(384) AS v");
        exec("ANALYZE analytics.issue_embeddings");
        // The index serves the query that repeats its cast and model filter.
        let big = plan("e.tenant_id = 'search_big'");
        assert!(big.contains("issue_embeddings_minilm_hnsw"), "{big}");
        // The small tenant through the shared index (the planner would rather read its 12 rows by the
        // primary key and sort them; a medium tenant gets the shared index, so it is forced here):
        // without iterative scans the index's first candidates are mostly the large tenant's.
        let small = "(e.tenant_id || '') = 'search_small'";
        exec("SET LOCAL enable_seqscan = off");
        exec("SET LOCAL enable_bitmapscan = off");
        exec("SET LOCAL enable_sort = off");
        assert!(plan(small).contains("issue_embeddings_minilm_hnsw"), "{}", plan(small));
        exec("SET LOCAL hnsw.ef_search = 20");
        exec("SET LOCAL hnsw.iterative_scan = off");
        let cut = top10(small).len();
        exec("SET LOCAL hnsw.iterative_scan = strict_order");
        // Room for the iterative scan to skip other tenants' rows, those of tests running beside this
        // one included (uncommitted rows are in the index too).
        exec("SET LOCAL hnsw.max_scan_tuples = 1000000");
        exec("SET LOCAL hnsw.scan_mem_multiplier = 100");
        let through_index = top10(small);
        // The exact answer: every row of the tenant, sorted.
        exec("SET LOCAL enable_seqscan = on");
        exec("SET LOCAL enable_indexscan = off");
        exec("SET LOCAL enable_bitmapscan = on");
        exec("SET LOCAL enable_sort = on");
        let exact = top10(small);
        assert_eq!(exact.len(), 10);
        assert_eq!(through_index, exact, "iterative scan vs exact scan ({cut} rows without iterative scans)");
        assert!(cut < 10, "without iterative scans the small tenant gets {cut} rows: the test would not show the problem");
    }

    #[pg_test]
    fn embeddings_are_readable_by_the_tenant_only_and_not_writable_by_a_writer() {
        install_sqlstate_helper();
        issues_with_embeddings("search_a", 3);
        issues_with_embeddings("search_b", 2);
        exec("CREATE ROLE search_test_writer NOLOGIN NOSUPERUSER NOBYPASSRLS");
        exec("SELECT analytics.analytics_grant('search_test_writer', 'writer')");
        exec("GRANT USAGE ON SCHEMA test_support TO search_test_writer");
        exec("SET ROLE search_test_writer");
        set_tenant(Some("search_a"));
        assert_eq!(int("SELECT count(*) FROM analytics.issue_embeddings"), 3);
        set_tenant(Some("search_b"));
        assert_eq!(int("SELECT count(*) FROM analytics.issue_embeddings"), 2);
        // Derived data: even a writer of issues cannot write embeddings.
        let row = "INSERT INTO analytics.issue_embeddings (tenant_id, issue_id, model, content_hash, embedding)
                   SELECT tenant_id, id, 'other', repeat('0', 64), '[1,2,3]' FROM analytics.issues LIMIT 1";
        assert_eq!(sqlstate_of(row).as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("DELETE FROM analytics.issue_embeddings").as_deref(), Some("42501"));
        exec("RESET ROLE");
        // Deleting an issue deletes its embeddings.
        set_tenant(Some("search_b"));
        exec("DELETE FROM analytics.issues WHERE tenant_id = 'search_b' AND issue_key = 'search_b-1'");
        assert_eq!(int("SELECT count(*) FROM analytics.issue_embeddings WHERE tenant_id = 'search_b'"), 1);
    }

    #[pg_test]
    fn full_text_search_uses_its_index() {
        set_tenant(Some("search_fts"));
        exec(
            "INSERT INTO analytics.issues (tenant_id, issue_key, summary, description, created_at)
             SELECT 'search_fts', 'FTS-' || g, 'issue number ' || g, CASE WHEN g = 7 THEN 'the login times out behind the proxy' END, '2026-01-01'
             FROM generate_series(1, 2000) g",
        );
        exec("ANALYZE analytics.issues");
        let q = "FROM analytics.issues WHERE pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, coalesce(summary, '') || ' ' || coalesce(description, ''))
                 @@ pg_catalog.websearch_to_tsquery('pg_catalog.english'::pg_catalog.regconfig, 'logins timing out')";
        assert_eq!(text(&format!("SELECT string_agg(issue_key, ',') {q}")).as_deref(), Some("FTS-7"));
        exec("SET LOCAL enable_seqscan = off");
        let plan = rows(&format!("EXPLAIN (COSTS OFF) SELECT issue_key {q}")).join("\n");
        assert!(plan.contains("issues_fts_idx"), "{plan}");
    }
}
