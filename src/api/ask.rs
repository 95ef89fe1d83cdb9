//! `analytics_ask(question, options)`: a question in plain English to a spec (by the builtin translator
//! or an LLM provider), validated, compiled and run for the session's tenant, with one sentence saying
//! what was measured. `analytics_eval(cases)` scores the translator on an evaluation set.

use crate::api::llm::Translated;
use crate::api::spec::{active_catalog, prepare_parsed, run_spec, tenant};
use crate::error::{ApiError, OrReport};
use crate::jsonb_arg::JsonbText;
use crate::{cache, gucs};
use analytics_core::ask::{Mode, Options, Provider};
use analytics_core::json_arg as args;
use analytics_core::nl::{self, eval, Context, Translation};
use analytics_core::spec::{parse, Spec};
use chrono::NaiveDate;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

type Values = BTreeMap<String, Vec<String>>;

/// A tenant, the versions its values were read at, and the values.
type TenantValues = (String, cache::Versions, Rc<Values>);

thread_local! {
    /// The last tenant's values.
    static VALUES: RefCell<Option<TenantValues>> = const { RefCell::new(None) };
}

/// The distinct values a question may name in the tenant's data; read again only when its data (or the
/// catalog) changed, by the versions the result cache goes by (always on 0.1.0's SQL, which has none).
fn tenant_values(tenant: &str) -> Result<Rc<Values>, ApiError> {
    let versions = cache::open()?.map(|c| c.versions(tenant)).transpose()?;
    let hit = VALUES.with(|v| match (v.borrow().as_ref(), versions) {
        (Some((t, ver, vals)), Some(now)) if t == tenant && *ver == now => Some(vals.clone()),
        _ => None,
    });
    if let Some(v) = hit {
        return Ok(v);
    }
    let json = crate::spi_read::one::<JsonB>("SELECT analytics._ask_values($1)", &[tenant.into()])?.map(|j| j.0).unwrap_or(json!({}));
    let values: Values = serde_json::from_value(json).map_err(|e| ApiError::Internal(format!("tenant values: {e}")))?;
    let values = Rc::new(values);
    if let Some(versions) = versions {
        VALUES.with(|v| *v.borrow_mut() = Some((tenant.to_string(), versions, values.clone())));
    }
    Ok(values)
}

/// The day relative periods count from: options.today, else the session's current_date.
fn today(options: &Options) -> Result<NaiveDate, ApiError> {
    if let Some(d) = options.today {
        return Ok(d);
    }
    let text = crate::spi_read::one::<String>("SELECT current_date::text", &[])?.unwrap_or_default();
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| ApiError::Internal(format!("current_date {text:?}: {e}")))
}

pub(crate) fn options_of(options: Option<&str>) -> Result<Options, ApiError> {
    let v = match args::parse(options) {
        Ok(Some(v)) => v,
        Ok(None) => json!({}),
        Err(message) => return Err(ApiError::InvalidArgument { message, detail: None, hint: None }),
    };
    Options::parse(&v).map_err(|(message, hint)| ApiError::InvalidArgument { message, detail: None, hint: Some(hint) })
}

fn provider_of(options: &Options) -> Result<Provider, ApiError> {
    match options.provider {
        Some(p) => Ok(p),
        None => Provider::parse(&gucs::llm_provider()).map_err(|message| ApiError::InvalidArgument {
            message: format!("analytics.llm_provider: {message}"),
            detail: None,
            hint: Some("SET analytics.llm_provider = 'builtin';".into()),
        }),
    }
}

fn translate(question: &str, provider: Provider, options: &Options, ctx: &Context) -> Result<Translated, ApiError> {
    let builtin = |translation| Translated {
        translation,
        provider: Provider::Builtin,
        model: None,
        attempts: 1,
        fallback: None,
        builtin_reason: None,
        model_note: None,
    };
    match (provider, options.mode.unwrap_or_else(gucs::ask_mode)) {
        (Provider::Builtin, _) => Ok(builtin(nl::translate(question, ctx))),
        (other, Mode::Single) => crate::api::llm::translate(question, other, options, ctx),
        // Hybrid: the builtin translator answers when it can; otherwise the model, told what it read.
        (other, Mode::Hybrid) => match analytics_core::llm::hybrid_first(question, ctx) {
            Ok(t) => Ok(builtin(t)),
            Err(turn) => {
                let (c, hint) = *turn;
                // The model's spec answers; when the model asks back too, or gives no valid spec, the
                // builtin translator's clarification (with its candidates) stands, and says why.
                let asked_back = |model_note: String| Translated {
                    translation: Translation::Clarify(c.clone()),
                    provider: other,
                    model: None,
                    attempts: 1,
                    fallback: None,
                    builtin_reason: Some(c.reason.clone()),
                    model_note: Some(model_note),
                };
                match crate::api::llm::translate_hinted(question, Some(&hint), other, options, ctx) {
                    Ok(mut t) => match &t.translation {
                        Translation::Spec(_) => {
                            t.builtin_reason = Some(c.reason.clone());
                            Ok(t)
                        }
                        Translation::Clarify(mc) => {
                            let note = format!("the model asked back too: {}", mc.reason);
                            Ok(Translated { model: t.model.clone(), attempts: t.attempts, ..asked_back(note) })
                        }
                    },
                    Err(ApiError::ProviderOutput { message, .. }) => Ok(asked_back(message)),
                    Err(e) => Err(e),
                }
            }
        },
    }
}

/// The answer's fields for a spec that was run (or only compiled, for a dry run), parsed once by the
/// caller, run through the Rust pipeline and the result cache as analytics_run runs it.
fn answer_spec(spec: &Value, parsed: Spec, tenant: &str, dry_run: bool) -> Result<Value, ApiError> {
    let text = spec.to_string();
    let prepared = prepare_parsed(&text, tenant, parsed)?;
    let mut out = json!({"spec": spec});
    if dry_run {
        let compiled = prepared.answer();
        for k in ["sql", "params", "columns", "metrics"] {
            out[k] = compiled[k].clone();
        }
        out["rows"] = Value::Null;
        out["row_count"] = Value::Null;
        out["cached"] = json!(false);
    } else {
        let mut result = run_spec(&text, tenant)?;
        for k in ["sql", "columns", "rows", "row_count", "cached", "metrics", "query_ms"] {
            out[k] = result[k].take();
        }
    }
    Ok(out)
}

/// The Vega-Lite chart of an answer's rows (NULL when they are a single number, or not run).
fn chart_of(answer: &Value, title: &str) -> Value {
    let Some(columns) = answer["columns"].as_array() else { return Value::Null };
    let cols: Vec<analytics_core::chart::Col> = columns
        .iter()
        .map(|c| analytics_core::chart::Col {
            name: c["name"].as_str().unwrap_or_default(),
            role: c["role"].as_str().unwrap_or_default(),
            unit: c["unit"].as_str(),
        })
        .collect();
    let rows = answer["rows"].as_array().map(Vec::as_slice).unwrap_or_default();
    analytics_core::chart::vega_lite(title, &cols, rows).unwrap_or(Value::Null)
}

/// Answers a question: the answer as jsonb (see docs/ask.md).
#[pg_extern(volatile, schema = "analytics", name = "analytics_ask")]
#[search_path(pg_catalog, pg_temp)]
fn ask(question: Option<&str>, options: default!(Option<JsonbText>, "'{}'")) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(answer(question, options.as_ref().map(JsonbText::as_str))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_ask(text, jsonb) IS
  'Answer a question in plain English for the session''s tenant: the question becomes an AnalyticsSpec (builtin translator by default, or the LLM of analytics.llm_provider; a model only writes a spec, never SQL), which is validated, compiled and run. Returns {"question", "status": answered | clarification_needed, "spec", "sql", "columns", "rows", "row_count", "cached", "provider", "model", "attempts", "metrics", "tenant_id", "explanation", "clarification": {"reason", "candidates"}, "today"}. options: provider, model, limit, dry_run (spec and SQL, no run), today (YYYY-MM-DD for relative periods), chart (true: a Vega-Lite chart of the rows in "chart").';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_ask(text,jsonb)', 'EXECUTE');
"#,
    name = "ask_sql",
    requires = [ask, "security"]
);

/// 0.1.0's `analytics._analytics_ask(text, text)` (the answer as JSON text) until ALTER EXTENSION UPDATE
/// (the C symbol its SQL names stays; 0.2.0's SQL does not declare it).
#[pg_extern(volatile, sql = false)]
fn analytics_ask(question: Option<&str>, options: Option<&str>) -> String {
    crate::search_path::pinned(|| answer(question, options)).map(|v| v.to_string()).or_report()
}

pub(crate) fn answer(question: Option<&str>, options: Option<&str>) -> Result<Value, ApiError> {
    let question = question.ok_or(ApiError::NullArgument("question"))?;
    let options = options_of(options)?;
    let tenant = tenant()?;
    let provider = provider_of(&options)?;
    let catalog = active_catalog()?;
    let values = tenant_values(&tenant)?;
    let mut ctx = Context::new(&catalog.active, &values, today(&options)?);
    ctx.pin_relative = options.today.is_some();
    let t = translate(question, provider, &options, &ctx)?;
    let mut answer = json!({
        "question": question,
        "provider": t.provider.as_str(),
        "model": t.model,
        "attempts": t.attempts,
        "tenant_id": tenant,
        "today": ctx.today.format("%Y-%m-%d").to_string(),
    });
    if let Some(why) = &t.fallback {
        answer["fallback_reason"] = json!(why);
    }
    // Which path answered: the builtin translator or the model (hybrid mode says why it asked the model).
    answer["path"] = json!(if t.provider == Provider::Builtin || t.model_note.is_some() { "builtin" } else { "model" });
    if let Some(why) = &t.builtin_reason {
        answer["builtin_reason"] = json!(why);
    }
    if let Some(note) = &t.model_note {
        answer["model_note"] = json!(note);
    }
    match &t.translation {
        Translation::Spec(spec) => {
            let mut spec = spec.clone();
            if let Some(l) = options.limit {
                spec["limit"] = json!(l);
            }
            let mut parsed = parse(&spec, &catalog.active).map_err(ApiError::InvalidSpec)?;
            let mut explanation = nl::explain(&parsed, &catalog.active, &tenant);
            crate::api::search::resolve(&mut parsed)?;
            // "issues about login timeouts": how many issues were close enough in meaning.
            if !options.dry_run {
                if let (Some(n), Some(s)) = (crate::api::search::matched(&parsed, &tenant)?, &parsed.similar_to) {
                    let issues = if n == 1 { "issue" } else { "issues" };
                    explanation.push_str(&format!(" {n} {issues} matched \"{}\".", s.text));
                }
            }
            let ran = answer_spec(&spec, parsed, &tenant, options.dry_run)?;
            if let Value::Object(o) = ran {
                for (k, v) in o {
                    answer[k] = v;
                }
            }
            answer["status"] = json!("answered");
            if options.chart {
                answer["chart"] = chart_of(&answer, &explanation);
            }
            answer["explanation"] = json!(explanation);
            answer["clarification"] = Value::Null;
        }
        Translation::Clarify(c) => {
            let candidates: Vec<Value> = c
                .candidates
                .iter()
                .map(|cand| {
                    let explanation =
                        cand.spec.as_ref().and_then(|s| parse(s, &catalog.active).ok()).map(|s| nl::explain(&s, &catalog.active, &tenant));
                    json!({"description": cand.description, "spec": cand.spec, "explanation": explanation})
                })
                .collect();
            answer["status"] = json!("clarification_needed");
            answer["explanation"] = json!(format!("I could not map the question to a spec with confidence: {}.", c.reason));
            answer["clarification"] = json!({"reason": c.reason, "candidates": candidates});
            for k in ["spec", "sql", "columns", "rows", "row_count"] {
                answer[k] = Value::Null;
            }
            answer["cached"] = json!(false);
            answer["metrics"] = json!([]);
        }
    }
    Ok(answer)
}

/// A result's rows as sorted lists of values (column names aside), to compare two results.
fn row_values(result: &Value) -> Vec<String> {
    let columns: Vec<String> =
        result["columns"].as_array().map(|c| c.iter().filter_map(|x| x["name"].as_str().map(String::from)).collect()).unwrap_or_default();
    let mut rows: Vec<String> = result["rows"]
        .as_array()
        .map(|rows| rows.iter().map(|r| Value::Array(columns.iter().map(|c| r[c].clone()).collect()).to_string()).collect())
        .unwrap_or_default();
    rows.sort();
    rows
}

/// Scores the builtin translator on an evaluation set (the format of tests/nl/cases.json): the share
/// of questions whose spec matches the expected one, and whose result (run for the session's tenant)
/// matches the expected spec's result.
#[pg_extern(volatile, schema = "analytics", name = "analytics_eval")]
#[search_path(pg_catalog, pg_temp)]
fn eval(cases: Option<JsonbText>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(score(cases.as_ref().map(JsonbText::as_str))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_eval(jsonb) IS
  'Score the builtin translator on an evaluation set ({"today", "values", "cases": [{"q", "spec"} | {"q", "clarify": true}]}, the format of tests/nl/cases.json): spec_accuracy (same metrics, grouping, filters, period, sort, limit) and result_accuracy (same rows for the session''s tenant), with every case''s outcome.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_eval(jsonb)', 'EXECUTE');
"#,
    name = "eval_sql",
    requires = [eval, "security"]
);

/// 0.1.0's `analytics._analytics_eval(text)` (the report as JSON text) until ALTER EXTENSION UPDATE
/// (the C symbol its SQL names stays; 0.2.0's SQL does not declare it).
#[pg_extern(volatile, sql = false)]
fn analytics_eval(cases: Option<&str>) -> String {
    crate::search_path::pinned(|| score(cases)).map(|v| v.to_string()).or_report()
}

fn score(cases: Option<&str>) -> Result<Value, ApiError> {
    let tenant = tenant()?;
    let v = match args::parse(cases) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(ApiError::NullArgument("cases")),
        Err(message) => return Err(ApiError::InvalidArgument { message, detail: None, hint: None }),
    };
    let (list, file_values, day) = match &v {
        Value::Array(_) => (v.clone(), None, None),
        Value::Object(o) => (
            o.get("cases").cloned().unwrap_or(Value::Null),
            o.get("values").cloned(),
            o.get("today").and_then(Value::as_str).map(String::from),
        ),
        _ => (Value::Null, None, None),
    };
    let bad = |message: String| {
        ApiError::InvalidArgument {
        message,
        detail: None,
        hint: Some(r#"Pass {"today": "YYYY-MM-DD", "values": {...}, "cases": [{"q": "...", "spec": {...}} | {"q": "...", "clarify": true}]} or just the list of cases."#.into()),
    }
    };
    let cases: Vec<eval::Case> = serde_json::from_value(list).map_err(|e| bad(format!("cases: {e}")))?;
    let options = Options {
        today: day.as_deref().map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d")).transpose().map_err(|e| bad(format!("today: {e}")))?,
        ..Options::default()
    };
    let catalog = active_catalog()?;
    let values: Rc<Values> = match file_values {
        Some(fv) => Rc::new(serde_json::from_value(fv).map_err(|e| bad(format!("values: {e}")))?),
        None => tenant_values(&tenant)?,
    };
    let ctx = Context::new(&catalog.active, &values, today(&options)?);
    let report = eval::run(&cases, &ctx);
    let mut result_matches = 0usize;
    let mut results = Vec::new();
    for (case, r) in cases.iter().zip(&report.results) {
        let mut entry = serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?;
        let same_result = match (r.outcome, &case.spec, &r.spec) {
            (eval::Outcome::Correct | eval::Outcome::ClarifiedAsExpected, _, _) => true,
            (eval::Outcome::Wrong, Some(expected), Some(actual)) => {
                let same = row_values(&run_spec(&expected.to_string(), &tenant)?) == row_values(&run_spec(&actual.to_string(), &tenant)?);
                entry["same_result"] = json!(same);
                same
            }
            _ => false,
        };
        result_matches += same_result as usize;
        results.push(entry);
    }
    let n = report.cases.max(1) as f64;
    Ok(json!({
        "cases": report.cases,
        "spec_matches": report.correct,
        "result_matches": result_matches,
        "clarified": report.clarified,
        "wrong": report.wrong,
        "spec_accuracy": (report.correct as f64 / n * 1000.0).round() / 1000.0,
        "result_accuracy": (result_matches as f64 / n * 1000.0).round() / 1000.0,
        "tenant_id": tenant,
        "today": ctx.today.format("%Y-%m-%d").to_string(),
        "results": results,
    }))
}
