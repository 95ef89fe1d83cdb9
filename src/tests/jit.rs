//! Spec queries run with `jit` off unless analytics.jit is on (src/jit.rs); the caller's own `jit`
//! setting is back as it was afterwards, also after an error.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    /// A metric that counts the rows its query saw with `jit` off: the query reports the setting it
    /// ran under.
    fn seed() {
        exec(
            r#"SELECT analytics.analytics_metric_upsert('{"name": "jit_off_rows", "display_name": "Rows seen without JIT",
               "description": "Counts rows whose query ran with jit off.", "category": "test", "entity": "issue",
               "base_relation": "analytics.issue_facts", "sql_expression": "(CASE WHEN current_setting(''jit'') = ''off'' THEN 1 ELSE 0 END)",
               "time_field": "created_at", "default_aggregation": "sum", "allowed_aggregations": ["sum"], "unit": "count"}')"#,
        );
        exec(
            "INSERT INTO analytics.issues (tenant_id, issue_key, issue_type, created_at) VALUES
             ('ja', 'JA-1', 'Bug', '2025-01-01'), ('ja', 'JA-2', 'Story', '2025-01-02')",
        );
        set_tenant(Some("ja"));
        exec("SET LOCAL analytics.cache_ttl = 0");
        exec("SET LOCAL jit = on");
    }

    fn run_value() -> Option<String> {
        text(r#"SELECT analytics.analytics_run('{"metrics": ["jit_off_rows"]}') -> 'rows' -> 0 ->> 'jit_off_rows'"#)
    }

    #[pg_test]
    fn spec_queries_run_without_jit_and_the_session_keeps_its_setting() {
        seed();
        assert_eq!(run_value().as_deref(), Some("2"), "both rows were read with jit off");
        assert_eq!(text("SELECT current_setting('jit')").as_deref(), Some("on"), "the caller's jit is back");
        let rows =
            text(r#"SELECT string_agg(r ->> 'jit_off_rows', ',') FROM analytics.analytics_rows('{"metrics": ["jit_off_rows"]}') AS r"#);
        assert_eq!(rows.as_deref(), Some("2"));
        assert_eq!(text("SELECT analytics.analytics_metric_value('jit_off_rows')::text").as_deref(), Some("2"));
        assert_eq!(text("SELECT current_setting('jit')").as_deref(), Some("on"));
        // analytics.jit = on: the session's setting applies.
        exec("SET LOCAL analytics.jit = on");
        assert_eq!(run_value().as_deref(), Some("0"));
        assert_eq!(text("SELECT current_setting('jit')").as_deref(), Some("on"));
    }

    #[pg_test]
    fn a_failing_query_leaves_the_session_setting_as_it_was() {
        seed();
        install_sqlstate_helper();
        // A statement timeout inside the query: the error is caught by a PL/pgSQL block (a subtransaction).
        exec(
            r#"SELECT analytics.analytics_metric_upsert('{"name": "jit_slow", "display_name": "Slow", "description": "Sleeps 0.2 s per row.",
               "category": "test", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "(SELECT 1 FROM pg_sleep(0.2))",
               "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"}')"#,
        );
        exec("SET LOCAL analytics.statement_timeout = 50");
        // (WHEN OTHERS does not catch a cancel: the block names it.)
        exec(
            r#"CREATE FUNCTION test_support.canceled() RETURNS text LANGUAGE plpgsql AS $$
               BEGIN PERFORM analytics.analytics_run('{"metrics": ["jit_slow"]}'); RETURN NULL;
               EXCEPTION WHEN query_canceled THEN RETURN SQLSTATE; END $$"#,
        );
        assert_eq!(text("SELECT test_support.canceled()").as_deref(), Some("57014"));
        assert_eq!(text("SELECT current_setting('jit')").as_deref(), Some("on"));
        exec("SET LOCAL analytics.statement_timeout = 30000");
        assert_eq!(run_value().as_deref(), Some("2"), "and the next query still runs without JIT");
    }
}
