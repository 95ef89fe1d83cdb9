//! The result cache: hits, and invalidation by the tenant's writes, catalog changes, view refreshes and
//! TTL; other tenants' writes leave it alone; users cannot read or write it; a read-only transaction is
//! answered and stores nothing (a real standby: tests/regress/standby.sh).

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    const SPEC: &str = r#"{"metrics": ["created", "lead_time_p50"], "group_by": ["issue_type"]}"#;

    fn run() -> (bool, String) {
        let (cached, rows) = Spi::get_two_with_args::<bool, String>(
            "SELECT (r ->> 'cached')::boolean, (r -> 'rows')::text FROM analytics.analytics_run($1::jsonb) AS r",
            &[SPEC.into()],
        )
        .unwrap();
        (cached.unwrap(), rows.unwrap())
    }

    fn seed() {
        exec(
            "INSERT INTO analytics.issues (tenant_id, issue_key, issue_type, created_at, resolved_at) VALUES
             ('ca', 'CA-1', 'Bug', '2025-01-01', '2025-01-03'), ('ca', 'CA-2', 'Story', '2025-01-01', NULL),
             ('cb', 'CB-1', 'Bug', '2025-01-01', NULL)",
        );
    }

    #[pg_test]
    fn second_run_is_a_hit_with_the_same_rows() {
        seed();
        set_tenant(Some("ca"));
        let (c1, rows1) = run();
        let (c2, rows2) = run();
        assert!(!c1 && c2, "miss then hit");
        assert_eq!(rows1, rows2);
        // Filed under the spelling it was asked in and under the canonical spec.
        let stats = text("SELECT analytics.analytics_cache_stats()::text").unwrap();
        assert!(stats.contains(r#""entries": 2"#), "{stats}");
        assert!(int("SELECT (analytics.analytics_cache_stats() ->> 'hits')::bigint") >= 1);
    }

    #[pg_test]
    fn a_result_is_found_only_under_the_settings_it_was_computed_with() {
        seed();
        set_tenant(Some("ca"));
        let (zone, digits) =
            (text("SELECT current_setting('TimeZone')").unwrap(), text("SELECT current_setting('extra_float_digits')").unwrap());
        run();
        assert!(run().0);
        // Another time zone moves date buckets: its own entry, not this one.
        exec("SET LOCAL TimeZone = 'Pacific/Kiritimati'");
        assert!(!run().0, "a result computed in UTC served in UTC+14");
        assert!(run().0);
        exec("SET LOCAL extra_float_digits = -2");
        assert!(!run().0, "a result printed with other float digits served");
        Spi::run_with_args(
            "SELECT set_config('TimeZone', $1, true), set_config('extra_float_digits', $2, true)",
            &[zone.into(), digits.into()],
        )
        .unwrap();
        assert!(run().0, "back to the first settings: the first entry");
        // Three settings, each filed under the spelling and the canonical spec.
        assert_eq!(int("SELECT (analytics.analytics_cache_stats() ->> 'entries')::bigint"), 6);
    }

    fn run_spelt(spec: &str) -> (bool, String) {
        let (cached, rows) = Spi::get_two_with_args::<bool, String>(
            "SELECT (r ->> 'cached')::boolean, (r -> 'rows')::text FROM analytics.analytics_run($1::jsonb) AS r",
            &[spec.into()],
        )
        .unwrap();
        (cached.unwrap(), rows.unwrap())
    }

    fn hits() -> i64 {
        int("SELECT (analytics.analytics_cache_stats() ->> 'hits')::bigint")
    }

    #[pg_test]
    fn an_equivalent_spelling_is_a_hit() {
        seed();
        set_tenant(Some("ca"));
        let (_, rows) = run();
        // The same spec: keys in another order, a metric as an object, the default entity spelt out.
        let other = r#"{"group_by": ["issue_type"], "entity": "issue", "metrics": [{"name": "created"}, "lead_time_p50"]}"#;
        let before = hits();
        let (cached, other_rows) = run_spelt(other);
        assert!(cached, "an equivalent spelling was run again");
        assert_eq!(other_rows, rows);
        assert_eq!(hits(), before + 1);
        // Filed under this spelling too: the SQL fast path finds it (a hit, no new entry).
        let entries = int("SELECT (analytics.analytics_cache_stats() ->> 'entries')::bigint");
        assert!(run_spelt(other).0);
        assert_eq!(int("SELECT (analytics.analytics_cache_stats() ->> 'entries')::bigint"), entries);
        // A spec that differs is not.
        assert!(!run_spelt(r#"{"metrics": ["created"], "group_by": ["issue_type"]}"#).0);
        // Invalidation reaches every spelling.
        exec("INSERT INTO analytics.issues (tenant_id, issue_key, issue_type, created_at) VALUES ('ca', 'CA-9', 'Bug', '2025-01-02')");
        assert!(!run_spelt(other).0, "a write invalidates the alias");
        assert!(run().0, "and the first spelling finds the new result through the canonical entry");
    }

    #[pg_test]
    fn ask_runs_through_the_same_cache() {
        seed();
        set_tenant(Some("ca"));
        let ask = "SELECT (analytics.analytics_ask('how many issues were created by issue type', '{\"today\": \"2025-02-01\"}') ->> 'cached')::boolean";
        let spec = text(
            "SELECT (analytics.analytics_ask('how many issues were created by issue type', '{\"today\": \"2025-02-01\"}') -> 'spec')::text",
        )
        .unwrap();
        assert_eq!(Spi::get_one::<bool>(ask).unwrap(), Some(true), "the second ask is served from the cache");
        let before = hits();
        assert!(run_spelt(&spec).0, "analytics_run finds the result ask stored");
        assert_eq!(hits(), before + 1);
    }

    #[pg_test]
    fn writes_of_the_tenant_invalidate_and_others_do_not() {
        seed();
        set_tenant(Some("ca"));
        run();
        assert!(run().0);
        // Another tenant's write: still a hit.
        exec("INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('cb', 'CB-2', '2025-01-02')");
        assert!(run().0, "another tenant's write must not invalidate");
        // This tenant's write: a miss with the new data.
        exec("INSERT INTO analytics.issues (tenant_id, issue_key, issue_type, created_at) VALUES ('ca', 'CA-3', 'Bug', '2025-01-02')");
        let (cached, rows) = run();
        assert!(!cached);
        assert!(rows.contains(r#""created": 2"#), "{rows}");
        assert!(run().0);
        exec("UPDATE analytics.issues SET issue_type = 'Task' WHERE issue_key = 'CA-3'");
        assert!(!run().0, "update invalidates");
        assert!(run().0);
        exec("DELETE FROM analytics.issues WHERE issue_key = 'CA-3'");
        assert!(!run().0, "delete invalidates");
    }

    #[pg_test]
    fn catalog_changes_view_refreshes_and_ttl_invalidate() {
        seed();
        set_tenant(Some("ca"));
        run();
        assert!(run().0);
        exec("SELECT analytics.analytics_metric_deprecate('velocity')");
        assert!(!run().0, "a catalog change invalidates");
        assert!(run().0);
        exec("SELECT analytics.analytics_refresh_views(false)");
        assert!(!run().0, "a view refresh invalidates");
        exec("SET LOCAL analytics.cache_ttl = 0");
        assert!(!run().0);
        assert!(!run().0, "TTL 0 turns the cache off");
    }

    #[pg_test]
    fn users_cannot_touch_the_cache() {
        seed();
        install_sqlstate_helper();
        set_tenant(Some("ca"));
        run();
        exec("CREATE ROLE cache_test_reader NOLOGIN");
        exec("SELECT analytics.analytics_grant('cache_test_reader', 'reader')");
        exec("SET LOCAL ROLE cache_test_reader");
        assert!(run().0, "readers are served from the cache");
        assert_eq!(sqlstate_of("SELECT * FROM analytics.analytics_cache").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("INSERT INTO analytics.analytics_cache (tenant_id, spec_text_md5, spec_hash, catalog_stamp, data_version, global_version, result, bytes, expires_at) VALUES ('ca', 'x', 'x', 0, 0, 0, '{}', 2, now())").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("UPDATE analytics.data_versions SET version = 0").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_cache_clear()").as_deref(), Some("42501"));
        assert_eq!(text("SELECT current_user::text"), Some("cache_test_reader".into()), "identity restored after cache access");
        exec("RESET ROLE");
        assert_eq!(int("SELECT analytics.analytics_cache_clear()"), 2, "the spelling's entry and the canonical one");
        assert!(!run().0);
    }

    #[pg_test]
    fn a_read_only_transaction_is_answered_and_stores_nothing() {
        seed();
        install_sqlstate_helper();
        set_tenant(Some("ca"));
        let (_, rows_read_write) = run();
        exec("SELECT analytics.analytics_cache_clear()");
        exec("SET LOCAL transaction_read_only = on");
        let (c1, rows1) = run();
        let (c2, rows2) = run();
        assert!(!c1 && !c2, "nothing is stored, so the second run is no hit either");
        assert_eq!(rows1, rows_read_write);
        assert_eq!(rows2, rows_read_write);
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_cache"), 0);
        assert!(
            text("SELECT analytics.analytics_explain($${\"metrics\": [\"created\"]}$$)::text").unwrap().contains("Aggregate"),
            "explain in a read-only transaction"
        );
        assert_eq!(sqlstate_of("SELECT analytics.analytics_cache_clear()").as_deref(), Some("25006"));
    }
}
