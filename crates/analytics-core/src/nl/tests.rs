use super::*;
use crate::catalog::builtin;

pub fn values() -> BTreeMap<String, Vec<String>> {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    BTreeMap::from([
        ("issue_type".to_string(), v(&["Story", "Bug", "Task", "Spike", "Epic"])),
        ("priority".to_string(), v(&["Highest", "High", "Medium", "Low", "Lowest"])),
        ("status".to_string(), v(&["To Do", "In Progress", "Blocked", "In Review", "QA", "Done"])),
        ("project".to_string(), v(&["PAY", "WEB", "API"])),
        ("board".to_string(), v(&["Payments team", "Web team", "Platform API team"])),
        ("assignee".to_string(), v(&["alice.ng", "bob.stone", "carol.diaz", "dan.okafor"])),
        ("label".to_string(), v(&["tech-debt", "frontend", "backend", "security", "performance"])),
        ("component".to_string(), v(&["backend", "frontend", "database", "api", "mobile"])),
    ])
}

fn ctx_translate(q: &str) -> Translation {
    let catalog = builtin::metrics().unwrap();
    let values = values();
    let ctx = Context { catalog: &catalog, values: &values, today: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap() };
    translate(q, &ctx)
}

fn spec_of(q: &str) -> Value {
    match ctx_translate(q) {
        Translation::Spec(s) => s,
        Translation::Clarify(c) => panic!("{q}: clarification {c:?}"),
    }
}

#[test]
fn headline_questions() {
    assert_eq!(
        spec_of("what was our velocity over the last 6 sprints by board?"),
        json!({"entity": "sprint", "metrics": ["velocity"], "group_by": ["board"], "date_range": {"last_sprints": 6}})
    );
    assert_eq!(
        spec_of("which sprints spilled over most last quarter?"),
        json!({"entity": "sprint", "metrics": ["spillover_ratio"], "group_by": ["sprint"], "date_range": {"from": "2026-07-01", "to": "2026-10-01"},
               "sort_by": [{"field": "spillover_ratio", "direction": "desc"}], "limit": 10})
    );
    assert_eq!(
        spec_of("median lead time of bugs by priority in 2025"),
        json!({"entity": "issue", "metrics": ["lead_time_p50"], "group_by": ["priority"], "filters": [{"field": "issue_type", "operator": "eq", "value": "Bug"}],
               "date_range": {"from": "2025-01-01", "to": "2026-01-01"}})
    );
}

/// The evaluation set in tests/nl/cases.json.
pub fn eval_set() -> (NaiveDate, BTreeMap<String, Vec<String>>, Vec<eval::Case>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/nl/cases.json")).expect("tests/nl/cases.json");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    let today = NaiveDate::parse_from_str(v["today"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let values = serde_json::from_value(v["values"].clone()).unwrap();
    let cases = serde_json::from_value(v["cases"].clone()).unwrap();
    (today, values, cases)
}

#[test]
fn evaluation_set_accuracy() {
    let catalog = builtin::metrics().unwrap();
    let (today, values, cases) = eval_set();
    assert!(cases.len() >= 80, "the set must have at least 80 questions");
    for c in &cases {
        if let Some(s) = &c.spec {
            assert!(parse(s, &catalog).is_ok(), "expected spec of {:?} is not valid: {:?}", c.question, parse(s, &catalog).err());
        }
    }
    let report = eval::run(&cases, &Context { catalog: &catalog, values: &values, today });
    for r in &report.results {
        if !matches!(r.outcome, eval::Outcome::Correct | eval::Outcome::ClarifiedAsExpected) {
            eprintln!("{:?}: {} -- {}", r.outcome, r.question, r.detail.clone().unwrap_or_default());
        }
    }
    eprintln!("accuracy {:.3} ({} of {}), clarified {}, wrong {}", report.accuracy, report.correct, report.cases, report.clarified, report.wrong);
    assert_eq!(report.wrong, 0, "a wrong answer is worse than a question back");
    assert!(report.accuracy >= 0.9, "accuracy {:.3} is below the 0.9 goal", report.accuracy);
}

/// `NLQ="question" cargo test -p analytics-core show_translation -- --ignored --nocapture`
#[test]
#[ignore]
fn show_translation() {
    let q = std::env::var("NLQ").unwrap_or_default();
    let catalog = builtin::metrics().unwrap();
    let (today, values, _) = eval_set();
    let ctx = Context { catalog: &catalog, values: &values, today };
    let text = reader::normalize(&q);
    let rest = match period::find(&text, today) {
        Some((p, r)) => {
            eprintln!("period {p:?}");
            format!("{} , {}", &text[..r.start], &text[r.end..])
        }
        None => text.clone(),
    };
    let r = reader::read(&rest, &catalog, &values);
    eprintln!("words {:?}\nfound {:#?}\nunknown {:?}", r.words, r.found.iter().map(|f| (f.at.clone(), f.item.clone())).collect::<Vec<_>>(), r.unknown);
    eprintln!("{:#?}", translate(&q, &ctx));
}
