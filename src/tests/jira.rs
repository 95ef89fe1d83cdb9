//! Jira sources inside PostgreSQL: config and credential checks, and the pg_cron schedule whose command
//! queues a `jira_sync` job. The syncs themselves run in tests/regress/jira_sync.sh (they need workers).

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    fn add_source(name: &str) {
        exec(&format!(
            "SELECT analytics.analytics_jira_source_upsert('{name}', '{{\"base_url\": \"http://127.0.0.1:9\", \"flavor\": \"server\", \"jql\": \"project = PAY\"}}')"
        ));
    }

    #[pg_test]
    fn a_source_needs_a_good_config_and_a_credential_before_it_syncs() {
        install_sqlstate_helper();
        set_tenant(Some("acme"));
        let bad = [
            ("SELECT analytics.analytics_jira_source_upsert('s', '{\"flavor\": \"cloud\", \"jql\": \"x\"}')", "22023"),
            ("SELECT analytics.analytics_jira_source_upsert('s', '{\"base_url\": \"ftp://h\", \"flavor\": \"cloud\", \"jql\": \"x\"}')", "22023"),
            ("SELECT analytics.analytics_jira_source_upsert('s', '{\"base_url\": \"http://127.0.0.1:9\", \"flavor\": \"cloud\", \"jql\": \"x\", \"page_size\": 0}')", "22023"),
            ("SELECT analytics.analytics_jira_source_upsert('Bad Name', '{\"base_url\": \"http://127.0.0.1:9\", \"flavor\": \"cloud\", \"jql\": \"x\"}')", "22023"),
            ("SELECT analytics.analytics_jira_sync('nope')", "42704"),
        ];
        for (sql, state) in bad {
            assert_eq!(sqlstate_of(sql).as_deref(), Some(state), "{sql}");
        }
        add_source("pay");
        assert_eq!(text("SELECT has_secret::text FROM analytics.analytics_jira_sources() WHERE name = 'pay'"), Some("false".into()));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_jira_sync('pay')").as_deref(), Some("55000"), "no credential yet");
        assert_eq!(
            sqlstate_of("SELECT analytics.analytics_jira_source_secret('pay', '{\"email\": \"a@b\"}')").as_deref(),
            Some("22023"),
            "a Cloud credential needs its api_token too"
        );
        exec("SELECT analytics.analytics_jira_source_secret('pay', '{\"token\": \"t0ken\"}')");
        assert_eq!(text("SELECT has_secret::text FROM analytics.analytics_jira_sources() WHERE name = 'pay'"), Some("true".into()));
        assert_eq!(
            sqlstate_of("SELECT analytics.analytics_jira_sync('pay', '{\"prune\": true}')").as_deref(),
            Some("22023"),
            "prune needs a full resync"
        );
        assert_eq!(sqlstate_of("SELECT analytics.analytics_jira_sync('pay', '{\"fast\": true}')").as_deref(), Some("22023"));
        let job = text("SELECT analytics.analytics_jira_sync('pay', '{\"full\": true}')::text").expect("a job id");
        assert_eq!(
            text(&format!(
                "SELECT kind || ' ' || (payload ->> 'source') || ' ' || (payload ->> 'full') FROM analytics.jobs WHERE id = '{job}'"
            )),
            Some("jira_sync pay true".into())
        );
        assert_eq!(int(&format!("SELECT count(*) FROM analytics.jobs WHERE id = '{job}' AND payload::text LIKE '%t0ken%'")), 0);
        set_tenant(Some("other"));
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_jira_sources()"), 0, "sources are per tenant");
        assert_eq!(sqlstate_of("SELECT analytics.analytics_jira_sync('pay')").as_deref(), Some("42704"));
        set_tenant(Some("acme"));
        assert_eq!(text("SELECT analytics.analytics_jira_source_drop('pay')::text"), Some("true".into()));
        assert_eq!(text("SELECT analytics.analytics_jira_source_drop('pay')::text"), Some("false".into()));
        assert_eq!(int("SELECT count(*) FROM analytics.jira_source_secrets WHERE name = 'pay'"), 0, "the credential goes with it");
    }

    #[pg_test]
    fn a_sync_is_scheduled_with_pg_cron_and_its_command_queues_the_job() {
        install_sqlstate_helper();
        exec("CREATE EXTENSION IF NOT EXISTS pg_cron");
        set_tenant(Some("acme"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_schedule_jira_sync('pay')").as_deref(), Some("42704"), "no such source");
        add_source("pay");
        exec("SELECT analytics.analytics_jira_source_secret('pay', '{\"token\": \"t0ken\"}')");
        assert_eq!(sqlstate_of("SELECT analytics.analytics_schedule_jira_sync('pay', ' ')").as_deref(), Some("22023"));
        let job = int("SELECT analytics.analytics_schedule_jira_sync('pay', '*/10 * * * *')");
        assert!(job > 0);
        assert_eq!(
            text(&format!("SELECT jobname || ' | ' || schedule || ' | ' || command FROM cron.job WHERE jobid = {job}")),
            Some("agile_analytics_jira_sync:acme:pay | */10 * * * * | SET analytics.tenant_id = 'acme'; SELECT analytics.analytics_jira_sync('pay');".into())
        );
        assert_eq!(int("SELECT analytics.analytics_schedule_jira_sync('pay')"), job, "scheduling again updates the same job");
        assert_eq!(text(&format!("SELECT schedule FROM cron.job WHERE jobid = {job}")), Some("*/30 * * * *".into()));
        // What pg_cron runs, run here in a session with another tenant: it queues acme's sync.
        let command = text(&format!("SELECT command FROM cron.job WHERE jobid = {job}")).unwrap();
        set_tenant(Some("other"));
        Spi::run(&command).expect("the scheduled command runs");
        set_tenant(Some("acme"));
        assert_eq!(int("SELECT count(*) FROM analytics.jobs WHERE kind = 'jira_sync' AND payload ->> 'source' = 'pay'"), 1);
        assert_eq!(text("SELECT analytics.analytics_unschedule_jira_sync('pay')::text"), Some("true".into()));
        assert_eq!(text("SELECT analytics.analytics_unschedule_jira_sync('pay')::text"), Some("false".into()));
        assert_eq!(int(&format!("SELECT count(*) FROM cron.job WHERE jobid = {job}")), 0);
    }
}
