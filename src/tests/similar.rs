//! The SQL API of semantic search with the real builtin model: embedding new and changed issues only,
//! similar issues by meaning, words or both, a spec's filters, tenants kept apart even with identical
//! texts, k rows for a small tenant beside a large one, and every bad argument's SQLSTATE.

#[pgrx::pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    fn text_of(sql: &str) -> String {
        text(sql).unwrap_or_default()
    }

    /// Issues of `tenant`: (key, type, summary, description).
    fn issues(tenant: &str, rows: &[(&str, &str, &str, &str)]) {
        set_tenant(Some(tenant));
        for (key, kind, summary, description) in rows {
            Spi::run_with_args(
                "INSERT INTO analytics.issues (tenant_id, issue_key, issue_type, summary, description, created_at) VALUES ($1, $2, $3, $4, NULLIF($5, ''), '2026-01-01')",
                &[tenant.into(), (*key).into(), (*kind).into(), (*summary).into(), (*description).into()],
            )
            .expect("insert issue");
        }
    }

    const SUPPORT: &[(&str, &str, &str, &str)] = &[
        (
            "S-1",
            "Bug",
            "Login times out behind the corporate SSO proxy",
            "Users on the VPN wait 30 seconds and then see a gateway timeout when they sign in.",
        ),
        ("S-2", "Bug", "Invoice PDF shows the wrong currency symbol", "Totals in euros are printed with a dollar sign."),
        ("S-3", "Story", "Export the sprint report as CSV", ""),
        ("S-4", "Bug", "Nightly build fails randomly on the integration tests", "The CI job is flaky: the same commit passes on retry."),
        ("S-5", "Task", "Upgrade the database driver", "Move to the new major version of the PostgreSQL driver."),
        ("S-6", "Bug", "Password reset e-mail never arrives", "Customers request a reset link but get no mail."),
    ];

    /// The issue keys a query returns, in order.
    fn keys(sql: &str) -> Vec<String> {
        Spi::connect(|c| {
            c.select(sql, None, &[])?.map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default())).collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[pg_test]
    fn embedding_covers_new_and_changed_issues_only() {
        issues("sim_embed", SUPPORT);
        assert_eq!(int("SELECT analytics.analytics_embed_issues()"), 6);
        assert_eq!(int("SELECT analytics.analytics_embed_issues()"), 0, "nothing changed");
        assert_eq!(
            int("SELECT count(*) FROM analytics.issue_embeddings WHERE model = 'all-MiniLM-L6-v2' AND vector_dims(embedding) = 384"),
            6
        );
        // The content hash is the SHA-256 of summary + newline + description.
        assert_eq!(
            text("SELECT content_hash FROM analytics.issue_embeddings e JOIN analytics.issues i ON i.id = e.issue_id WHERE i.issue_key = 'S-3'"),
            text("SELECT encode(sha256(convert_to('Export the sprint report as CSV', 'UTF8')), 'hex')")
        );
        let before = text("SELECT embedding::text FROM analytics.issue_embeddings e JOIN analytics.issues i ON i.id = e.issue_id WHERE i.issue_key = 'S-2'");
        exec("UPDATE analytics.issues SET description = 'Totals in euros are printed with a pound sign.' WHERE issue_key = 'S-2'");
        exec("UPDATE analytics.issues SET status = 'Done' WHERE issue_key = 'S-5'");
        assert_eq!(int("SELECT analytics.analytics_embed_issues()"), 1, "only the issue whose text changed");
        let after = text("SELECT embedding::text FROM analytics.issue_embeddings e JOIN analytics.issues i ON i.id = e.issue_id WHERE i.issue_key = 'S-2'");
        assert_ne!(before, after);
        // Batches: two at a time.
        issues("sim_embed", &[("S-7", "Bug", "a", ""), ("S-8", "Bug", "b", ""), ("S-9", "Bug", "c", "")]);
        assert_eq!(int("SELECT analytics.analytics_embed_issues(2)"), 2);
        assert_eq!(int("SELECT analytics.analytics_embed_issues(2)"), 1);
        assert_eq!(int("SELECT analytics.analytics_embed_issues(2)"), 0);
    }

    #[pg_test]
    fn similar_issues_by_meaning_words_or_both() {
        issues("sim_find", SUPPORT);
        exec("SELECT analytics.analytics_embed_issues()");
        // No shared word with S-1's text but "the".
        let paraphrase = "sign-in hangs when going through single sign-on gateway";
        let semantic = keys(&format!("SELECT issue_key FROM analytics.analytics_similar_issues('{paraphrase}', 3, mode => 'semantic')"));
        assert_eq!(semantic.first().map(String::as_str), Some("S-1"), "{semantic:?}");
        let hybrid = keys(&format!("SELECT issue_key FROM analytics.analytics_similar_issues('{paraphrase}', 3)"));
        assert_eq!(hybrid.first().map(String::as_str), Some("S-1"), "{hybrid:?}");
        // Words: the flaky CI issue by its words; nothing for words no issue has.
        assert_eq!(
            keys("SELECT issue_key FROM analytics.analytics_similar_issues('flaky integration tests', 5, mode => 'lexical')"),
            ["S-4"]
        );
        assert!(keys("SELECT issue_key FROM analytics.analytics_similar_issues('kubernetes helm chart', 5, mode => 'lexical')").is_empty());
        // Scores: cosine similarity, descending.
        let scores = keys(&format!(
            "SELECT score::text FROM analytics.analytics_similar_issues('{paraphrase}', 3, mode => 'semantic', min_score => -1)"
        ));
        let s: Vec<f64> = scores.iter().map(|v| v.parse().unwrap()).collect();
        assert!(s.len() == 3 && s[0] >= s[1] && s[1] >= s[2] && s[0] <= 1.0 && s[0] > 0.3, "{s:?}");
        // Hybrid's score: 0.8 × the issue's cosine + 0.2 × its lexical score (here first in both).
        let top = |mode: &str| {
            let q = "flaky nightly build integration tests";
            let sql = format!(
                "SELECT issue_key || ' ' || score FROM analytics.analytics_similar_issues('{q}', 1, mode => '{mode}', min_score => -1)"
            );
            let row = text(&sql).unwrap_or_default();
            let (key, score) = row.split_once(' ').unwrap_or_default();
            (key.to_string(), score.parse::<f64>().unwrap_or(f64::NAN))
        };
        let ((ks, cos), (kl, lex), (kh, fused)) = (top("semantic"), top("lexical"), top("hybrid"));
        assert!(ks == "S-4" && kl == "S-4" && kh == "S-4", "{ks} {kl} {kh}");
        assert!((fused - (0.8 * cos + 0.2 * lex)).abs() < 1e-9, "{fused} vs 0.8 x {cos} + 0.2 x {lex}");
        // An off-topic query: nothing passes the default similarity floor.
        assert!(keys(
            "SELECT issue_key FROM analytics.analytics_similar_issues('recipe for banana bread with walnuts', 5, mode => 'semantic')"
        )
        .is_empty());
        // A spec's filters: only stories.
        assert_eq!(
            keys("SELECT issue_key FROM analytics.analytics_similar_issues('download the report of a sprint', 5, '[{\"field\": \"issue_type\", \"operator\": \"eq\", \"value\": \"Story\"}]', 'semantic', -1)"),
            ["S-3"]
        );
        // The issue's own neighbours, without itself.
        issues("sim_find", &[("S-10", "Bug", "Signing in through the SSO proxy gives a gateway timeout", "")]);
        let like = keys("SELECT issue_key FROM analytics.analytics_similar_to_issue('S-10', 3)");
        assert_eq!(like.first().map(String::as_str), Some("S-1"), "{like:?}");
        assert!(!like.contains(&"S-10".to_string()) && like.len() == 3);
    }

    #[pg_test]
    fn tenants_never_see_each_others_neighbours_even_with_identical_texts() {
        issues("sim_a", &SUPPORT[..3]);
        exec("SELECT analytics.analytics_embed_issues()");
        let twins: Vec<(&str, &str, &str, &str)> =
            SUPPORT[..3].iter().map(|(k, t, s, d)| (if *k == "S-1" { "B-1" } else { "B-2" }, *t, *s, *d)).collect();
        issues("sim_b", &twins[..2]);
        exec("SELECT analytics.analytics_embed_issues()");
        for mode in ["semantic", "lexical", "hybrid"] {
            set_tenant(Some("sim_a"));
            let a = keys(&format!("SELECT issue_key FROM analytics.analytics_similar_issues('login times out behind the SSO proxy', 10, mode => '{mode}', min_score => -1)"));
            assert!(!a.is_empty() && a.iter().all(|k| k.starts_with("S-")), "{mode}: {a:?}");
            set_tenant(Some("sim_b"));
            let b = keys(&format!("SELECT issue_key FROM analytics.analytics_similar_issues('login times out behind the SSO proxy', 10, mode => '{mode}', min_score => -1)"));
            assert!(!b.is_empty() && b.iter().all(|k| k.starts_with("B-")), "{mode}: {b:?}");
        }
        set_tenant(Some("sim_b"));
        assert!(keys("SELECT issue_key FROM analytics.analytics_similar_to_issue('B-1', 10)").iter().all(|k| k.starts_with("B-")));
    }

    #[pg_test]
    fn a_small_tenant_gets_k_rows_equal_to_an_exact_scan() {
        // A large tenant with synthetic unit vectors (unlike the storage test's, which may run beside this
        // one and share the index), a small one with real embeddings.
        set_tenant(Some("sim_big"));
        exec(
            "INSERT INTO analytics.issues (tenant_id, issue_key, summary, created_at)
             SELECT 'sim_big', 'BIG-' || g, 'issue ' || g, '2026-01-01' FROM generate_series(1, 3000) g",
        );
        exec(
            "INSERT INTO analytics.issue_embeddings (tenant_id, issue_id, model, content_hash, embedding)
             SELECT i.tenant_id, i.id, 'all-MiniLM-L6-v2', repeat('0', 64), l2_normalize((SELECT array_agg(cos(i.id * 0.37 + d * 2.9)) FROM generate_series(1, 384) d)::vector)
             FROM analytics.issues i WHERE i.tenant_id = 'sim_big'",
        );
        let mut small: Vec<(String, &str, String, &str)> = Vec::new();
        for (n, (_, t, s, d)) in SUPPORT.iter().cycle().take(12).enumerate() {
            small.push((format!("SM-{n}"), *t, format!("{s} ({n})"), *d));
        }
        let rows: Vec<(&str, &str, &str, &str)> = small.iter().map(|(k, t, s, d)| (k.as_str(), *t, s.as_str(), *d)).collect();
        issues("sim_small", &rows);
        exec("SELECT analytics.analytics_embed_issues()");
        exec("ANALYZE analytics.issue_embeddings");
        let q = "SELECT issue_key FROM analytics.analytics_similar_issues('the nightly CI build is flaky', 10, mode => 'semantic', min_score => -1)";
        let through_index = {
            exec("SET LOCAL enable_seqscan = off");
            exec("SET LOCAL enable_bitmapscan = off");
            keys(q)
        };
        exec("SET LOCAL enable_indexscan = off");
        exec("SET LOCAL enable_seqscan = on");
        let exact = keys(q);
        assert_eq!(exact.len(), 10);
        assert_eq!(through_index, exact);
    }

    #[pg_test]
    fn bad_arguments_have_sqlstates() {
        install_sqlstate_helper();
        issues("sim_err", &SUPPORT[..2]);
        let state = |sql: &str| sqlstate_of(sql).unwrap_or_else(|| "ok".into());
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', 0)"), "22023");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', 1001)"), "22023");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', mode => 'fuzzy')"), "22023");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('  ')"), "22023");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues(NULL)"), "22004");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', min_score => 2)"), "22023");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', 5, '[{\"field\": \"priorty\", \"operator\": \"eq\", \"value\": \"High\"}]')"), "22023");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_to_issue('NOPE-1')"), "42704");
        assert_eq!(state("SELECT analytics.analytics_embed_issues(0)"), "22023");
        // A model directory without the files: 58P01 with a hint (and nothing loaded from before counts).
        exec("SET LOCAL analytics.embedding_model_path = '/nonexistent/model'");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', mode => 'semantic')"), "58P01");
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x', mode => 'lexical')"), "ok", "words need no model");
        exec("RESET analytics.embedding_model_path");
        set_tenant(None);
        assert_eq!(state("SELECT * FROM analytics.analytics_similar_issues('x')"), "42501");
        assert_eq!(state("SELECT analytics.analytics_embed_issues()"), "42501");
    }

    #[pg_test]
    fn readers_search_and_writers_embed() {
        install_sqlstate_helper();
        issues("sim_roles", &SUPPORT[..2]);
        exec("CREATE ROLE sim_test_reader NOLOGIN NOSUPERUSER NOBYPASSRLS");
        exec("SELECT analytics.analytics_grant('sim_test_reader', 'reader')");
        exec("CREATE ROLE sim_test_writer NOLOGIN NOSUPERUSER NOBYPASSRLS");
        exec("SELECT analytics.analytics_grant('sim_test_writer', 'writer')");
        exec("GRANT USAGE ON SCHEMA test_support TO sim_test_reader, sim_test_writer");
        exec("SET ROLE sim_test_reader");
        assert_eq!(sqlstate_of("SELECT analytics.analytics_embed_issues()").as_deref(), Some("42501"));
        exec("RESET ROLE");
        exec("SET ROLE sim_test_writer");
        assert_eq!(int("SELECT analytics.analytics_embed_issues()"), 2);
        exec("RESET ROLE");
        exec("SET ROLE sim_test_reader");
        assert_eq!(keys("SELECT issue_key FROM analytics.analytics_similar_issues('wrong currency on the invoice', 1)"), ["S-2"]);
        assert_eq!(keys("SELECT issue_key FROM analytics.analytics_similar_to_issue('S-1', 1)"), ["S-2"]);
        exec("RESET ROLE");
        exec("SET TRANSACTION READ ONLY");
        assert_eq!(sqlstate_of("SELECT analytics.analytics_embed_issues()").as_deref(), Some("25006"));
    }

    #[pg_test]
    fn specs_keep_only_the_issues_similar_to_a_text() {
        issues("sim_spec", SUPPORT);
        exec("SELECT analytics.analytics_embed_issues()");
        let text = "signing in hangs at the single sign-on gateway";
        // A list spec's issues are the semantic search's (k = 3, no floor).
        let mut listed = keys(&format!(
            "SELECT r ->> 'key' FROM analytics.analytics_rows('{{\"fields\": [\"key\"], \"similar_to\": {{\"text\": \"{text}\", \"k\": 3, \"min_score\": -1}}}}') AS r"
        ));
        let mut searched =
            keys(&format!("SELECT issue_key FROM analytics.analytics_similar_issues('{text}', 3, mode => 'semantic', min_score => -1)"));
        listed.sort();
        searched.sort();
        assert_eq!(listed, searched);
        assert!(listed.contains(&"S-1".to_string()), "{listed:?}");
        // An aggregate over them, with filters: the count is the list's length.
        let spec = format!(
            "{{\"metrics\": [\"bug_count\"], \"filters\": [{{\"field\": \"issue_type\", \"operator\": \"eq\", \"value\": \"Bug\"}}], \"similar_to\": {{\"text\": \"{text}\", \"k\": 3, \"min_score\": -1}}}}"
        );
        let bugs = int(&format!("SELECT (analytics.analytics_run('{spec}') -> 'rows' -> 0 ->> 'bug_count')::int"));
        let listed_bugs = int(&format!(
            "SELECT count(*) FROM analytics.issues WHERE issue_key = ANY (ARRAY[{}]) AND issue_type = 'Bug'",
            listed.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(",")
        ));
        assert_eq!(bugs, listed_bugs);
        // The compiled SQL binds the text's embedding, never the text; a floor above every similarity
        // keeps nothing.
        let sql = text_of(&format!("SELECT analytics.analytics_compile('{spec}') ->> 'sql'"));
        assert!(sql.contains("analytics.issue_embeddings") && !sql.contains("sign-on"), "{sql}");
        assert_eq!(
            int(&format!("SELECT (analytics.analytics_run('{}') -> 'rows' -> 0 ->> 'bug_count')::int", spec.replace("-1}", "0.99}"))),
            0
        );
    }

    #[pg_test]
    fn questions_about_a_topic_count_the_issues_near_it() {
        issues("sim_ask", SUPPORT);
        exec("SELECT analytics.analytics_embed_issues()");
        let topic = "sign-in hanging at the single sign-on gateway";
        let answer = format!("SELECT analytics.analytics_ask('how many bugs about {topic}')");
        assert_eq!(text_of(&format!("{answer} ->> 'status'")), "answered");
        assert_eq!(text_of(&format!("{answer} -> 'spec' -> 'similar_to' ->> 'text'")), topic);
        // The explanation names the text and says how many issues were close enough to it; the bugs
        // counted are among them.
        let explanation = text_of(&format!("{answer} ->> 'explanation'"));
        assert!(explanation.contains(&format!("closest in meaning to \"{topic}\"")), "{explanation}");
        assert!(explanation.contains(&format!(" matched \"{topic}\".")), "{explanation}");
        let matched: i64 = explanation.rsplit(". ").next().and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(-1);
        let bugs = int(&format!("SELECT ({answer} -> 'rows' -> 0 ->> 'bug_count')::int"));
        assert!(matched >= bugs && bugs >= 1, "matched {matched}, bugs {bugs}: {explanation}");
        // The number is the similar_to's own: the issues among the nearest 200 at a cosine of 0.3 or more.
        let spec = format!("{{\"fields\": [\"key\"], \"similar_to\": {{\"text\": \"{topic}\"}}, \"limit\": 1000}}");
        assert_eq!(int(&format!("SELECT count(*) FROM analytics.analytics_rows('{spec}')")), matched);
        // A list: the issues themselves, S-1 among them.
        let listed = keys(&format!(
            "SELECT r ->> 'key' FROM jsonb_array_elements(analytics.analytics_ask('list the issues like ''{topic}''') -> 'rows') r"
        ));
        assert!(listed.contains(&"S-1".to_string()), "{listed:?}");
        // A dry run runs nothing: the explanation has only the spec's sentence.
        let dry = text_of("SELECT analytics.analytics_ask('how many bugs about login', '{\"dry_run\": true}') ->> 'explanation'");
        assert!(dry.contains("closest in meaning to \"login\"") && !dry.contains("matched"), "{dry}");
    }

    #[pg_test]
    fn writes_that_change_issue_texts_mark_their_tenant_for_embedding() {
        install_sqlstate_helper();
        let marked = || int("SELECT count(*) FROM analytics.embedding_queue WHERE tenant_id IN ('sim_mark_a', 'sim_mark_b')");
        issues("sim_mark_a", &SUPPORT[..3]);
        issues("sim_mark_b", &SUPPORT[3..]);
        assert_eq!(marked(), 2, "inserts mark each tenant once");
        exec("DELETE FROM analytics.embedding_queue");
        set_tenant(Some("sim_mark_a"));
        exec("UPDATE analytics.issues SET status = 'Done', priority = 'High' WHERE tenant_id = 'sim_mark_a'");
        assert_eq!(marked(), 0, "a status change leaves the texts as they were");
        exec("UPDATE analytics.issues SET summary = summary WHERE tenant_id = 'sim_mark_a'");
        assert_eq!(marked(), 0, "the same text");
        exec("UPDATE analytics.issues SET description = 'changed' WHERE tenant_id = 'sim_mark_a' AND issue_key = 'S-2'");
        assert_eq!(int("SELECT count(*) FROM analytics.embedding_queue WHERE tenant_id = 'sim_mark_a'"), 1);
        assert_eq!(int("SELECT count(*) FROM analytics.embedding_queue WHERE tenant_id = 'sim_mark_b'"), 0);
        // New embeddings bump the tenant's data version: no cached answer from before them is served.
        let version = || int("SELECT version FROM analytics.data_versions WHERE tenant_id = 'sim_mark_a'");
        let before = version();
        exec("SELECT analytics.analytics_embed_issues()");
        assert!(version() > before);
        // Users cannot read the queue.
        exec("CREATE ROLE sim_mark_user");
        exec("SET LOCAL ROLE sim_mark_user");
        assert_eq!(sqlstate_of("SELECT count(*) FROM analytics.embedding_queue").as_deref(), Some("42501"));
        exec("RESET ROLE");
    }
}
