//! The async job API: submit (checks, idempotency), status, results, cancel, listing, and who may see
//! what. No job worker runs in these tests: jobs stay queued unless a test completes one by hand.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    const SPEC: &str = r#"{"metrics": ["created"], "group_by": ["issue_type"]}"#;

    fn submit(kind: &str, payload: &str, options: &str) -> String {
        Spi::get_one_with_args::<String>(
            "SELECT analytics.analytics_job_submit($1, $2::jsonb, $3::jsonb)::text",
            &[kind.into(), payload.into(), options.into()],
        )
        .unwrap_or_else(|e| panic!("submit {kind} {payload}: {e}"))
        .unwrap()
    }

    fn state(id: &str) -> String {
        text(&format!("SELECT analytics.analytics_job_status('{id}') ->> 'state'")).unwrap()
    }

    fn setup_roles() {
        install_sqlstate_helper();
        for r in ["jobs_reader", "jobs_other", "jobs_admin"] {
            exec(&format!("CREATE ROLE {r} NOLOGIN"));
        }
        exec("SELECT analytics.analytics_grant('jobs_reader', 'reader'), analytics.analytics_grant('jobs_other', 'reader'), analytics.analytics_grant('jobs_admin', 'admin')");
        exec("GRANT USAGE ON SCHEMA test_support TO jobs_reader, jobs_other, jobs_admin");
    }

    #[pg_test]
    fn the_same_submit_is_the_same_job() {
        set_tenant(Some("ja"));
        let a = submit("run", SPEC, "{}");
        assert_eq!(state(&a), "queued");
        // The same spec spelt otherwise, and the same question with its keys in another order.
        assert_eq!(submit("run", r#"{"group_by": ["issue_type"], "metrics": [{"name": "created"}]}"#, r#"{"priority": 5}"#), a);
        let q = submit("ask", r#"{"question": "how many bugs?", "options": {"limit": 5, "dry_run": true}}"#, "{}");
        assert_eq!(submit("ask", r#"{"options": {"dry_run": true, "limit": 5}, "question": "how many bugs?"}"#, "{}"), q);
        // Another spec is another job; an idempotency key names one request.
        let b = submit("run", r#"{"metrics": ["closed"]}"#, r#"{"idempotency_key": "k-1"}"#);
        assert_ne!(a, b);
        assert_eq!(submit("run", r#"{"metrics": ["closed"]}"#, r#"{"idempotency_key": "k-1"}"#), b);
        install_sqlstate_helper();
        assert_eq!(
            sqlstate_of(r#"SELECT analytics.analytics_job_submit('run', '{"metrics": ["bug_count"]}', '{"idempotency_key": "k-1"}')"#)
                .as_deref(),
            Some("22023"),
            "the key of one request with another payload"
        );
        // A payload already queued is that job, whatever key the new submit brings.
        assert_eq!(submit("run", r#"{"metrics": ["closed"]}"#, r#"{"idempotency_key": "k-2"}"#), b);
        assert_eq!(submit("run", SPEC, r#"{"idempotency_key": "k-3"}"#), a);
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_jobs()"), 3);
        // Cancelled, it is no longer the same job: a new one is queued.
        exec(&format!("SELECT analytics.analytics_job_cancel('{a}')"));
        let c = submit("run", SPEC, "{}");
        assert_ne!(c, a);
        // Completed within analytics.cache_ttl from data that has not changed since, it still is.
        let complete = |id: &str| {
            exec(&format!(
                "UPDATE analytics.jobs SET state = 'completed', finished_at = now(), progress = 1,
                     data_versions = analytics._cache_versions('ja') WHERE id = '{id}'"
            ))
        };
        complete(&c);
        assert_eq!(submit("run", SPEC, "{}"), c);
        exec(&format!("UPDATE analytics.jobs SET finished_at = now() - interval '1 hour' WHERE id = '{c}'"));
        let d = submit("run", SPEC, "{}");
        assert_ne!(d, c, "a result older than the cache TTL is not reused");
        complete(&d);
        assert_eq!(submit("run", SPEC, "{}"), d);
        exec("INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('ja', 'JA-1', now())");
        let e = submit("run", SPEC, "{}");
        assert_ne!(e, d, "a result from data that changed since is not reused");
        // Another time zone buckets dates otherwise: another job.
        exec("SET LOCAL TimeZone = 'Pacific/Kiritimati'");
        assert_ne!(submit("run", SPEC, "{}"), e, "a job submitted in another time zone is another job");
        exec("RESET TimeZone");
        assert_eq!(submit("run", SPEC, "{}"), e);
        // A refresh is never answered by an earlier one.
        let r = submit("refresh_views", "{}", "{}");
        complete(&r);
        assert_ne!(submit("refresh_views", "{}", "{}"), r, "a completed refresh is not reused");
        // A key used for one request refuses another kind too.
        assert_eq!(
            sqlstate_of(r#"SELECT analytics.analytics_job_submit('refresh_views', '{}', '{"idempotency_key": "k-1"}')"#).as_deref(),
            Some("22023")
        );
        // The options were stored.
        let status = text(&format!("SELECT analytics.analytics_job_status('{b}')::text")).unwrap();
        assert!(
            status.contains(r#""max_attempts": 3"#) && status.contains(r#""attempt": 0"#) && status.contains(r#""workers": "#),
            "{status}"
        );
    }

    #[pg_test]
    fn bad_submits_are_refused_with_their_sqlstate() {
        install_sqlstate_helper();
        set_tenant(Some("ja"));
        let bad = |sql: &str| sqlstate_of(sql);
        assert_eq!(bad("SELECT analytics.analytics_job_submit('runn', '{}')").as_deref(), Some("22023"));
        assert_eq!(bad(r#"SELECT analytics.analytics_job_submit('run', '{"metrics": ["nope"]}')"#).as_deref(), Some("22023"));
        assert_eq!(bad(r#"SELECT analytics.analytics_job_submit('ask', '{"q": "x"}')"#).as_deref(), Some("22023"));
        assert_eq!(
            bad(r#"SELECT analytics.analytics_job_submit('ask', '{"question": "x", "options": {"limt": 1}}')"#).as_deref(),
            Some("22023")
        );
        assert_eq!(bad(r#"SELECT analytics.analytics_job_submit('refresh_views', '{"concurrently": "yes"}')"#).as_deref(), Some("22023"));
        assert_eq!(
            bad(r#"SELECT analytics.analytics_job_submit('run', '{"metrics": ["closed"]}', '{"priorty": 1}')"#).as_deref(),
            Some("22023")
        );
        assert_eq!(
            bad(r#"SELECT analytics.analytics_job_submit('run', '{"metrics": ["closed"]}', '{"run_after": "soon"}')"#).as_deref(),
            Some("22023")
        );
        assert_eq!(bad("SELECT analytics.analytics_job_submit(NULL, '{}')").as_deref(), Some("22004"));
        assert_eq!(bad("SELECT analytics.analytics_job_submit('run', NULL)").as_deref(), Some("22004"));
        assert_eq!(bad("SELECT * FROM analytics.analytics_jobs('done')").as_deref(), Some("22023"));
        assert_eq!(bad("SELECT analytics.analytics_job_status('00000000-0000-0000-0000-000000000000')").as_deref(), Some("42704"));
        set_tenant(None);
        assert_eq!(bad(r#"SELECT analytics.analytics_job_submit('run', '{"metrics": ["closed"]}')"#).as_deref(), Some("42501"));
        assert_eq!(int("SELECT count(*) FROM analytics.jobs"), 0, "nothing was queued");
    }

    #[pg_test]
    fn a_job_is_seen_only_by_its_role_and_tenant() {
        setup_roles();
        set_tenant(Some("ja"));
        exec("SET LOCAL ROLE jobs_reader");
        let id = submit("run", SPEC, "{}");
        assert_eq!(state(&id), "queued");
        // A role without access may not submit at all.
        exec("RESET ROLE");
        exec("CREATE ROLE jobs_nobody NOLOGIN");
        exec("GRANT USAGE ON SCHEMA test_support TO jobs_nobody");
        exec("SET LOCAL ROLE jobs_nobody");
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_submit('run', '{SPEC}')")).as_deref(), Some("42501"));
        assert_eq!(sqlstate_of(&format!("SELECT public.analytics_job_submit('run', '{SPEC}')")).as_deref(), Some("42501"));
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_status('{id}')")).as_deref(), Some("42501"));
        exec("SET LOCAL ROLE jobs_reader");
        // Users cannot touch the tables.
        assert_eq!(sqlstate_of("SELECT * FROM analytics.jobs").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("SELECT * FROM analytics.job_results").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("SELECT * FROM analytics.job_queue").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("UPDATE analytics.jobs SET state = 'completed'").as_deref(), Some("42501"));
        // A reader may not refresh the views through a job; an admin may.
        assert_eq!(sqlstate_of("SELECT analytics.analytics_job_submit('refresh_views', '{}')").as_deref(), Some("42501"));
        // Another tenant of the same role does not see it.
        set_tenant(Some("jb"));
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_status('{id}')")).as_deref(), Some("42704"));
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_cancel('{id}')")).as_deref(), Some("42704"));
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_jobs()"), 0);
        // Another role of the same tenant does not either, and cannot cancel it.
        set_tenant(Some("ja"));
        exec("SET LOCAL ROLE jobs_other");
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_status('{id}')")).as_deref(), Some("42704"));
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_result('{id}')")).as_deref(), Some("42704"));
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_cancel('{id}')")).as_deref(), Some("42704"));
        assert_ne!(submit("run", SPEC, "{}"), id, "the same spec from another role is another job");
        exec("SET LOCAL ROLE jobs_admin");
        let r = submit("refresh_views", r#"{"concurrently": false}"#, "{}");
        assert_eq!(state(&r), "queued");
        exec("RESET ROLE");
        assert_eq!(text(&format!("SELECT state FROM analytics.jobs WHERE id = '{id}'")).as_deref(), Some("queued"), "still queued");
        assert_eq!(int("SELECT count(*) FROM analytics.job_queue"), 3, "the superuser sees every job");
        assert_eq!(text(&format!("SELECT submitted_by::text FROM analytics.job_queue WHERE id = '{r}'")).as_deref(), Some("jobs_admin"));
    }

    #[pg_test]
    fn results_are_read_only_once_completed_and_cancel_stops_a_queued_job() {
        install_sqlstate_helper();
        set_tenant(Some("ja"));
        let id = submit("run", SPEC, "{}");
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_result('{id}')")).as_deref(), Some("55000"));
        assert_eq!(sqlstate_of(&format!("SELECT * FROM analytics.analytics_job_rows('{id}')")).as_deref(), Some("55000"));
        // Completed (by hand: no worker runs here), its answer and rows are read.
        exec(&format!(
            "UPDATE analytics.jobs SET state = 'completed', finished_at = now(), progress = 1, result_rows = 2 WHERE id = '{id}';
             INSERT INTO analytics.job_results (tenant_id, job_id, result)
             VALUES ('ja', '{id}', '{{\"rows\": [{{\"issue_type\": \"Bug\", \"created\": 2}}, {{\"issue_type\": \"Story\", \"created\": 1}}], \"row_count\": 2}}')"
        ));
        assert_eq!(int(&format!("SELECT (analytics.analytics_job_result('{id}') ->> 'row_count')::bigint")), 2);
        assert_eq!(int(&format!("SELECT count(*) FROM analytics.analytics_job_rows('{id}')")), 2);
        assert_eq!(
            text(&format!("SELECT string_agg(r ->> 'issue_type', ',') FROM analytics.analytics_job_rows('{id}') AS r")).as_deref(),
            Some("Bug,Story")
        );
        assert_eq!(
            Spi::get_one::<bool>(&format!("SELECT analytics.analytics_job_cancel('{id}')")).unwrap(),
            Some(false),
            "finished already"
        );
        // A queued job is cancelled at once; a second cancel finds it finished.
        let q = submit("run", r#"{"metrics": ["closed"]}"#, "{}");
        assert_eq!(Spi::get_one::<bool>(&format!("SELECT analytics.analytics_job_cancel('{q}')")).unwrap(), Some(true));
        assert_eq!(state(&q), "cancelled");
        assert_eq!(Spi::get_one::<bool>(&format!("SELECT analytics.analytics_job_cancel('{q}')")).unwrap(), Some(false));
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_result('{q}')")).as_deref(), Some("55000"));
        // A running one is asked to stop.
        let r = submit("run", r#"{"metrics": ["bug_count"]}"#, "{}");
        exec(&format!("UPDATE analytics.jobs SET state = 'running', attempt = 1, started_at = now() WHERE id = '{r}'"));
        assert_eq!(Spi::get_one::<bool>(&format!("SELECT analytics.analytics_job_cancel('{r}')")).unwrap(), Some(true));
        assert_eq!(text(&format!("SELECT analytics.analytics_job_status('{r}') ->> 'cancel_requested'")).as_deref(), Some("true"));
        assert_eq!(state(&r), "running");
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_jobs('cancelled')"), 1);
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_jobs(NULL, 1)"), 1);
    }

    #[pg_test]
    fn submit_in_a_read_only_transaction_is_refused() {
        install_sqlstate_helper();
        set_tenant(Some("ja"));
        exec("SET LOCAL transaction_read_only = on");
        assert_eq!(sqlstate_of(&format!("SELECT analytics.analytics_job_submit('run', '{SPEC}')")).as_deref(), Some("25006"));
    }
}
