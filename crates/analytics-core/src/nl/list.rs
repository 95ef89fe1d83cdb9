//! List questions: "list the stuck issues", "show me open high priority bugs", "which issues are
//! blocked", "what is in progress", "which bugs took longest to resolve" ask for the issues themselves,
//! not for their number. The question is read as usual (the metric, filters and period it names); the
//! aggregate spec it makes becomes a list spec: the rows the count metric counts (a metric filter), with
//! key, summary, status, assignee and the number that qualified them. "how many ..." stays a count.

use super::reader::{Item, Reading};
use crate::catalog::{Kind, MetricDef};
use crate::spec::dims;
use crate::spec::parse::list::listable;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Words that ask for a number, so never a list.
const COUNT_CUES: &[&str] =
    &["how many", "how much", "number of", "count of", "count the", "total", "percentage", "share of", "ratio", "rate"];

/// Nouns for the rows: issues and their kinds.
const ROW_NOUNS: &[&str] = &[
    "everything",
    "anything",
    "issue",
    "issues",
    "bug",
    "bugs",
    "story",
    "stories",
    "task",
    "tasks",
    "ticket",
    "tickets",
    "item",
    "items",
    "epic",
    "epics",
    "spike",
    "spikes",
    "ones",
    "defect",
    "defects",
    "work",
];

/// Verbs that stop the search for a row noun after "which"/"what" ("which assignee has the most bugs").
const STOPS: &[&str] = &[
    "is", "are", "has", "have", "had", "was", "were", "do", "does", "did", "got", "gets", "took", "take", "takes", "spent", "spend", "with",
];

/// States that "what is ..." asks the rows of ("what is blocked", "what's in progress").
const STATES: &[&str] =
    &["blocked", "stuck", "in progress", "in review", "in qa", "open", "unassigned", "being worked on", "waiting", "overdue", "stale"];

/// What a question says about its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Intent {
    /// It asks for rows.
    pub rows: bool,
    /// It asks for each row's value of a measure ("issues with their cycle time", "per issue").
    pub per_row: bool,
    /// It asks to be shown something without naming rows ("show me the backlog"): rows when what it
    /// names is a set of issues (a count metric), the number otherwise ("show me the cycle time").
    pub shown: bool,
    /// How many rows it asks for: a number before the rows' noun ("which 5 tickets", "show me 20 bugs").
    pub limit: Option<u32>,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches('\'').to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// `list`'s phrases between spaces (" how many "), made once.
fn spaced(list: &'static [&'static str], cell: &'static OnceLock<Vec<String>>) -> &'static [String] {
    cell.get_or_init(|| list.iter().map(|c| format!(" {c} ")).collect())
}

/// "what is stuck", "what's blocked", ...: the openings that ask for the issues in a state.
fn state_questions() -> &'static [String] {
    static S: OnceLock<Vec<String>> = OnceLock::new();
    S.get_or_init(|| STATE_OPENINGS.iter().flat_map(|p| STATES.iter().map(move |s| format!(" {p}{s} "))).collect())
}

const STATE_OPENINGS: &[&str] =
    &["what is ", "what's ", "whats ", "what are ", "what is still ", "what is currently ", "what's currently ", "what's still "];

const PER_ROW: &[&str] = &["per issue", "each issue", "every issue", "per ticket", "each ticket", "with their", "and their", "along with"];

/// The shape a (normalized) question asks for.
pub fn intent(text: &str) -> Intent {
    static COUNTS: OnceLock<Vec<String>> = OnceLock::new();
    static PER_ROWS: OnceLock<Vec<String>> = OnceLock::new();
    let w = words(text);
    let spaced_text = format!(" {} ", w.join(" "));
    if spaced(COUNT_CUES, &COUNTS).iter().any(|c| spaced_text.contains(c.as_str())) {
        return Intent::default();
    }
    // Polite openings: "please", "can you", "could you", "i want to", "i'd like to", "let me".
    let mut i = 0;
    loop {
        match (w.get(i).map(String::as_str), w.get(i + 1).map(String::as_str)) {
            (Some("please" | "pls" | "now" | "so"), _) => i += 1,
            (Some("can" | "could" | "would" | "will"), Some("you" | "i" | "we")) => i += 2,
            (Some("i" | "we"), Some("want" | "need" | "wanna")) => i += if w.get(i + 2).map(String::as_str) == Some("to") { 3 } else { 2 },
            (Some("i'd" | "we'd"), Some("like")) => i += if w.get(i + 2).map(String::as_str) == Some("to") { 3 } else { 2 },
            (Some("let"), Some("me" | "us")) => i += 2,
            _ => break,
        }
    }
    let has_noun = w.iter().any(|x| ROW_NOUNS.contains(&x.as_str()));
    let per_row = spaced(PER_ROW, &PER_ROWS).iter().any(|c| spaced_text.contains(c.as_str()));
    let verb = w.get(i).map(String::as_str);
    let shown = matches!(verb, Some("show" | "display" | "give" | "pull" | "see" | "view")) && !has_noun;
    let rows = match verb {
        Some("list" | "enumerate") => true,
        Some("show" | "display" | "find" | "give" | "get" | "pull" | "see" | "view" | "fetch") => has_noun,
        _ => false,
    } || w.iter().enumerate().any(|(k, x)| {
        // "which (high priority) bugs ...", "what issues ...", "top 10 issues by ...".
        matches!(x.as_str(), "which" | "what" | "top" | "oldest" | "newest")
            && w[k + 1..].iter().take(4).take_while(|y| !STOPS.contains(&y.as_str())).any(|y| ROW_NOUNS.contains(&y.as_str()))
            && w.get(k + 1).is_none_or(|n| n != "of" || w.get(k + 2).is_some_and(|t| t == "the" || t == "these" || t == "those"))
    }) || state_questions().iter().any(|q| spaced_text.contains(&q[..]));
    let limit =
        w.windows(2).find_map(|p| p[0].parse::<u32>().ok().filter(|n| (1..=1000).contains(n) && ROW_NOUNS.contains(&p[1].as_str())));
    Intent { rows, per_row, shown, limit }
}

/// Whether a question asks for the number of issues ("how many tickets are blocked"): a count cue and a
/// noun for the rows.
pub fn counts_rows(text: &str) -> bool {
    let w = words(text);
    let spaced = format!(" {} ", w.join(" "));
    ["how many", "number of", "count of"].iter().any(|c| spaced.contains(&format!(" {c} ")))
        && w.iter().any(|x| ROW_NOUNS.contains(&x.as_str()))
}

/// The field that shows why a row qualified for a count metric (beside key, summary, status, assignee).
fn qualifying_fields(def: &MetricDef) -> Vec<&'static str> {
    match def.name.as_str() {
        "stuck_count" | "issues_in_status" | "backlog_count" => vec!["days_in_status"],
        "wip" | "wip_no_assignee" => vec!["ageing_wip"],
        "reopened_count" => vec!["reopen_count"],
        "bug_count" | "escaped_defects" => vec!["priority", "created_at"],
        "closed" | "done_count" => vec!["resolved_at", "lead_time_days"],
        "created" => vec!["issue_type", "created_at"],
        // A list that named no metric (see [`implied_metric`]) of issues in a state: how long they have
        // been there.
        IMPLIED_STATE => vec!["issue_type", "days_in_status"],
        _ => def.time_field.as_deref().and_then(|t| dims::find(def.entity, t)).map(|d| d.name).into_iter().collect(),
    }
}

/// A measure's value per row as a field: its column when the metric is a column of the row
/// (`f.lead_time_days` is `lead_time_days`), else the metric itself.
fn value_field(def: &MetricDef) -> String {
    def.sql_expression
        .strip_prefix("f.")
        .and_then(|c| {
            dims::list_column_names(def.entity).into_iter().find(|n| dims::list_column(def.entity, n).is_some_and(|d| d.column == c))
        })
        .map(String::from)
        .unwrap_or_else(|| def.name.clone())
}

/// The list spec for a question that asks for rows, from the aggregate spec its reading made; None when
/// the spec is not one a list can stand for (a sprint metric, groups, several metrics, a ratio, a measure
/// without a ranking or a "per issue").
/// Stands for `created` when the list named no metric but filters by the current status.
const IMPLIED_STATE: &str = "(issues in a state)";

pub fn to_list(spec: &Value, intent: Intent, catalog: &[MetricDef]) -> Option<Value> {
    if !(intent.rows || intent.shown) || spec["entity"] != json!("issue") || spec.get("group_by").is_some() {
        return None;
    }
    let metrics = spec["metrics"].as_array()?;
    let [m] = metrics.as_slice() else { return None };
    let name = m.as_str().or_else(|| m["name"].as_str())?;
    let def = catalog.iter().find(|d| d.name == name)?;
    if def.kind == Kind::Formula {
        return None;
    }
    let mut qualifier = json!({"metric": name});
    if let Some(p) = m.get("params") {
        qualifier["params"] = p.clone();
    }
    let mut fields: Vec<Value> = ["key", "summary", "status", "assignee"].iter().map(|f| json!(f)).collect();
    let mut out = json!({"entity": "issue"});
    let counts = def.unit.as_str() == "count";
    let filters_in = spec.get("filters").and_then(Value::as_array).cloned().unwrap_or_default();
    let by_state = def.name == "created"
        && filters_in.iter().any(|f| matches!(f["field"].as_str(), Some("status" | "status_category")) && f["value"] != json!("done"));
    if counts {
        let mut shown = def.clone();
        if by_state {
            shown.name = IMPLIED_STATE.into();
        }
        let mut extra = qualifying_fields(&shown);
        // Issues in a blocked status: their blocked hours too.
        let blocked =
            catalog.iter().find(|d| d.name == "blocked_hours").and_then(|d| d.parameters.get("statuses")).map(|p| p.default.clone());
        if filters_in.iter().any(|f| {
            f["field"] == json!("status")
                && f["operator"] == json!("eq")
                && blocked.as_ref().and_then(Value::as_array).is_some_and(|b| b.contains(&f["value"]))
        }) {
            extra.push("blocked_hours");
        }
        for f in extra {
            if !fields.contains(&json!(f)) {
                fields.push(json!(f));
            }
        }
        let number = |f: &str| {
            catalog.iter().any(|d| d.name == f && listable(d))
                || dims::list_column(def.entity, f).is_some_and(|c| c.kind == dims::Kind::Number)
        };
        let measured = fields.iter().filter_map(Value::as_str).rfind(|f| number(f)).map(String::from);
        let ranked = spec.get("sort_by").and_then(Value::as_array).and_then(|s| s.first()).map(|s| s["direction"].clone());
        match (ranked, measured) {
            // "which issues took longest to resolve": ranked by the number that qualified them.
            (Some(dir), Some(f)) => out["sort_by"] = json!([{"field": f, "direction": dir}]),
            // Newest first when the list shows no number of its own.
            (_, None) => {
                if let Some(t) = fields.iter().rev().find_map(|f| f.as_str().filter(|f| f.ends_with("_at"))) {
                    out["sort_by"] = json!([{"field": t, "direction": "desc"}]);
                }
            }
            _ => {}
        }
    } else if !intent.rows {
        return None;
    } else {
        // A measure lists each row's value: only when the question ranks rows by it or asks for it per row.
        let sorted = spec.get("sort_by").and_then(Value::as_array).and_then(|s| s.first()).cloned();
        if sorted.is_none() && !intent.per_row {
            return None;
        }
        let field = value_field(def);
        fields.push(json!(field));
        if let Some(s) = sorted {
            out["sort_by"] = json!([{"field": field, "direction": s["direction"].clone()}]);
        }
    }
    let mut filters = filters_in;
    // `created` selects every issue (by creation date, a list's own default date): no filter needed; nor
    // does a ranking by a measure that has no filter of its own and no period (the values come first).
    let ranked_plain = !counts && def.filter.is_none() && spec.get("date_range").is_none() && out.get("sort_by").is_some();
    if def.name != "created" && !ranked_plain {
        filters.push(qualifier);
    }
    out["fields"] = Value::Array(fields);
    if !filters.is_empty() {
        out["filters"] = Value::Array(filters);
    }
    if let Some(d) = spec.get("date_range") {
        out["date_range"] = d.clone();
    }
    if let Some(l) = intent.limit.map(|n| json!(n)).or_else(|| spec.get("limit").cloned()) {
        out["limit"] = l;
    }
    Some(out)
}

/// The list spec for a question that asks for rows and names no metric ("which issues are blocked",
/// "list bugs assigned to bob"): the issues its filters select, newest first. The reading has a
/// `created` metric put in (so its filters and period are built as for any count).
pub fn implied_metric(r: &Reading, catalog: &[MetricDef]) -> Option<Reading> {
    let created = catalog.iter().position(|d| d.name == "created")?;
    let mut with = r.clone();
    let at = r.found.first().map(|f| f.start()).unwrap_or(0);
    with.found.insert(0, super::reader::Found { at: vec![at], item: Item::Metric(created), implied: true });
    Some(with)
}
