//! Semantic search with a remote embedding provider, against the scripted server on 127.0.0.1
//! (analytics_core's mock): issues are embedded through openai_compatible / ollama and stored as
//! provider:model; searches embed the query the same way; answers of other dimensions than the stored
//! ones are refused (22000); an unreachable or failing provider is 08000 with the key never shown; the
//! key and base URL are superuser-only.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use analytics_core::llm::mock::{serve, Reply};
    use pgrx::prelude::*;
    use serde_json::json;

    /// Three issues of tenant `er` whose embeddings the server will give, one per text: a, b, c.
    fn seed() {
        set_tenant(Some("er"));
        exec(
            "INSERT INTO analytics.issues (tenant_id, issue_key, summary, created_at) VALUES
             ('er', 'ER-1', 'alpha', '2026-01-01'), ('er', 'ER-2', 'beta', '2026-01-01'), ('er', 'ER-3', 'gamma', '2026-01-01')",
        );
    }

    fn openai(vectors: &[Vec<f32>]) -> Reply {
        let data: Vec<_> = vectors.iter().enumerate().map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v})).collect();
        Reply::new(200, json!({"object": "list", "data": data, "model": "mini"}).to_string())
    }

    fn use_provider(provider: &str, base: &str) {
        Spi::run_with_args(
            "SELECT set_config('analytics.embedding_provider', $1, true), set_config('analytics.embedding_base_url', $2, true)",
            &[provider.into(), base.into()],
        )
        .unwrap();
    }

    #[pg_test]
    fn a_remote_provider_embeds_and_searches_under_its_own_name() {
        seed();
        // The issues in id order: alpha, beta, gamma; then the query, closest to beta.
        let (base, seen) = serve(vec![
            openai(&[vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0, 0.0]]),
            openai(&[vec![0.1, 0.9, 0.0, 0.1]]),
        ])
        .unwrap();
        use_provider("openai_compatible", &format!("{base}/v1"));
        exec("SELECT set_config('analytics.embedding_model', 'mini', true)");
        assert_eq!(int("SELECT analytics.analytics_embed_issues()"), 3);
        assert_eq!(
            int("SELECT count(*) FROM analytics.issue_embeddings WHERE model = 'openai_compatible:mini' AND vector_dims(embedding) = 4"),
            3
        );
        let top = text("SELECT issue_key FROM analytics.analytics_similar_issues('second letter', 1, mode => 'semantic')");
        assert_eq!(top.as_deref(), Some("ER-2"));
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].path, "/v1/embeddings");
        assert_eq!(seen[0].body["input"], json!(["alpha", "beta", "gamma"]));
        assert_eq!(seen[1].body["input"], json!(["second letter"]));
        assert_eq!(seen[0].header("authorization"), None, "no key was set, none is sent");
        // The builtin model's embeddings are another model's: none of them was written.
        assert_eq!(int("SELECT count(*) FROM analytics.issue_embeddings WHERE model = 'all-MiniLM-L6-v2'"), 0);
    }

    #[pg_test]
    fn ollama_and_answers_of_the_wrong_length() {
        seed();
        let (base, seen) = serve(vec![
            Reply::new(200, json!({"embeddings": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]}).to_string()),
            // A query embedding of 3 dimensions where the stored ones have 2.
            Reply::new(200, json!({"embeddings": [[1.0, 0.0, 0.0]]}).to_string()),
            // Two vectors for one text.
            Reply::new(200, json!({"embeddings": [[1.0, 0.0], [0.0, 1.0]]}).to_string()),
        ])
        .unwrap();
        use_provider("ollama", &base);
        assert_eq!(int("SELECT analytics.analytics_embed_issues()"), 3);
        assert_eq!(seen.lock().unwrap()[0].path, "/api/embed");
        assert_eq!(int("SELECT count(*) FROM analytics.issue_embeddings WHERE model = 'ollama:all-minilm'"), 3);
        let e = error_of("SELECT * FROM analytics.analytics_similar_issues('x', 3, mode => 'semantic')");
        assert!(
            e.starts_with("22000") && e.contains("3 dimensions") && e.contains("have 2") && e.contains("analytics.embedding_model"),
            "{e}"
        );
        let e = error_of("SELECT * FROM analytics.analytics_similar_issues('x', 3, mode => 'semantic')");
        assert!(e.starts_with("08000") && e.contains("2 vectors for 1 texts"), "{e}");
    }

    #[pg_test]
    fn failures_are_08000_and_the_key_is_never_shown() {
        seed();
        let mut busy = Reply::new(503, r#"{"error": {"message": "overloaded"}}"#);
        busy.headers.push(("Retry-After".into(), "0".into()));
        let (base, seen) = serve(vec![
            Reply::new(401, r#"{"error": {"message": "Incorrect API key provided: sk-embed-4242."}}"#),
            busy.clone(),
            busy.clone(),
            busy,
        ])
        .unwrap();
        use_provider("openai", &format!("{base}/v1"));
        exec("SET LOCAL analytics.embedding_api_key = 'sk-embed-4242'");
        let e = error_of("SELECT analytics.analytics_embed_issues()");
        assert!(
            e.starts_with("08000") && e.contains("HTTP 401") && !e.contains("sk-embed-4242") && e.contains("analytics.embedding_base_url"),
            "{e}"
        );
        assert_eq!(seen.lock().unwrap()[0].header("authorization"), Some("Bearer sk-embed-4242"));
        let e = error_of("SELECT analytics.analytics_embed_issues()");
        assert!(e.starts_with("08000") && e.contains("HTTP 503"), "{e}");
        assert_eq!(seen.lock().unwrap().len(), 4, "a 503 is tried 3 times");
        assert_eq!(int("SELECT count(*) FROM analytics.issue_embeddings"), 0, "nothing written");
        // Nobody listens there any more.
        let e = error_of("SELECT analytics.analytics_embed_issues()");
        assert!(e.starts_with("08000") && e.contains("unavailable"), "{e}");
        // Lexical search needs no provider.
        assert_eq!(int("SELECT count(*) FROM analytics.analytics_similar_issues('alpha', 3, mode => 'lexical')"), 1);
        // Superuser-only: the key (never shown), the base URL and the model.
        assert_eq!(int("SELECT count(*) FROM pg_settings WHERE name = 'analytics.embedding_api_key'"), 0);
        install_sqlstate_helper();
        exec("CREATE ROLE er_plain_user");
        exec("SET LOCAL ROLE er_plain_user");
        assert_eq!(sqlstate_of("SELECT current_setting('analytics.embedding_api_key')").as_deref(), Some("42501"));
        for setting in ["embedding_api_key", "embedding_base_url", "embedding_model"] {
            assert_eq!(sqlstate_of(&format!("SET analytics.{setting} = 'x'")).as_deref(), Some("42501"), "{setting}");
        }
        exec("RESET ROLE");
        // openai_compatible needs a base URL.
        exec("SELECT set_config('analytics.embedding_provider', 'openai_compatible', true), set_config('analytics.embedding_base_url', '', true)");
        let e = error_of("SELECT analytics.analytics_embed_issues()");
        assert!(e.starts_with("22023") && e.contains("needs a base URL"), "{e}");
    }
}
