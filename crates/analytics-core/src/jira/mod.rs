//! Jira REST payloads to rows of the base tables, with no database in sight: search responses (API v2
//! and v3, `expand=changelog`), single issues, Agile sprint lists and single sprints. Everything is
//! checked before anything is written (the glue writes the whole batch or nothing); the first malformed
//! element is reported with its JSON path.

pub mod adf;
pub mod driver;
pub mod http;
pub mod issue;
pub mod source;
pub mod sprint_field;
pub mod sync;
pub mod time;

use serde::Serialize;
use serde_json::{Map, Value};
use sprint_field::SprintRef;
use std::collections::BTreeMap;

/// The first problem of a payload: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraError {
    pub path: String,
    pub message: String,
}

impl JiraError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        JiraError { path: path.into(), message: message.into() }
    }
}

/// Ingest options (`analytics_ingest_jira(payload, options)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub instance_id: String,
    /// The field holding sprints (found by shape when absent).
    pub sprint_field: Option<String>,
    /// The field holding story points (else the first present of the common fields, or a field named
    /// "Story Points" / "Story point estimate" in the response's `names`).
    pub story_points_field: Option<String>,
    /// Status name -> todo | in_progress | done, for statuses the payload does not categorize.
    pub status_categories: BTreeMap<String, String>,
    /// Board id -> board name (else the board is its id).
    pub boards: BTreeMap<String, String>,
}

const OPTION_KEYS: &[&str] = &["instance_id", "sprint_field", "story_points_field", "status_categories", "boards"];

impl Options {
    pub fn parse(v: &Value) -> Result<Options, JiraError> {
        let o = match v {
            Value::Null => return Ok(Options { instance_id: "default".into(), ..Default::default() }),
            Value::Object(o) => o,
            _ => return Err(JiraError::new("options", "options must be a JSON object")),
        };
        if let Some(k) = o.keys().find(|k| !OPTION_KEYS.contains(&k.as_str())) {
            return Err(JiraError::new(format!("options.{k}"), format!("unknown option; known: {}", OPTION_KEYS.join(", "))));
        }
        let text = |k: &str| -> Result<Option<String>, JiraError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() && s.len() <= 200 => Ok(Some(s.clone())),
                Some(_) => Err(JiraError::new(format!("options.{k}"), "must be a non-empty string (at most 200 bytes)")),
            }
        };
        let map = |k: &str| -> Result<BTreeMap<String, String>, JiraError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(key, val)| match val {
                        Value::String(s) => Ok((key.clone(), s.clone())),
                        _ => Err(JiraError::new(format!("options.{k}.{key}"), "must be a string")),
                    })
                    .collect(),
                Some(_) => Err(JiraError::new(format!("options.{k}"), "must be an object")),
            }
        };
        let status_categories = map("status_categories")?;
        for (status, cat) in &status_categories {
            if !crate::schema::STATUS_CATEGORIES.contains(&cat.as_str()) {
                return Err(JiraError::new(format!("options.status_categories.{status}"), "must be todo, in_progress or done"));
            }
        }
        Ok(Options {
            instance_id: text("instance_id")?.unwrap_or_else(|| "default".into()),
            sprint_field: text("sprint_field")?,
            story_points_field: text("story_points_field")?,
            status_categories,
            boards: map("boards")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionRec {
    pub from_status: Option<String>,
    pub to_status: String,
    pub from_category: Option<String>,
    pub to_category: Option<String>,
    pub changed_at: String,
    pub author: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRec {
    pub field: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub changed_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommentRec {
    pub author: Option<String>,
    pub body: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MembershipRec {
    pub sprint_external_id: i64,
    pub added_at: String,
    pub removed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueRec {
    pub issue_key: String,
    pub project_key: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub issue_type: Option<String>,
    pub status: Option<String>,
    pub status_category: Option<String>,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub story_points: Option<f64>,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    pub epic_key: Option<String>,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub resolved_at: Option<String>,
    pub transitions: Vec<TransitionRec>,
    pub changes: Vec<ChangeRec>,
    pub comments: Vec<CommentRec>,
    pub memberships: Vec<MembershipRec>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SprintRec {
    pub external_id: i64,
    pub board: String,
    pub name: String,
    pub goal: Option<String>,
    pub state: String,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub complete_date: Option<String>,
    /// Seen only as an issue's copy in its sprint field (which may lack dates and goal): the loader lets
    /// it fill gaps but never overwrite what the Agile API's sprint said.
    pub from_issue: bool,
}

/// Everything a payload holds, ready to write.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Batch {
    pub issues: Vec<IssueRec>,
    pub sprints: Vec<SprintRec>,
    pub warnings: Vec<String>,
}

pub(crate) fn person(v: Option<&Value>) -> Option<String> {
    let v = v?;
    if let Some(s) = v.as_str() {
        return Some(s.to_string());
    }
    let o = v.as_object()?;
    ["displayName", "name", "emailAddress", "accountId", "key"].iter().find_map(|k| o.get(*k).and_then(Value::as_str)).map(String::from)
}

pub(crate) fn date_at(path: &str, v: Option<&Value>, required: bool) -> Result<Option<String>, JiraError> {
    match v {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(JiraError::new(path, "is required")),
        Some(Value::String(s)) => time::parse(s)
            .map(Some)
            .ok_or_else(|| JiraError::new(path, format!("not a date: {:?}", s.chars().take(60).collect::<String>()))),
        Some(_) => Err(JiraError::new(path, "must be a date string")),
    }
}

fn sprint_rec(r: &SprintRef, path: &str, options: &Options) -> Result<SprintRec, JiraError> {
    let board = r.board_id.map(|b| b.to_string());
    let board = board.map(|b| options.boards.get(&b).cloned().unwrap_or(b)).unwrap_or_else(|| "unknown".into());
    let state = match r.state.as_deref() {
        Some("closed") => "closed",
        Some("active") => "active",
        Some("future") | None => "future",
        Some(other) => return Err(JiraError::new(format!("{path}.state"), format!("unknown sprint state {other:?}"))),
    };
    let start = date_at(&format!("{path}.startDate"), r.start.as_ref().map(|s| Value::String(s.clone())).as_ref(), false)?;
    let end = date_at(&format!("{path}.endDate"), r.end.as_ref().map(|s| Value::String(s.clone())).as_ref(), false)?;
    let complete = date_at(&format!("{path}.completeDate"), r.complete.as_ref().map(|s| Value::String(s.clone())).as_ref(), false)?;
    // A closed sprint always has dates in Jira; if an export lacks them, fall back sensibly.
    let (state, start, complete) = match (state, start, complete) {
        ("closed", Some(s), None) => {
            let complete = end.clone().unwrap_or_else(|| s.clone());
            ("closed", Some(s), Some(complete))
        }
        ("closed", None, _) => ("future", None, None),
        (st, s, c) => (st, s, c),
    };
    Ok(SprintRec {
        external_id: r.id,
        board,
        name: r.name.clone().unwrap_or_else(|| format!("Sprint {}", r.id)),
        goal: r.goal.clone(),
        state: state.into(),
        start_date: start,
        end_date: end,
        complete_date: complete,
        from_issue: false,
    })
}

/// Parses a payload of any accepted shape.
pub fn parse_payload(payload: &Value, options: &Options) -> Result<Batch, JiraError> {
    let obj: &Map<String, Value> = payload.as_object().ok_or_else(|| JiraError::new("$", "the payload must be a JSON object"))?;
    let mut batch = Batch::default();
    let mut sprints: BTreeMap<i64, SprintRec> = BTreeMap::new();
    let add_sprint = |rec: SprintRec, sprints: &mut BTreeMap<i64, SprintRec>| {
        // An Agile sprint payload is richer than an issue's copy: it wins; otherwise first seen wins.
        sprints.entry(rec.external_id).or_insert(rec);
    };

    // Agile sprint payloads: {"values": [sprint, ...]} or a single sprint object.
    if let Some(values) = obj.get("values") {
        let items = values.as_array().ok_or_else(|| JiraError::new("$.values", "must be an array"))?;
        for (i, v) in items.iter().enumerate() {
            let path = format!("$.values[{i}]");
            let r = sprint_field::parse_object(v).ok_or_else(|| JiraError::new(&path, "not a sprint (needs id, name, state)"))?;
            add_sprint(sprint_rec(&r, &path, options)?, &mut sprints);
        }
    } else if obj.contains_key("state") && obj.contains_key("id") && !obj.contains_key("fields") {
        let r = sprint_field::parse_object(payload).ok_or_else(|| JiraError::new("$", "not a sprint (needs id, name, state)"))?;
        add_sprint(sprint_rec(&r, "$", options)?, &mut sprints);
    }

    // Issues: a search response {"issues": [...], "names": {...}} or a single issue {"key", "fields"}.
    let names = obj.get("names").and_then(Value::as_object);
    let issues: Vec<(String, &Value)> = if let Some(list) = obj.get("issues") {
        let items = list.as_array().ok_or_else(|| JiraError::new("$.issues", "must be an array"))?;
        items.iter().enumerate().map(|(i, v)| (format!("$.issues[{i}]"), v)).collect()
    } else if obj.contains_key("fields") {
        vec![("$".to_string(), payload)]
    } else {
        vec![]
    };
    if issues.is_empty() && sprints.is_empty() {
        return Err(JiraError::new("$", "no issues and no sprints found: expected a search response {\"issues\": [...]}, an issue {\"key\", \"fields\"}, a sprint list {\"values\": [...]} or a sprint"));
    }
    let mut categories: BTreeMap<String, String> = BTreeMap::new();
    let mut parsed = Vec::with_capacity(issues.len());
    for (path, v) in &issues {
        let p = issue::parse(v, path, options, names)?;
        if let (Some(s), Some(c)) = (&p.rec.status, &p.rec.status_category) {
            categories.entry(s.clone()).or_insert_with(|| c.clone());
        }
        for (s, c) in &p.seen_categories {
            categories.entry(s.clone()).or_insert_with(|| c.clone());
        }
        batch.warnings.extend(p.warnings.iter().cloned());
        for r in &p.sprints {
            let rec = SprintRec { from_issue: true, ..sprint_rec(r, &format!("{path}.fields.<sprint field>"), options)? };
            add_sprint(rec, &mut sprints);
        }
        parsed.push(p);
    }
    for (status, cat) in &options.status_categories {
        categories.insert(status.clone(), cat.clone());
    }
    let mut unknown: Vec<String> = Vec::new();
    for p in parsed {
        let mut rec = p.rec;
        let mut cat = |s: &Option<String>| -> Option<String> {
            let s = s.as_ref()?;
            match categories.get(s) {
                Some(c) => Some(c.clone()),
                None => {
                    if !unknown.contains(s) {
                        unknown.push(s.clone());
                    }
                    None
                }
            }
        };
        for t in &mut rec.transitions {
            t.from_category = cat(&t.from_status);
            t.to_category = cat(&Some(t.to_status.clone()));
        }
        if rec.status_category.is_none() {
            rec.status_category = cat(&rec.status);
        }
        batch.issues.push(rec);
    }
    for s in unknown {
        batch.warnings.push(format!(
            "status {s:?} has no category in the payload; its transitions have none. Map it with options.status_categories, e.g. {{\"{s}\": \"in_progress\"}}"
        ));
    }
    batch.sprints = sprints.into_values().collect();
    Ok(batch)
}

#[cfg(test)]
mod tests;
