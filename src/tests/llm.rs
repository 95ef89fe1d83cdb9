//! analytics_ask with LLM providers, against a scripted provider on 127.0.0.1 (analytics_core's mock):
//! a valid answer runs; invalid answers are retried then refused with every attempt in DETAIL; an
//! unreachable provider falls back to the builtin translator or fails with 08000; the API key is
//! superuser-only and never appears in an answer or an error.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use analytics_core::llm::mock::{openai_body, serve, Reply};
    use pgrx::prelude::*;
    use serde_json::{json, Value};

    const VALID: &str = r#"{"entity": "issue", "metrics": [{"name": "bug_count", "aggregation": null}], "group_by": [{"field": "priority", "interval": null}], "filters": [], "date_range": null, "sort_by": [], "limit": null, "clarification": null}"#;

    fn seed() {
        exec(
            "INSERT INTO analytics.issues (tenant_id, issue_key, issue_type, priority, created_at) VALUES
             ('la', 'LA-1', 'Bug', 'High', '2026-10-03'), ('la', 'LA-2', 'Bug', 'Low', '2026-10-04'), ('lb', 'LB-1', 'Bug', 'High', '2026-10-04')",
        );
        set_tenant(Some("la"));
    }

    fn use_provider(provider: &str, base: &str) {
        Spi::run_with_args(
            "SELECT set_config('analytics.llm_provider', $1, true), set_config('analytics.llm_base_url', $2, true)",
            &[provider.into(), base.into()],
        )
        .unwrap();
    }

    fn ask(q: &str) -> Value {
        serde_json::from_str(&text(&format!("SELECT analytics.analytics_ask('{q}')::text")).unwrap()).unwrap()
    }

    #[pg_test]
    fn a_model_answer_is_validated_and_run() {
        seed();
        let bad = VALID.replace("bug_count", "bug_cnt");
        let (base, seen) = serve(vec![Reply::new(200, openai_body(&bad)), Reply::new(200, openai_body(VALID))]).unwrap();
        use_provider("openai_compatible", &base);
        let a = ask("bugs by priority");
        assert_eq!(a["status"], "answered", "{a}");
        assert_eq!(
            (a["provider"].as_str(), a["model"].as_str(), a["attempts"].as_u64()),
            (Some("openai_compatible"), Some("mock-model"), Some(2)),
            "{a}"
        );
        assert_eq!(a["rows"], json!([{"priority": "High", "bug_count": 1}, {"priority": "Low", "bug_count": 1}]));
        assert_eq!(a["tenant_id"], "la");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].path, "/chat/completions");
        let feedback = seen[1].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
        assert!(feedback.contains("unknown metric \"bug_cnt\""), "{feedback}");
        // The prompt carries the tenant's own values, not another tenant's.
        let system = seen[0].body["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("\"LA-") || system.contains("\"High\""), "values in the prompt");
        assert!(!system.contains("LB-1"));
    }

    #[pg_test]
    fn three_bad_answers_fail_with_each_attempt_in_detail() {
        seed();
        let tenant_filter = VALID.replace(r#""filters": []"#, r#""filters": [{"field": "tenant_id", "operator": "eq", "value": "lb"}]"#);
        let sql = VALID.replace(r#""limit": null"#, r#""limit": null, "sql": "SELECT * FROM analytics.issues""#);
        let (base, _) = serve(vec![
            Reply::new(200, openai_body(&tenant_filter)),
            Reply::new(200, openai_body("I think you mean bugs.")),
            Reply::new(200, openai_body(&sql)),
        ])
        .unwrap();
        use_provider("openai_compatible", &base);
        let e = error_of("SELECT analytics.analytics_ask('bugs by priority')");
        assert!(e.starts_with("22000 | the openai_compatible model did not produce a valid spec in 3 attempts"), "{e}");
        assert!(
            e.contains("attempt 1: $.filters[0].field")
                && e.contains("attempt 2: the answer is not JSON")
                && e.contains("attempt 3: $.sql: unknown key"),
            "{e}"
        );
    }

    #[pg_test]
    fn an_unreachable_provider_falls_back_or_fails() {
        seed();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        use_provider("ollama", &format!("http://127.0.0.1:{port}"));
        let a = ask("bugs by priority");
        assert_eq!(a["status"], "answered", "{a}");
        assert_eq!(a["provider"], "builtin");
        assert!(a["fallback_reason"].as_str().unwrap().contains("ollama provider"), "{a}");
        exec("SET LOCAL analytics.llm_fallback = 'none'");
        let e = error_of("SELECT analytics.analytics_ask('bugs by priority')");
        assert!(e.starts_with("08000 | the ollama provider at http://127.0.0.1:"), "{e}");
        assert!(e.contains("analytics.llm_fallback"), "{e}");
    }

    #[pg_test]
    fn the_api_key_is_superuser_only_and_never_shown() {
        seed();
        let (base, seen) =
            serve(vec![Reply::new(401, r#"{"error": {"message": "Incorrect API key provided: sk-secret-4242."}}"#)]).unwrap();
        use_provider("openai", &base);
        exec("SET LOCAL analytics.llm_api_key = 'sk-secret-4242'");
        exec("SET LOCAL analytics.llm_fallback = 'none'");
        let e = error_of("SELECT analytics.analytics_ask('bugs by priority')");
        assert!(e.starts_with("08000") && e.contains("HTTP 401") && !e.contains("sk-secret-4242"), "{e}");
        assert_eq!(seen.lock().unwrap()[0].header("authorization"), Some("Bearer sk-secret-4242"));
        // Not in pg_settings, and a non-superuser can neither read nor set it.
        assert_eq!(int("SELECT count(*) FROM pg_settings WHERE name = 'analytics.llm_api_key'"), 0);
        install_sqlstate_helper();
        exec("CREATE ROLE llm_plain_user");
        exec("SET LOCAL ROLE llm_plain_user");
        assert_eq!(sqlstate_of("SELECT current_setting('analytics.llm_api_key')").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("SET analytics.llm_api_key = 'x'").as_deref(), Some("42501"));
        assert_eq!(sqlstate_of("SET analytics.llm_base_url = 'http://example.com'").as_deref(), Some("42501"));
        exec("RESET ROLE");
    }

    #[pg_test]
    fn missing_configuration_is_explained() {
        seed();
        install_sqlstate_helper();
        exec("SET LOCAL analytics.llm_provider = 'openai_compatible'");
        let e = error_of("SELECT analytics.analytics_ask('bugs')");
        assert!(e.starts_with("22023 | the openai_compatible provider needs a base URL"), "{e}");
        let e = error_of(r#"SELECT analytics.analytics_ask('bugs', '{"provider": "anthropic"}')"#);
        assert!(e.starts_with("22023 | the anthropic provider needs an API key") && e.contains("ANTHROPIC_API_KEY"), "{e}");
    }
    #[pg_test]
    fn hybrid_asks_the_model_only_what_the_builtin_translator_cannot_answer() {
        seed();
        let asks_back = openai_body(r#"{"clarification": "I cannot tell what glorped means"}"#);
        // A spec that reads the unknown word (by status, not the builtin translator's by priority).
        let by_status = VALID.replace("\"priority\"", "\"status\"");
        let replies = vec![Reply::new(200, openai_body(&by_status)), Reply::new(200, openai_body(VALID)), Reply::new(200, asks_back)];
        let (base, seen) = serve(replies).unwrap();
        use_provider("openai_compatible", &base);
        exec("SELECT set_config('analytics.ask_mode', 'hybrid', true)");
        // The builtin translator answers: no request is made.
        let a = ask("bugs by priority");
        assert_eq!(
            (a["status"].as_str(), a["provider"].as_str(), a["path"].as_str()),
            (Some("answered"), Some("builtin"), Some("builtin")),
            "{a}"
        );
        assert_eq!(seen.lock().unwrap().len(), 0);
        // It read the whole question and asks back (a command, a vague question): no model either.
        for q in ["delete all bugs", "how is the team doing"] {
            let a = ask(q);
            assert_eq!((a["status"].as_str(), a["path"].as_str()), (Some("clarification_needed"), Some("builtin")), "{a}");
        }
        assert_eq!(seen.lock().unwrap().len(), 0);
        // It would ask back: the model is asked, with what the builtin translator read.
        let a = ask("bugs by priority, frobnicated");
        assert_eq!(
            (a["status"].as_str(), a["provider"].as_str(), a["path"].as_str()),
            (Some("answered"), Some("openai_compatible"), Some("model")),
            "{a}"
        );
        assert!(a["builtin_reason"].as_str().is_some_and(|r| r.contains("frobnicated")), "{a}");
        assert_eq!(seen.lock().unwrap().len(), 1);
        // The model's first spec is the question without its unknown word, a reading the builtin
        // translator declined: sent back. Then the model asks back too: the builtin translator's
        // clarification, with its candidates, stands.
        let a = ask("bugs by priority, glorped");
        assert_eq!((a["status"].as_str(), a["path"].as_str()), (Some("clarification_needed"), Some("builtin")), "{a}");
        assert!(a["clarification"]["reason"].as_str().is_some_and(|r| r.contains("glorped")), "{a}");
        assert!(a["clarification"]["candidates"].as_array().is_some_and(|c| !c.is_empty()), "{a}");
        assert!(a["model_note"].as_str().is_some_and(|n| n.contains("asked back")), "{a}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        let feedback = seen[2].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
        assert!(feedback.contains("that spec ignores \"glorped\""), "{feedback}");
        let user = seen[0].body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "user").unwrap()["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            user.contains("Question: bugs by priority, frobnicated") && user.contains("rule-based reader") && user.contains("bug_count"),
            "{user}"
        );
        // Per call, and a bad mode is refused with a hint.
        let a: Value = serde_json::from_str(
            &text("SELECT analytics.analytics_ask('bugs by priority', '{\"mode\": \"single\", \"provider\": \"builtin\"}')::text").unwrap(),
        )
        .unwrap();
        assert_eq!(a["path"], "builtin");
        let e = error_of(r#"SELECT analytics.analytics_ask('bugs', '{"mode": "both"}')"#);
        assert!(e.starts_with("22023 | unknown mode \"both\"") && e.contains("analytics.ask_mode"), "{e}");
    }
}
