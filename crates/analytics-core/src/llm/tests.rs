//! The validate-and-retry loop and the wire formats, against a scripted transport. Real HTTP (a mock
//! server on 127.0.0.1) is tested in `tests/llm_http.rs`.

use super::http::{HttpResponse, Transport, TransportError};
use super::wire::Request;
use super::*;
use crate::catalog::{builtin, Aggregation};
use crate::nl::Context;
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

struct Script {
    answers: RefCell<VecDeque<Result<HttpResponse, TransportError>>>,
    requests: RefCell<Vec<Request>>,
    slept: RefCell<Vec<Duration>>,
}

impl Script {
    fn new(answers: Vec<Result<HttpResponse, TransportError>>) -> Self {
        Script { answers: RefCell::new(answers.into()), requests: RefCell::new(vec![]), slept: RefCell::new(vec![]) }
    }
}

impl Transport for Script {
    fn post(&self, req: &Request, _timeout: Duration) -> Result<HttpResponse, TransportError> {
        self.requests.borrow_mut().push(req.clone());
        self.answers.borrow_mut().pop_front().unwrap_or(Err(TransportError::Other("script exhausted".into())))
    }
    fn sleep(&self, d: Duration) {
        self.slept.borrow_mut().push(d);
    }
}

fn ok(body: Value) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status: 200, retry_after: None, body: body.to_string() })
}

fn status(code: u16, retry_after: Option<f64>, body: &str) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status: code, retry_after, body: body.to_string() })
}

fn openai(content: &str) -> Result<HttpResponse, TransportError> {
    ok(json!({"model": "gpt-4o-mini-2024", "choices": [{"message": {"role": "assistant", "content": content}}]}))
}

const VALID: &str = r#"{"entity": "sprint", "metrics": [{"name": "velocity", "aggregation": null}], "group_by": [{"field": "board", "interval": null}], "filters": [], "date_range": {"last_sprints": 6}, "sort_by": [], "limit": null, "clarification": null}"#;

fn cfg(p: Provider) -> Config {
    Config::new(p, None, Some("http://127.0.0.1:9".into()), Some("sk-test-123456".into()), Duration::from_secs(5)).unwrap()
}

fn run(p: Provider, answers: Vec<Result<HttpResponse, TransportError>>) -> (Result<Answer, LlmError>, Script) {
    let catalog = builtin::metrics().unwrap();
    let values = BTreeMap::from([("board".to_string(), vec!["Payments team".to_string()])]);
    let ctx = Context::new(&catalog, &values, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
    let script = Script::new(answers);
    let r = translate("velocity by board over the last 6 sprints", &cfg(p), &ctx, &script);
    (r, script)
}

fn spec_of(r: &Result<Answer, LlmError>) -> Value {
    match r {
        Ok(Answer { translation: Translation::Spec(s), .. }) => s.clone(),
        other => panic!("expected a spec: {other:?}"),
    }
}

#[test]
fn a_valid_answer_is_a_spec_after_one_attempt() {
    let (r, s) = run(Provider::OpenAi, vec![openai(VALID)]);
    assert_eq!(
        spec_of(&r),
        json!({"entity": "sprint", "metrics": [{"name": "velocity"}], "group_by": [{"field": "board"}], "filters": [], "date_range": {"last_sprints": 6}, "sort_by": []})
    );
    let a = r.unwrap();
    assert_eq!((a.attempts, a.model.as_str()), (1, "gpt-4o-mini-2024"));
    let req = &s.requests.borrow()[0];
    assert_eq!(req.url, "http://127.0.0.1:9/chat/completions");
    assert!(req.headers.contains(&("Authorization".into(), "Bearer sk-test-123456".into())));
    assert_eq!(req.body["model"], "gpt-4o-mini");
    assert_eq!(req.body["response_format"]["type"], "json_schema");
    assert_eq!(req.body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(req.body["max_completion_tokens"], wire::MAX_TOKENS);
    let items = req.body["response_format"]["json_schema"]["schema"]["properties"]["metrics"]["items"].to_string();
    assert!(items.contains("\"velocity\""), "{items}");
    assert_eq!(req.body["messages"][0]["role"], "system");
    assert_eq!(req.body["messages"][1]["role"], "user");
    let turn = req.body["messages"][1]["content"].as_str().unwrap();
    assert!(
        turn.starts_with("Examples of similar questions:\nQ: ")
            && turn.ends_with("\n\nQuestion: velocity by board over the last 6 sprints"),
        "{turn}"
    );
}

#[test]
fn an_invalid_answer_is_sent_back_and_the_second_counts() {
    let bad = VALID.replace("velocity", "velocty");
    let (r, s) = run(Provider::OpenAi, vec![openai(&bad), openai(VALID)]);
    assert_eq!(r.as_ref().unwrap().attempts, 2);
    let second = &s.requests.borrow()[1];
    let msgs = second.body["messages"].as_array().unwrap();
    assert_eq!(msgs[2]["role"], "assistant");
    assert!(msgs[3]["content"].as_str().unwrap().contains("unknown metric \"velocty\""), "{}", msgs[3]);
}

#[test]
fn three_invalid_answers_are_an_error_listing_each_attempt() {
    let bad = VALID.replace("velocity", "velocty");
    let (r, _) = run(Provider::OpenAi, vec![openai(&bad), openai("Sure! Velocity is points per sprint."), openai(&bad)]);
    match r {
        Err(LlmError::InvalidOutput(p)) => {
            assert_eq!(p.len(), 3, "{p:?}");
            assert!(p[0].starts_with("attempt 1:") && p[0].contains("velocty"), "{p:?}");
            assert!(p[1].contains("not JSON"), "{p:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn prose_around_json_and_fenced_json_are_read() {
    let (r, _) = run(Provider::OpenAi, vec![openai(&format!("Here you go:\n```json\n{VALID}\n```"))]);
    assert_eq!(r.unwrap().attempts, 1);
}

#[test]
fn server_errors_and_rate_limits_are_retried_with_backoff() {
    let (r, s) = run(
        Provider::OpenAi,
        vec![status(500, None, "{}"), status(429, Some(2.0), r#"{"error": {"message": "slow down"}}"#), openai(VALID)],
    );
    assert_eq!(r.unwrap().attempts, 1);
    assert_eq!(s.requests.borrow().len(), 3);
    assert_eq!(*s.slept.borrow(), vec![Duration::from_millis(250), Duration::from_secs(2)]);
    // Three failures in a row: unavailable, with the provider's message.
    let (r, _) = run(
        Provider::OpenAi,
        vec![status(503, None, "{}"), status(503, None, "{}"), status(503, None, r#"{"error": {"message": "overloaded"}}"#)],
    );
    match r {
        Err(LlmError::Unavailable { message, .. }) => assert!(message.contains("HTTP 503") && message.contains("overloaded"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_key_never_appears_in_errors() {
    let (r, _) = run(Provider::OpenAi, vec![status(401, None, r#"{"error": {"message": "Incorrect API key provided: sk-test-123456."}}"#)]);
    match r {
        Err(LlmError::Unavailable { message, .. }) => {
            assert!(message.contains("HTTP 401") && message.contains("[redacted]") && !message.contains("sk-test-123456"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let (r, _) = run(Provider::OpenAi, vec![Err(TransportError::Connect("refused".into()))]);
    assert!(matches!(r, Err(LlmError::Unavailable { .. })));
}

#[test]
fn answers_that_reach_for_the_tenant_or_sql_are_refused() {
    let tenant = VALID.replace(r#""filters": []"#, r#""filters": [{"field": "tenant_id", "operator": "eq", "value": "globex"}]"#);
    let sql = VALID.replace(r#""limit": null"#, r#""limit": null, "sql": "SELECT * FROM analytics.issues""#);
    let (r, _) = run(Provider::OpenAi, vec![openai(&tenant), openai(&sql), openai(&tenant)]);
    match r {
        Err(LlmError::InvalidOutput(p)) => {
            assert!(p[0].contains("filters[0].field") && p[0].contains("tenant"), "{p:?}");
            assert!(p[1].contains("unknown key \"sql\""), "{p:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_model_may_ask_back() {
    let (r, _) = run(
        Provider::OpenAi,
        vec![openai(
            r#"{"entity": null, "metrics": [], "group_by": [], "filters": [], "date_range": null, "sort_by": [], "limit": null, "clarification": "Not about this data."}"#,
        )],
    );
    match r.unwrap().translation {
        Translation::Clarify(c) => assert_eq!(c.reason, "Not about this data."),
        other => panic!("{other:?}"),
    }
}

#[test]
fn anthropic_uses_a_forced_tool_and_returns_problems_as_tool_results() {
    let tool = |input: Value| {
        ok(json!({"model": "claude-x", "content": [{"type": "tool_use", "id": "toolu_1", "name": "answer_with_spec", "input": input}]}))
    };
    let bad: Value = serde_json::from_str(&VALID.replace("velocity", "velocty")).unwrap();
    let good: Value = serde_json::from_str(VALID).unwrap();
    let (r, s) = run(Provider::Anthropic, vec![tool(bad), tool(good)]);
    assert_eq!(r.unwrap().attempts, 2);
    let reqs = s.requests.borrow();
    assert_eq!(reqs[0].url, "http://127.0.0.1:9/v1/messages");
    assert!(reqs[0].headers.contains(&("x-api-key".into(), "sk-test-123456".into())));
    assert!(reqs[0].headers.contains(&("anthropic-version".into(), "2023-06-01".into())));
    assert_eq!(reqs[0].body["tool_choice"], json!({"type": "tool", "name": "answer_with_spec"}));
    assert!(reqs[0].body["tools"][0]["input_schema"]["properties"]["metrics"].is_object());
    assert!(reqs[0].body["system"].as_str().unwrap().contains("velocity"));
    let msgs = reqs[1].body["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["content"][0]["type"], "tool_use");
    assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
    assert_eq!(msgs[2]["content"][0]["tool_use_id"], "toolu_1");
    assert_eq!(msgs[2]["content"][0]["is_error"], true);
}

#[test]
fn ollama_sends_the_schema_as_format() {
    let (r, s) =
        run(Provider::Ollama, vec![ok(json!({"model": "qwen", "message": {"role": "assistant", "content": VALID}, "done": true}))]);
    assert_eq!(r.unwrap().attempts, 1);
    let req = &s.requests.borrow()[0];
    assert_eq!(req.url, "http://127.0.0.1:9/api/chat");
    assert_eq!(req.body["stream"], false);
    assert_eq!(req.body["options"]["num_predict"], wire::MAX_TOKENS);
    // One closed shape per entity: a sprint shape offers sprint metrics and dimensions only.
    let shapes = req.body["format"]["anyOf"].as_array().unwrap();
    assert_eq!(shapes.len(), 2);
    let sprint = shapes.iter().find(|v| v["properties"]["entity"]["enum"] == json!(["sprint"])).unwrap().to_string();
    let issue = shapes.iter().find(|v| v["properties"]["entity"]["enum"] == json!(["issue"])).unwrap().to_string();
    assert!(sprint.contains("\"velocity\"") && !sprint.contains("\"lead_time_p50\"") && !sprint.contains("\"component\""), "{sprint}");
    assert!(issue.contains("\"lead_time_p50\"") && !issue.contains("\"velocity\"") && !issue.contains("last_sprints"), "{issue}");
}

#[test]
fn openai_compatible_servers_without_schemas_get_json_object() {
    // A server that refuses the choice of shapes gets the single object schema, then json_object.
    let refuse = || status(400, None, r#"{"error": {"message": "response_format json_schema is not supported"}}"#);
    let (r, s) = run(Provider::OpenAiCompatible, vec![refuse(), refuse(), openai(VALID)]);
    assert_eq!(r.unwrap().attempts, 1);
    let reqs = s.requests.borrow();
    assert_eq!(reqs[0].body["response_format"]["type"], "json_schema");
    assert!(reqs[0].body["response_format"]["json_schema"]["schema"]["anyOf"].is_array());
    assert!(reqs[1].body["response_format"]["json_schema"]["schema"]["properties"]["metrics"].is_object());
    assert_eq!(reqs[2].body["response_format"], json!({"type": "json_object"}));
    assert_eq!(reqs[2].body["max_tokens"], wire::MAX_TOKENS);
}

#[test]
fn every_answer_a_split_schema_allows_is_one_the_validator_can_accept_by_entity() {
    // The metric names of each entity's shape are exactly the catalog's metrics of that entity.
    let catalog = builtin::metrics().unwrap();
    let s = schema::split(&catalog);
    for shape in s["anyOf"].as_array().unwrap() {
        check_strict(shape, "$");
        let entity = shape["properties"]["entity"]["enum"][0].as_str().unwrap();
        let mut names: Vec<String> = shape["properties"]["metrics"]["items"]["anyOf"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| {
                i["properties"]["name"]["enum"].as_array().unwrap().iter().filter_map(|n| n.as_str().map(String::from)).collect::<Vec<_>>()
            })
            .collect();
        names.sort();
        let mut expected: Vec<String> = catalog.iter().filter(|m| m.entity.as_str() == entity).map(|m| m.name.clone()).collect();
        expected.sort();
        assert_eq!(names, expected, "{entity}");
    }
    // Lists end where validation would refuse them.
    assert_eq!(s["anyOf"][0]["properties"]["metrics"]["maxItems"], crate::spec::parse::MAX_METRICS);
    assert_eq!(s["anyOf"][1]["properties"]["group_by"]["maxItems"], crate::spec::parse::MAX_GROUP_BY);
    // OpenAI and Anthropic keep one object at the root.
    assert!(schema::for_provider(Provider::OpenAi, &catalog)["properties"].is_object());
    assert!(schema::for_provider(Provider::Anthropic, &catalog)["properties"].is_object());
}

#[test]
fn configuration_problems_are_explained() {
    let t = Duration::from_secs(1);
    let e = Config::new(Provider::OpenAi, None, None, None, t).unwrap_err();
    assert!(e.0.contains("API key") && e.1.contains("OPENAI_API_KEY"), "{e:?}");
    let e = Config::new(Provider::OpenAiCompatible, None, None, None, t).unwrap_err();
    assert!(e.0.contains("base URL"), "{e:?}");
    assert!(Config::new(Provider::Ollama, None, Some("ftp://x".into()), None, t).is_err());
    let c = Config::new(Provider::Ollama, None, None, None, t).unwrap();
    assert_eq!((c.base_url.as_str(), c.model.as_str()), ("http://127.0.0.1:11434", "qwen2.5-coder:1.5b"));
}

fn check_strict(v: &Value, path: &str) {
    if let Some(o) = v.as_object() {
        if let Some(props) = o.get("properties").and_then(Value::as_object) {
            assert_eq!(o["additionalProperties"], false, "{path}");
            let req: Vec<&str> = o["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            for k in props.keys() {
                assert!(req.contains(&k.as_str()), "{path}.{k} not required");
            }
        }
        assert!(!o.contains_key("format") && !o.contains_key("$ref"), "{path}");
        for (k, c) in o {
            check_strict(c, &format!("{path}.{k}"));
        }
    } else if let Some(a) = v.as_array() {
        a.iter().enumerate().for_each(|(i, c)| check_strict(c, &format!("{path}[{i}]")));
    }
}

#[test]
fn the_schema_is_strict_and_names_the_live_catalog() {
    let mut catalog = builtin::metrics().unwrap();
    let mut extra = catalog[0].clone();
    extra.name = "my_new_metric".into();
    catalog.push(extra);
    let s = schema::schema(&catalog);
    check_strict(&s, "$");
    // Metric items: one shape per set of allowed aggregations; every metric in exactly one.
    let shapes = s.pointer("/properties/metrics/items/anyOf").unwrap().as_array().unwrap();
    let mut names: Vec<&str> = Vec::new();
    for shape in shapes {
        let in_shape: Vec<&str> =
            shape.pointer("/properties/name/enum").unwrap().as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let aggs = shape.pointer("/properties/aggregation").unwrap().to_string();
        for n in &in_shape {
            let def = catalog.iter().find(|m| m.name == *n).unwrap();
            for a in def.allowed_aggregations.iter().filter(|a| **a != Aggregation::Formula) {
                assert!(aggs.contains(&format!("\"{}\"", a.as_str())), "{n}: {aggs}");
            }
            if def.allowed_aggregations == [Aggregation::Formula] {
                assert_eq!(aggs, r#"{"type":"null"}"#, "{n}: a formula takes no aggregation");
            }
        }
        names.extend(in_shape);
    }
    names.sort();
    let mut expected: Vec<&str> = catalog.iter().map(|m| m.name.as_str()).collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(names.contains(&"my_new_metric"));
    // Date dimensions are grouped with an interval, others without.
    let groups = s.pointer("/properties/group_by/items/anyOf").unwrap().to_string();
    assert!(
        groups.contains(r#""interval":{"type":"null"}"#) && groups.contains(r#""enum":["day","week","month","quarter","year"]"#),
        "{groups}"
    );
    assert_eq!(s.pointer("/properties/date_range/anyOf/1/properties/last/pattern").and_then(Value::as_str), Some(schema::LAST_PATTERN));
    let last = regex::Regex::new(schema::LAST_PATTERN).unwrap();
    for ok in ["90 days", "1 month", "6 weeks", "2 quarters", "1 year"] {
        assert!(last.is_match(ok) && parse(&json!({"metrics": ["created"], "date_range": {"last": ok}}), &catalog).is_ok(), "{ok}");
    }
    for bad in ["90", "0 days", "ten days", "90 days ago", "-1 days"] {
        assert!(!last.is_match(bad), "{bad}");
    }
    let fields = s.pointer("/properties/filters/items/anyOf/1/properties/field/enum").unwrap().to_string();
    assert!(fields.contains("\"priority\"") && !fields.contains("tenant"), "{fields}");
    // A filter's value fits its operator: every operator in exactly one shape.
    let shapes = s.pointer("/properties/filters/items/anyOf").unwrap().as_array().unwrap();
    let mut ops: Vec<&str> = Vec::new();
    // The first shape is a list's filter by a metric.
    assert!(shapes[0].pointer("/properties/metric/enum").unwrap().to_string().contains("\"stuck_count\""));
    for shape in &shapes[1..] {
        let value = shape.pointer("/properties/value/type").unwrap();
        for op in shape.pointer("/properties/operator/enum").unwrap().as_array().unwrap().iter().filter_map(Value::as_str) {
            let expected = match op {
                "is_null" | "is_not_null" => "null",
                "in" | "not_in" | "between" => "array",
                _ => "string",
            };
            assert_eq!(value, expected, "{op}");
            ops.push(op);
        }
    }
    ops.sort();
    let mut all: Vec<&str> = crate::spec::model::Op::ALL.iter().map(|o| o.as_str()).collect();
    all.sort();
    assert_eq!(ops, all);
    // A period is one of three closed shapes (or null), so from/to and last cannot be mixed.
    let shapes: Vec<Vec<&str>> = s
        .pointer("/properties/date_range/anyOf")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default())
        .collect();
    assert_eq!(shapes, vec![vec!["field", "from", "to"], vec!["field", "last"], vec!["last_sprints"], vec![]]);
    assert!(s.pointer("/properties/date_range/anyOf/1/properties/field/enum").unwrap().to_string().contains("resolved_at"));
}

#[test]
fn the_prompt_names_metrics_values_and_valid_examples() {
    let catalog = builtin::metrics().unwrap();
    let values = BTreeMap::from([("label".to_string(), vec!["backend".to_string()])]);
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let p = prompt::system(&catalog, &values, today);
    for m in &catalog {
        assert!(p.contains(&format!("- {} (", m.name)), "{}", m.name);
    }
    assert!(p.contains("2026-11-27") && p.contains("\"backend\"") && !p.contains("{{"), "{p}");
    let examples = prompt::examples(today);
    assert!(examples.len() >= 8);
    for (q, s) in examples {
        match schema::output(&s) {
            schema::Output::Spec(spec) => assert!(parse(&spec, &catalog).is_ok(), "{q}: {:?}", parse(&spec, &catalog).err()),
            schema::Output::Clarify(_) => assert!(q.to_lowercase().contains("ignore")),
        }
    }
}

/// `cargo test -p analytics-core print_schema -- --ignored --nocapture`
#[test]
#[ignore]
fn print_schema() {
    println!("{}", serde_json::to_string_pretty(&schema::schema(&builtin::metrics().unwrap())).unwrap());
}

#[test]
fn metrics_with_parameters_take_params_and_an_alias() {
    let catalog = crate::catalog::builtin::metrics().unwrap();
    let s = schema::schema(&catalog);
    let items = s.pointer("/properties/metrics/items/anyOf").and_then(Value::as_array).unwrap();
    let with = |name: &str| {
        items
            .iter()
            .find(|i| i.pointer("/properties/name/enum").and_then(Value::as_array).is_some_and(|e| e.contains(&json!(name))))
            .unwrap()
    };
    let tis = with("time_in_status");
    assert_eq!(tis.pointer("/properties/params/anyOf/0/properties/statuses/type"), Some(&json!(["array", "null"])), "{tis}");
    assert_eq!(tis.pointer("/properties/params/anyOf/0/additionalProperties"), Some(&json!(false)));
    assert!(tis.pointer("/properties/alias").is_some());
    assert!(with("velocity").pointer("/properties/params").is_none(), "a metric without parameters takes none");
    // Each shape holds metrics of one set of parameters: every name in it has exactly those.
    for i in items {
        let names = i.pointer("/properties/name/enum").and_then(Value::as_array).unwrap();
        let keys: Vec<String> = i
            .pointer("/properties/params/anyOf/0/properties")
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for n in names {
            let def = catalog.iter().find(|m| json!(m.name) == *n).unwrap();
            assert_eq!(def.parameters.keys().cloned().collect::<Vec<_>>(), keys, "{n}");
        }
    }
    // What a model writes with them is a valid spec.
    let answer = json!({"entity": "issue", "metrics": [
        {"name": "time_in_status", "aggregation": null, "params": {"statuses": ["QA"], "as_of": null}, "alias": null},
        {"name": "forecast_date", "aggregation": null, "params": {"items": 40, "confidence": 0.85, "trials": null, "weeks_of_history": null, "as_of": null, "seed": null}, "alias": "forecast_85"}],
        "group_by": [], "filters": [], "date_range": null, "sort_by": [], "limit": null, "clarification": null});
    match schema::output(&answer) {
        schema::Output::Spec(spec) => {
            crate::spec::parse(&spec, &catalog).unwrap_or_else(|e| panic!("{e:?}: {spec}"));
            assert_eq!(spec["metrics"][0], json!({"name": "time_in_status", "params": {"statuses": ["QA"]}}));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_list_answer_and_an_aggregate_answer_with_empty_fields_both_validate() {
    let catalog = builtin::metrics().unwrap();
    let list = json!({"entity": "issue", "metrics": [], "fields": [{"name": "key"}, {"name": "summary"}, {"name": "days_in_status"}],
        "group_by": [], "filters": [{"metric": "stuck_count", "operator": null, "value": null}, {"metric": "blocked_hours", "operator": "gt", "value": 24}],
        "date_range": null, "sort_by": [], "limit": null, "clarification": null});
    let schema::Output::Spec(spec) = schema::output(&list) else { panic!("a spec") };
    let parsed = parse(&spec, &catalog).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(parsed.is_list() && parsed.metric_filters.len() == 2);
    let agg = json!({"entity": "issue", "metrics": [{"name": "bug_count", "aggregation": null}], "fields": [], "group_by": [],
        "filters": [], "date_range": null, "sort_by": [], "limit": null, "clarification": null});
    let schema::Output::Spec(spec) = schema::output(&agg) else { panic!("a spec") };
    assert!(!parse(&spec, &catalog).unwrap().is_list());
    // Every field a split shape offers is one the validator takes for that entity.
    for shape in schema::split(&catalog)["anyOf"].as_array().unwrap() {
        let entity = shape["properties"]["entity"]["enum"][0].as_str().unwrap();
        for name in shape["properties"]["fields"]["items"]["properties"]["name"]["enum"].as_array().unwrap() {
            let spec = json!({"entity": entity, "fields": [name]});
            assert!(parse(&spec, &catalog).is_ok(), "{spec}: {:?}", parse(&spec, &catalog).err());
        }
        for m in shape["properties"]["filters"]["items"]["anyOf"][0]["properties"]["metric"]["enum"].as_array().unwrap() {
            let spec = json!({"entity": entity, "fields": ["sprint"], "filters": [{"metric": m}]});
            let spec = if entity == "issue" { json!({"fields": ["key"], "filters": [{"metric": m}]}) } else { spec };
            assert!(parse(&spec, &catalog).is_ok(), "{spec}: {:?}", parse(&spec, &catalog).err());
        }
    }
}

#[test]
fn few_shot_examples_are_the_closest_of_a_valid_pool() {
    let catalog = builtin::metrics().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let pool = prompt::pool(today);
    assert!(pool.len() >= 40, "{}", pool.len());
    for (q, s) in &pool {
        match schema::output(s) {
            schema::Output::Spec(spec) => assert!(parse(&spec, &catalog).is_ok(), "{q}: {:?}", parse(&spec, &catalog).err()),
            schema::Output::Clarify(_) => {}
        }
    }
    // No question added for retrieval (prompts/pool.json) is one of an evaluation set's: retrieval must
    // not hand the model the answers. (The fixed examples.json predates the sets; 3 of its questions are
    // in cases.json and none in fresh.json.)
    let fixed = prompt::examples(today).len();
    let mut overlap = 0;
    for set in ["cases.json", "fresh.json"] {
        let text = std::fs::read_to_string(format!("{}/../../tests/nl/{set}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for c in v["cases"].as_array().unwrap() {
            let q = c["q"].as_str().unwrap().to_lowercase();
            assert!(!pool[fixed..].iter().any(|(p, _)| p.to_lowercase() == q), "{q} is in {set}");
            overlap += pool[..fixed].iter().filter(|(p, _)| p.to_lowercase() == q).count();
        }
    }
    assert!(overlap <= 3, "{overlap} fixed examples are evaluation questions");
    let picked = prompt::closest("list the stuck bugs of the web team", &pool, prompt::RETRIEVED);
    assert_eq!(picked.len(), prompt::RETRIEVED);
    assert!(picked.iter().take(3).any(|(q, _)| q.contains("stuck")), "{:?}", picked.iter().map(|p| &p.0).collect::<Vec<_>>());
    assert!(picked.iter().any(|(q, _)| q.to_lowercase().starts_with("ignore")), "the injection example is always sent");
    let system = prompt::system_for(&catalog, &BTreeMap::new(), today, "velocity of the payments team");
    assert!(system.contains("Q: velocity of the web team over the last 4 sprints"), "the closest example is in the prompt");
    let plain = prompt::system_plain(&catalog, &BTreeMap::new(), today);
    assert!(!plain.contains("\nQ: ") && plain.len() < system.len(), "the system prompt calls send has no examples");
    let turn = prompt::question_turn("velocity of the payments team", Some("a hint"), today);
    assert!(
        turn.contains("Q: velocity of the web team over the last 4 sprints")
            && turn.contains("Question: velocity of the payments team\n\n(a hint)"),
        "{turn}"
    );
    // The hint carries the builtin reading, its reason and candidates.
    let h = prompt::builtin_hint(
        &json!({"metrics": ["cycle_time"]}),
        "\"frobnicated\" is unknown",
        &[("cycle time".into(), Some(json!({"metrics": ["cycle_time"]})))],
    );
    assert!(h.contains("cycle_time") && h.contains("frobnicated") && h.contains("closest readings"), "{h}");
}

#[test]
fn a_filter_on_a_value_the_data_does_not_have_is_sent_back() {
    let guess = r#"{"entity": "sprint", "metrics": [{"name": "velocity", "aggregation": null}], "group_by": [], "filters": [{"field": "board", "operator": "eq", "value": "Mobile team"}], "date_range": {"last_sprints": 6}, "sort_by": [], "limit": null, "clarification": null}"#;
    let (r, s) = run(Provider::OpenAi, vec![openai(guess), openai(r#"{"clarification": "there is no mobile team"}"#)]);
    match r {
        Ok(Answer { translation: Translation::Clarify(c), attempts: 2, .. }) => assert_eq!(c.reason, "there is no mobile team"),
        other => panic!("expected a clarification after one retry: {other:?}"),
    }
    let feedback = serde_json::to_string(&s.requests.borrow()[1].body).unwrap();
    assert!(feedback.contains(r#"\"Mobile team\" is not a board in the data"#), "{feedback}");
}

#[test]
fn hybrid_passes_the_model_only_questions_with_words_the_builtin_translator_does_not_know() {
    let catalog = builtin::metrics().unwrap();
    let values = BTreeMap::from([("board".to_string(), vec!["Payments team".to_string()])]);
    let ctx = Context::new(&catalog, &values, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
    // Answered, or read whole and refused: no model.
    assert!(matches!(hybrid_first("velocity of the payments team over the last 6 sprints", &ctx), Ok(Translation::Spec(_))));
    for q in ["delete all bugs", "how is the team doing", "what will our revenue be next quarter", "show velocity and lead time"] {
        assert!(matches!(hybrid_first(q, &ctx), Ok(Translation::Clarify(_))), "{q}");
    }
    // A word it does not know: the model gets the reading and the reason.
    let Err(turn) = hybrid_first("how long do bugs sit in code review", &ctx) else { panic!("expected the model's turn") };
    let (c, hint) = *turn;
    assert!(c.reason.contains("\"review\""), "{}", c.reason);
    assert!(hint.text.contains("\"unknown_words\"") && hint.text.contains("review"), "{}", hint.text);
    // The model's spec must keep what the builtin translator read: the period and the board here.
    let Err(turn) = hybrid_first("lead time last month for the payments team, frobnicated", &ctx) else {
        panic!("expected the model's turn")
    };
    let hint = turn.1;
    let dropped = json!({"entity": "issue", "metrics": ["lead_time_p50"]});
    let p = hint.problems(&dropped, &catalog);
    assert!(p.len() == 2 && p[0].contains("date_range") && p[1].contains("keep a filter on board"), "{p:?}");
    let kept = json!({"entity": "issue", "metrics": ["lead_time_p50"], "date_range": {"last": "1 month"},
        "filters": [{"field": "board", "operator": "eq", "value": "Payments team"}]});
    assert!(hint.problems(&kept, &catalog).is_empty(), "{:?}", hint.problems(&kept, &catalog));
    // "this sprint" is a filter on the active sprint; statuses a metric takes are not filters.
    let Err(turn) = hybrid_first("velocity this sprint, frobnicated", &ctx) else { panic!("expected the model's turn") };
    let active = json!({"entity": "sprint", "metrics": ["velocity"], "group_by": ["board"], "filters": [{"field": "state", "operator": "eq", "value": "active"}]});
    assert!(turn.1.problems(&active, &catalog).is_empty(), "{:?}", turn.1.problems(&active, &catalog));
    let closed = json!({"entity": "sprint", "metrics": ["velocity"], "date_range": {"last_sprints": 1}});
    assert!(turn.1.problems(&closed, &catalog)[0].contains("active sprint"), "{:?}", turn.1.problems(&closed, &catalog));
    let in_qa = Hint {
        text: String::new(),
        reading: json!({"period": null, "values": [{"dimension": "status", "value": "QA", "negated": false}], "unknown_words": []}),
        ignoring: vec![],
    };
    let time_in_qa = json!({"entity": "issue", "metrics": [{"name": "time_in_status", "params": {"statuses": ["QA"]}}]});
    assert!(in_qa.problems(&time_in_qa, &catalog).is_empty());
    // The question without its unknown words is a reading the builtin translator declined.
    let ignored = hint.ignoring.first().cloned().expect("a candidate without the unknown word");
    assert!(
        hint.problems(&ignored, &catalog).iter().any(|p| p.contains("ignores \"frobnicated\"")),
        "{:?}",
        hint.problems(&ignored, &catalog)
    );
}
