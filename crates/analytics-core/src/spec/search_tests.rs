//! Similar-issue search: filters in the spec's language, the SQL of each mode, nothing of the user's
//! text in it.

use super::search::*;
use crate::catalog::params::Bound;
use crate::catalog::{builtin, MetricDef};
use serde_json::{json, Value};

fn catalog() -> Vec<MetricDef> {
    builtin::metrics().unwrap()
}

const VECTORS: Vectors<'static> = Vectors { schema: "public", model: "all-MiniLM-L6-v2", dims: 384 };

fn search(mode: Mode, text: &'static str) -> Search<'static> {
    Search { mode, k: 10, text, vector: Some("[0.5,0.25]"), min_score: 0.3, exclude_issue_id: None }
}

fn sql(filters: Value, s: &Search) -> super::Compiled {
    let f = parse_filters(&filters, &catalog()).unwrap_or_else(|e| panic!("{filters}: {e:#?}"));
    compile(&f, &catalog(), "acme", s, Some(&VECTORS)).unwrap()
}

#[test]
fn each_mode_reads_its_index_and_binds_every_value() {
    let hostile = "login'; DROP TABLE analytics.issues; --";
    for mode in [Mode::Semantic, Mode::Lexical, Mode::Hybrid] {
        let c = sql(json!([{"field": "priority", "operator": "eq", "value": "High'--"}]), &search(mode, hostile));
        assert!(!c.sql.contains("DROP") && !c.sql.contains("High'"), "{}", c.sql);
        assert!(c.params.contains(&Bound::Text(hostile.into())), "{mode:?}");
        assert_eq!(c.params[0], Bound::Text("acme".into()));
        assert!(c.sql.contains("f.priority = $"), "{}", c.sql);
        let cols: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, ["issue_key", "summary", "status", "score"]);
        // The cast and the model filter the partial HNSW index needs; pgvector's names qualified.
        let semantic = c.sql.contains("ORDER BY (e.embedding::\"public\".vector(384) OPERATOR(\"public\".<=>) ($");
        assert_eq!(semantic, mode != Mode::Lexical, "{mode:?}: {}", c.sql);
        assert_eq!(c.sql.contains("e.model = 'all-MiniLM-L6-v2'"), mode != Mode::Lexical);
        // The full-text expression of issues_fts_idx, with any of the words.
        let lexical = c.sql.contains(
            "pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, coalesce(f.summary, '') || ' ' || coalesce(f.description, '')) @@ words.q",
        );
        assert_eq!(lexical, mode != Mode::Semantic, "{mode:?}: {}", c.sql);
        assert!(!c.sql.contains(" <=> "), "no unqualified operator: {}", c.sql);
    }
}

#[test]
fn hybrid_fuses_by_score_and_gates_by_similarity() {
    let c = sql(json!({}), &search(Mode::Hybrid, "flaky ci"));
    assert!(c.sql.contains("FULL JOIN"), "{}", c.sql);
    assert!(c.sql.contains("0.8 * coalesce(1 - s.dist, 0) + 0.2 * coalesce(l.rank, 0) AS fused"), "{}", c.sql);
    // Each ranking brings 50 candidates for a top 10.
    assert!(c.params.contains(&Bound::Integer(50)) && c.params.contains(&Bound::Integer(10)));
    assert!(c.params.contains(&Bound::Text("0.3".into())));
    // The issues table only: no filter reads issue_facts.
    assert!(!c.sql.contains("issue_facts"), "{}", c.sql);
}

#[test]
fn metric_filters_read_issue_facts_and_an_issue_can_be_left_out() {
    let mut s = search(Mode::Semantic, "");
    s.exclude_issue_id = Some(42);
    let c = sql(json!([{"metric": "reopened_count"}]), &s);
    assert!(c.sql.contains("JOIN analytics.issue_facts AS f ON f.tenant_id = d.tenant_id AND f.id = d.id"), "{}", c.sql);
    assert!(c.sql.contains("d.id <> $"), "{}", c.sql);
    assert!(c.params.contains(&Bound::Text("42".into())));
}

#[test]
fn filters_are_checked_with_the_specs_paths() {
    let bad = parse_filters(&json!([{"field": "priorty", "operator": "eq", "value": "High"}]), &catalog()).unwrap_err();
    assert_eq!(bad[0].path, "$.filters[0].field", "{bad:#?}");
    assert!(bad[0].suggestions.contains(&"priority".to_string()), "{bad:#?}");
    let not_a_list = parse_filters(&json!("priority = High"), &catalog()).unwrap_err();
    assert_eq!(not_a_list[0].path, "$.filters", "{not_a_list:#?}");
    assert!(parse_filters(&Value::Null, &catalog()).is_ok());
}

#[test]
fn a_semantic_search_needs_a_vector() {
    let f = parse_filters(&json!([]), &catalog()).unwrap();
    let mut s = search(Mode::Semantic, "x");
    s.vector = None;
    assert!(compile(&f, &catalog(), "acme", &s, Some(&VECTORS)).is_err());
    assert!(compile(&f, &catalog(), "acme", &search(Mode::Hybrid, "x"), None).is_err());
    assert!(compile(&f, &catalog(), "acme", &search(Mode::Lexical, "x"), None).is_ok());
}

#[test]
fn documents_and_vectors_have_one_text_form() {
    assert_eq!(
        document_sql("i"),
        r"pg_catalog.concat_ws(E'\n', NULLIF(pg_catalog.btrim(i.summary, E' \t\r\n'), ''), NULLIF(pg_catalog.btrim(i.description, E' \t\r\n'), ''))"
    );
    assert_eq!(vector_text(&[0.5, -1.0, 1e-8]), "[0.5,-1,0.00000001]");
}

fn resolved() -> super::model::Resolved {
    super::model::Resolved { schema: "public".into(), model: "all-MiniLM-L6-v2".into(), dims: 384, vector: "[0.5,0.25]".into() }
}

#[test]
fn similar_to_restricts_aggregates_and_lists_to_the_nearest_issues() {
    let spec = json!({"metrics": ["reopen_rate"], "similar_to": {"text": "login timeouts", "k": 50}});
    let mut parsed = super::parse(&spec, &catalog()).unwrap();
    let s = parsed.similar_to.clone().unwrap();
    assert_eq!((s.text.as_str(), s.k, s.min_score), ("login timeouts", 50, 0.3));
    // Part of the canonical form and the hash; a spec without it keeps its hash.
    assert_eq!(parsed.canonical()["similar_to"], json!({"text": "login timeouts", "k": 50, "min_score": 0.3}));
    let plain = super::parse(&json!({"metrics": ["reopen_rate"]}), &catalog()).unwrap();
    assert!(plain.canonical().get("similar_to").is_none());
    assert_ne!(parsed.hash(), plain.hash());
    // Compiling needs the text's embedding.
    assert!(super::compile(&parsed, &catalog(), "acme").is_err());
    parsed.similar_to.as_mut().unwrap().resolved = Some(resolved());
    let c = super::compile(&parsed, &catalog(), "acme").unwrap();
    assert!(
        c.sql.contains("f.id IN (SELECT n.issue_id FROM (SELECT e.issue_id, (e.embedding::\"public\".vector(384) OPERATOR(\"public\".<=>)"),
        "{}",
        c.sql
    );
    assert!(c.sql.contains("e.model = 'all-MiniLM-L6-v2'") && c.sql.contains("e.tenant_id = $1"), "{}", c.sql);
    assert!(c.params.contains(&Bound::Text("[0.5,0.25]".into())) && c.params.contains(&Bound::Integer(50)));
    assert!(!c.sql.contains("login"), "the text is never in the SQL");
    // A list.
    let mut list =
        super::parse(&json!({"fields": ["key", "summary"], "similar_to": {"text": "flaky ci", "min_score": 0.5}}), &catalog()).unwrap();
    list.similar_to.as_mut().unwrap().resolved = Some(resolved());
    let c = super::compile(&list, &catalog(), "acme").unwrap();
    assert!(c.sql.contains("f.id IN (SELECT n.issue_id"), "{}", c.sql);
    assert!(c.params.contains(&Bound::Text("0.5".into())) && c.params.contains(&Bound::Integer(200)));
}

#[test]
fn similar_to_mistakes_have_paths() {
    let codes = |v: Value| -> Vec<(String, &'static str)> {
        super::parse(&v, &catalog()).expect_err(&format!("{v}")).into_iter().map(|e| (e.path, e.code)).collect()
    };
    assert_eq!(codes(json!({"metrics": ["closed"], "similar_to": "login"})), [("$.similar_to".to_string(), "wrong_type")]);
    assert_eq!(codes(json!({"metrics": ["closed"], "similar_to": {"k": 5}})), [("$.similar_to.text".to_string(), "missing")]);
    assert_eq!(codes(json!({"metrics": ["closed"], "similar_to": {"text": " "}})), [("$.similar_to.text".to_string(), "invalid_value")]);
    assert_eq!(
        codes(json!({"metrics": ["closed"], "similar_to": {"text": "x", "k": 0}})),
        [("$.similar_to.k".to_string(), "out_of_range")]
    );
    assert_eq!(
        codes(json!({"metrics": ["closed"], "similar_to": {"text": "x", "min_score": 3}})),
        [("$.similar_to.min_score".to_string(), "out_of_range")]
    );
    assert_eq!(codes(json!({"metrics": ["closed"], "similar_to": {"text": "x", "kk": 3}}))[0].0, "$.similar_to.kk");
    assert_eq!(codes(json!({"metrics": ["velocity"], "similar_to": {"text": "x"}})), [("$.similar_to".to_string(), "invalid_for_entity")]);
}
