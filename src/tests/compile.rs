//! analytics_compile reads and returns jsonb bytes directly (src/api/spec.rs) and keeps answers in a
//! per-backend memo: the same answer however the argument is stored (inline, short header, toasted and
//! compressed), per tenant, and a new answer when the catalog changes. analytics_compile(text), where a
//! string literal resolves, gives the same answers and errors as the jsonb form.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    const SPEC: &str =
        r#"{"metrics": ["closed", "lead_time_p50"], "group_by": ["priority"], "date_range": {"from": "2026-08-01", "to": "2026-11-01"}}"#;

    fn compile(sql_arg: &str) -> String {
        text(&format!("SELECT analytics.analytics_compile({sql_arg})::text")).unwrap()
    }

    /// A spec whose jsonb is large enough to be toasted and compressed in a table (an `in` list).
    fn big_spec() -> String {
        let values: Vec<String> = (0..900).map(|i| format!("\"value number {i}\"")).collect();
        format!(r#"{{"metrics": ["created"], "filters": [{{"field": "label", "operator": "in", "value": [{}]}}]}}"#, values.join(","))
    }

    #[pg_test]
    fn the_answer_is_the_same_however_the_argument_is_stored() {
        set_tenant(Some("ta"));
        exec("CREATE TEMP TABLE specs (id int, spec jsonb)");
        exec("ALTER TABLE specs ALTER COLUMN spec SET STORAGE extended");
        let big = big_spec();
        Spi::run_with_args("INSERT INTO specs VALUES (1, $1::jsonb), (2, $2::jsonb)", &[SPEC.into(), big.as_str().into()]).unwrap();
        // Stored on disk, the small spec has a short header and the big one is compressed.
        assert!(int("SELECT pg_column_size(spec) FROM specs WHERE id = 2") < big.len() as i64 / 4, "the big spec is compressed");
        let literal = compile(&format!("'{SPEC}'::jsonb"));
        assert_eq!(compile("(SELECT spec FROM specs WHERE id = 1)"), literal);
        assert_eq!(compile(&format!("'{SPEC}'::jsonb")), literal, "a memo hit gives the same answer");
        let big_literal = compile(&format!("'{big}'::jsonb"));
        assert_eq!(compile("(SELECT spec FROM specs WHERE id = 2)"), big_literal);
        assert!(big_literal.contains("value number 899"), "values are parameters");
        // The answer is real jsonb: operators work on it, and it equals what the validator accepts.
        assert_eq!(text(&format!("SELECT analytics.analytics_compile('{SPEC}') -> 'params' ->> 0")), Some("ta".into()));
        assert_eq!(text(&format!("SELECT jsonb_typeof(analytics.analytics_compile('{SPEC}') -> 'columns')")), Some("array".into()));
        assert_eq!(text(&format!("SELECT ((analytics.analytics_compile('{SPEC}') ->> 'spec_hash') = (analytics.analytics_explain('{SPEC}') ->> 'spec_hash'))::text")), Some("true".into()));
    }

    #[pg_test]
    fn answers_are_per_tenant_and_follow_the_catalog() {
        set_tenant(Some("ta"));
        assert_eq!(text(&format!("SELECT analytics.analytics_compile('{SPEC}') -> 'params' ->> 0")), Some("ta".into()));
        set_tenant(Some("tb"));
        assert_eq!(text(&format!("SELECT analytics.analytics_compile('{SPEC}') -> 'params' ->> 0")), Some("tb".into()));
        set_tenant(None);
        assert_eq!(text(&format!("SELECT analytics.analytics_compile('{SPEC}') -> 'params' ->> 0")), Some("".into()));
        set_tenant(Some("ta"));
        let version = || {
            text(&format!("SELECT e ->> 'version' FROM jsonb_array_elements(analytics.analytics_compile('{SPEC}') -> 'metrics') e WHERE e ->> 'name' = 'closed'"))
        };
        assert_eq!(version(), Some("1".into()));
        let edited = text("SELECT (analytics.analytics_metric('closed') - 'source' - 'is_active' - 'created_at' - 'updated_at' || '{\"description\": \"Issues resolved, as we count them.\"}')::text").unwrap();
        exec(&format!("SELECT analytics.analytics_metric_upsert('{}')", edited.replace('\'', "''")));
        assert_eq!(version(), Some("2".into()), "a catalog change is seen at once");
    }

    #[pg_test]
    fn the_last_answer_is_reused_only_for_the_same_spec_tenant_and_catalog() {
        set_tenant(Some("ta"));
        let a = compile(&format!("'{SPEC}'"));
        let other = r#"{"metrics": ["created"]}"#;
        let b = compile(&format!("'{other}'"));
        assert_ne!(a, b);
        assert_eq!(compile(&format!("'{SPEC}'")), a, "back to the first spec (from the memo)");
        assert_eq!(compile(&format!("'{SPEC}'")), a, "and again (the last answer)");
        set_tenant(Some("tb"));
        let for_tb = compile(&format!("'{SPEC}'"));
        assert!(for_tb.contains(r#""params": ["tb""#), "{for_tb}");
        set_tenant(Some("ta"));
        assert_eq!(compile(&format!("'{SPEC}'")), a);
        exec("SELECT analytics._catalog_invalidate('analytics.metrics_builtin'::regclass::oid)");
        assert_eq!(compile(&format!("'{SPEC}'")), a, "a reloaded catalog, the same definitions: the same answer");
    }

    #[pg_test]
    fn bad_arguments_are_errors_not_crashes() {
        install_sqlstate_helper();
        assert_eq!(sqlstate_of("SELECT analytics.analytics_compile(NULL)").as_deref(), Some("22004"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_compile('[]')").as_deref(), Some("22023"));
        assert_eq!(sqlstate_of(r#"SELECT analytics.analytics_compile('{"metrics": ["velocty"]}')"#).as_deref(), Some("22023"));
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(sqlstate_of(&format!(r#"SELECT analytics.analytics_compile('{{"metrics": {deep}}}')"#)).as_deref(), Some("22023"));
        // The failures were not memoized: a good spec still compiles.
        assert!(compile(&format!("'{SPEC}'::jsonb")).contains("\"sql\""));
    }

    #[pg_test]
    fn a_spec_as_text_is_read_as_jsonb_would_be() {
        set_tenant(Some("ta"));
        // A string literal resolves to the text form; both forms exist.
        assert_eq!(
            text("SELECT 'analytics.analytics_compile(text)'::regprocedure::text"),
            Some("analytics.analytics_compile(text)".into())
        );
        let as_jsonb = compile(&format!("'{SPEC}'::jsonb"));
        assert_eq!(compile(&format!("'{SPEC}'::text")), as_jsonb);
        assert_eq!(compile(&format!("'{SPEC}'::text")), as_jsonb, "a memo hit gives the same answer");
        assert_eq!(compile(&format!("'{SPEC}'")), as_jsonb);
        // Spacing and key order do not matter; a repeated key counts once, the last one (as in jsonb).
        let spaced = SPEC.replace(": ", ":    ").replace(", ", " ,\n ");
        assert_eq!(compile(&format!("'{spaced}'::text")), as_jsonb);
        let repeated = SPEC
            .replace(r#"{"metrics": ["closed", "lead_time_p50"]"#, r#"{"metrics": ["created"], "metrics": ["closed", "lead_time_p50"]"#);
        assert_ne!(repeated, SPEC);
        assert_eq!(compile(&format!("'{repeated}'::text")), as_jsonb);
        assert_eq!(compile(&format!("'{repeated}'::jsonb")), as_jsonb);
        // Bigger than a page: the same answer as its jsonb.
        let big = big_spec();
        assert_eq!(compile(&format!("'{big}'::text")), compile(&format!("'{big}'::jsonb")));
        // A tenant change is seen by the text form too.
        set_tenant(Some("tb"));
        assert_eq!(text(&format!("SELECT analytics.analytics_compile('{SPEC}'::text) -> 'params' ->> 0")), Some("tb".into()));
    }

    #[pg_test]
    fn a_bad_spec_as_text_fails_as_its_jsonb_would() {
        install_sqlstate_helper();
        exec(
            "CREATE FUNCTION test_support.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
             DECLARE s text; m text; d text;
             BEGIN EXECUTE q; RETURN NULL;
             EXCEPTION WHEN OTHERS THEN
                 GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
                 RETURN s || ' | ' || m || ' | ' || d;
             END $$",
        );
        let error_of = |q: &str| text(&format!("SELECT test_support.error_of($q${q}$q$)"));
        // jsonb_in's own error, SQLSTATE and DETAIL, exactly (no Rust backtrace appended).
        assert_eq!(
            error_of("SELECT analytics.analytics_compile('{bad'::text)"),
            error_of("SELECT analytics.analytics_compile('{bad'::jsonb)")
        );
        assert_eq!(
            error_of("SELECT analytics.analytics_compile('{bad'::text)").as_deref(),
            Some("22P02 | invalid input syntax for type json | Token \"bad\" is invalid.")
        );
        assert_eq!(sqlstate_of(r#"SELECT analytics.analytics_compile('{"metrics": ["\u0000"]}'::text)"#).as_deref(), Some("22P05"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_compile(NULL::text)").as_deref(), Some("22004"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_compile(''::text)").as_deref(), Some("22P02"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_compile('[]'::text)").as_deref(), Some("22023"));
        assert_eq!(
            error_of(r#"SELECT analytics.analytics_compile('{"metrics": ["velocty"]}'::text)"#),
            error_of(r#"SELECT analytics.analytics_compile('{"metrics": ["velocty"]}'::jsonb)"#)
        );
        // The failures were not memoized: the same bytes, fixed, compile.
        assert!(compile(r#"'{"metrics": ["velocity"]}'::text"#).contains("\"sql\""));
    }
}
