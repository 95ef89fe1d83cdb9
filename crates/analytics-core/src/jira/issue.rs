//! One Jira issue (`{"key", "fields", "changelog"}`) to an [`IssueRec`]: fields, comments, the status
//! history, the rest of the changelog with normalized field names, and sprint membership intervals
//! rebuilt from the `Sprint` changelog items.

use super::sprint_field::{self, SprintRef};
use super::*;
use std::collections::BTreeSet;

pub struct Parsed {
    pub rec: IssueRec,
    pub sprints: Vec<SprintRef>,
    /// Status names whose category the payload states (the issue's current status).
    pub seen_categories: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// Jira status category keys to ours.
pub fn category_of(key: &str) -> Option<&'static str> {
    match key {
        "new" | "undefined" => Some("todo"),
        "indeterminate" => Some("in_progress"),
        "done" => Some("done"),
        _ => None,
    }
}

const STORY_POINT_FIELDS: &[&str] = &["customfield_10016", "customfield_10026", "customfield_10002", "customfield_10106"];
const STORY_POINT_NAMES: &[&str] = &["Story Points", "Story point estimate"];

fn string_at(o: &Map<String, Value>, k: &str, path: &str) -> Result<Option<String>, JiraError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JiraError::new(format!("{path}.{k}"), "must be a string")),
    }
}

fn name_of(o: &Map<String, Value>, k: &str, path: &str) -> Result<Option<String>, JiraError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(x)) => Ok(x.get("name").or_else(|| x.get("value")).and_then(Value::as_str).map(String::from)),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JiraError::new(format!("{path}.{k}"), "must be an object with a name")),
    }
}

fn points(v: Option<&Value>, path: &str) -> Result<Option<f64>, JiraError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Some)
            .ok_or_else(|| JiraError::new(path, "story points must be a non-negative number")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Some)
            .ok_or_else(|| JiraError::new(path, "story points must be a number")),
        Some(_) => Err(JiraError::new(path, "story points must be a number")),
    }
}

fn ids(s: Option<&Value>) -> BTreeSet<i64> {
    s.and_then(Value::as_str).map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect()).unwrap_or_default()
}

fn sprint_field_of<'a>(
    fields: &'a Map<String, Value>,
    options: &Options,
    names: Option<&Map<String, Value>>,
    path: &str,
) -> Result<Option<(&'a str, Vec<SprintRef>)>, JiraError> {
    if let Some(f) = &options.sprint_field {
        return match fields.get_key_value(f.as_str()) {
            None | Some((_, Value::Null)) => Ok(None),
            Some((k, Value::Array(a))) if a.is_empty() => Ok(Some((k.as_str(), vec![]))),
            Some((k, v)) => sprint_field::parse_field(v).map(|s| Some((k.as_str(), s))).ok_or_else(|| {
                JiraError::new(format!("{path}.fields.{f}"), "options.sprint_field names this field, but it holds no sprints")
            }),
        };
    }
    // A field named "Sprint" first, then the usual Cloud field, then anything shaped like sprints.
    let named = names.and_then(|n| n.iter().find(|(_, v)| v.as_str() == Some("Sprint")).map(|(k, _)| k.as_str()));
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort_by_key(|k| (Some(k.as_str()) != named, k.as_str() != "customfield_10020", k.as_str()));
    for k in keys {
        if let Some(s) = sprint_field::parse_field(&fields[k.as_str()]) {
            return Ok(Some((k.as_str(), s)));
        }
    }
    Ok(None)
}

pub fn parse(v: &Value, path: &str, options: &Options, names: Option<&Map<String, Value>>) -> Result<Parsed, JiraError> {
    let o = v.as_object().ok_or_else(|| JiraError::new(path, "an issue must be an object"))?;
    let key = match o.get("key") {
        Some(Value::String(k)) if !k.is_empty() && k.len() <= 255 => k.clone(),
        _ => return Err(JiraError::new(format!("{path}.key"), "an issue needs a key (a string)")),
    };
    let fields = o.get("fields").and_then(Value::as_object).ok_or_else(|| JiraError::new(format!("{path}.fields"), "must be an object"))?;
    let fpath = format!("{path}.fields");
    let mut warnings = Vec::new();

    let created_at = date_at(&format!("{fpath}.created"), fields.get("created"), true)?.unwrap_or_default();
    let updated_at = date_at(&format!("{fpath}.updated"), fields.get("updated"), false)?;
    let resolved_at = date_at(&format!("{fpath}.resolutiondate"), fields.get("resolutiondate"), false)?;
    let (status, status_category) = match fields.get("status") {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(s)) => (
            s.get("name").and_then(Value::as_str).map(String::from),
            s.get("statusCategory").and_then(|c| c.get("key")).and_then(Value::as_str).and_then(category_of).map(String::from),
        ),
        Some(_) => return Err(JiraError::new(format!("{fpath}.status"), "must be an object")),
    };
    let labels = match fields.get("labels") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, l)| l.as_str().map(String::from).ok_or_else(|| JiraError::new(format!("{fpath}.labels[{i}]"), "must be a string")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(JiraError::new(format!("{fpath}.labels"), "must be an array")),
    };
    let components = match fields.get("components") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from)).collect(),
        Some(_) => return Err(JiraError::new(format!("{fpath}.components"), "must be an array")),
    };
    let project_key = fields
        .get("project")
        .and_then(|p| p.get("key"))
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| key.rsplit_once('-').map(|(p, _)| p.to_string()));
    let parent_is_epic = fields
        .get("parent")
        .and_then(|p| p.get("fields"))
        .and_then(|f| f.get("issuetype"))
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        == Some("Epic");
    let epic_link = names.and_then(|n| n.iter().find(|(_, v)| v.as_str() == Some("Epic Link")).map(|(k, _)| k.clone()));
    let epic_key = if parent_is_epic {
        fields.get("parent").and_then(|p| p.get("key")).and_then(Value::as_str).map(String::from)
    } else {
        epic_link.as_deref().or(Some("customfield_10014")).and_then(|f| fields.get(f)).and_then(Value::as_str).map(String::from)
    };

    let sp_field: Option<String> = options
        .story_points_field
        .clone()
        .or_else(|| {
            names.and_then(|n| n.iter().find(|(_, v)| v.as_str().is_some_and(|s| STORY_POINT_NAMES.contains(&s))).map(|(k, _)| k.clone()))
        })
        .or_else(|| STORY_POINT_FIELDS.iter().find(|f| fields.get(**f).is_some_and(|v| !v.is_null())).map(|f| f.to_string()));
    let story_points = match &sp_field {
        Some(f) => points(fields.get(f), &format!("{fpath}.{f}"))?,
        None => None,
    };

    let comments = match fields.get("comment").and_then(|c| c.get("comments")) {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let cpath = format!("{fpath}.comment.comments[{i}]");
                Ok(CommentRec {
                    author: person(c.get("author")),
                    body: c.get("body").and_then(adf::text),
                    created_at: date_at(&format!("{cpath}.created"), c.get("created"), true)?.unwrap_or_default(),
                })
            })
            .collect::<Result<_, JiraError>>()?,
        Some(_) => return Err(JiraError::new(format!("{fpath}.comment.comments"), "must be an array")),
    };

    // The changelog, oldest first.
    // (created, position, author, items, path)
    type History<'a> = (String, usize, Option<String>, &'a Vec<Value>, String);
    let mut histories: Vec<History> = Vec::new();
    if let Some(cl) = o.get("changelog").filter(|c| !c.is_null()) {
        let hs = cl
            .get("histories")
            .and_then(Value::as_array)
            .ok_or_else(|| JiraError::new(format!("{path}.changelog.histories"), "must be an array"))?;
        if let Some(total) = cl.get("total").and_then(Value::as_u64) {
            if total as usize > hs.len() {
                warnings.push(format!("{key}: the changelog holds {} of {total} entries; fetch the rest from /rest/api/2/issue/{key}/changelog for exact history", hs.len()));
            }
        }
        for (i, h) in hs.iter().enumerate() {
            let hpath = format!("{path}.changelog.histories[{i}]");
            let at = date_at(&format!("{hpath}.created"), h.get("created"), true)?.unwrap_or_default();
            let items =
                h.get("items").and_then(Value::as_array).ok_or_else(|| JiraError::new(format!("{hpath}.items"), "must be an array"))?;
            histories.push((at, i, person(h.get("author")), items, hpath));
        }
    }
    histories.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));

    let mut status_changes: Vec<(Option<String>, String, String, Option<String>)> = Vec::new();
    let mut changes: Vec<ChangeRec> = Vec::new();
    let mut sprint_events: Vec<(String, BTreeSet<i64>, BTreeSet<i64>)> = Vec::new();
    for (at, _, author, items, hpath) in &histories {
        for (j, item) in items.iter().enumerate() {
            let ipath = format!("{hpath}.items[{j}]");
            let field =
                item.get("field").and_then(Value::as_str).ok_or_else(|| JiraError::new(format!("{ipath}.field"), "must be a string"))?;
            let field_id = item.get("fieldId").and_then(Value::as_str);
            let from_s = item.get("fromString").and_then(Value::as_str).map(String::from).filter(|s| !s.is_empty());
            let to_s = item.get("toString").and_then(Value::as_str).map(String::from).filter(|s| !s.is_empty());
            let is_sp = STORY_POINT_NAMES.contains(&field) || (field_id.is_some() && field_id == sp_field.as_deref());
            match field {
                "status" => {
                    let to =
                        to_s.clone().ok_or_else(|| JiraError::new(format!("{ipath}.toString"), "a status change needs the new status"))?;
                    status_changes.push((from_s, to, at.clone(), author.clone()));
                }
                "Sprint" => sprint_events.push((at.clone(), ids(item.get("from")), ids(item.get("to")))),
                _ if is_sp => {
                    changes.push(ChangeRec { field: "story_points".into(), from_value: from_s, to_value: to_s, changed_at: at.clone() })
                }
                "assignee" => {
                    changes.push(ChangeRec { field: "assignee".into(), from_value: from_s, to_value: to_s, changed_at: at.clone() })
                }
                "priority" => {
                    changes.push(ChangeRec { field: "priority".into(), from_value: from_s, to_value: to_s, changed_at: at.clone() })
                }
                "Flagged" => {
                    changes.push(ChangeRec { field: "flagged".into(), from_value: from_s, to_value: to_s, changed_at: at.clone() })
                }
                _ => {}
            }
        }
    }

    let mut transitions = Vec::new();
    let initial = status_changes.first().and_then(|c| c.0.clone()).or_else(|| status.clone());
    if let Some(first) = initial {
        transitions.push(TransitionRec {
            from_status: None,
            to_status: first,
            from_category: None,
            to_category: None,
            changed_at: created_at.clone(),
            author: person(fields.get("reporter")),
        });
    }
    for (from, to, at, author) in status_changes {
        transitions.push(TransitionRec {
            from_status: from,
            to_status: to,
            from_category: None,
            to_category: None,
            changed_at: at,
            author,
        });
    }

    // Sprint membership: what held at creation (the first change's "from", or today's field when the
    // sprint never changed), then every add and removal.
    let sprint_field = sprint_field_of(fields, options, names, path)?;
    let current: BTreeSet<i64> = sprint_field.as_ref().map(|(_, s)| s.iter().map(|r| r.id).collect()).unwrap_or_default();
    let mut open: BTreeMap<i64, String> = BTreeMap::new();
    let mut memberships = Vec::new();
    let initial_set = sprint_events.first().map(|e| e.1.clone()).unwrap_or_else(|| current.clone());
    for id in initial_set {
        open.insert(id, created_at.clone());
    }
    for (at, from, to) in &sprint_events {
        let at = if at < &created_at { created_at.clone() } else { at.clone() };
        for id in from.difference(to) {
            if let Some(since) = open.remove(id) {
                memberships.push(MembershipRec { sprint_external_id: *id, added_at: since, removed_at: Some(at.clone()) });
            }
        }
        for id in to.difference(from) {
            open.entry(*id).or_insert_with(|| at.clone());
        }
    }
    let missing: Vec<i64> = current.iter().filter(|id| !open.contains_key(id)).copied().collect();
    for id in &missing {
        warnings.push(format!("{key}: in sprint {id} now, but its changelog never adds it; counted as a member since creation"));
        open.insert(*id, created_at.clone());
    }
    for (id, since) in open {
        memberships.push(MembershipRec { sprint_external_id: id, added_at: since, removed_at: None });
    }
    memberships.sort_by(|a, b| (a.sprint_external_id, &a.added_at).cmp(&(b.sprint_external_id, &b.added_at)));

    let seen_categories = match (&status, &status_category) {
        (Some(s), Some(c)) => vec![(s.clone(), c.clone())],
        _ => vec![],
    };
    let rec = IssueRec {
        issue_key: key,
        project_key,
        summary: string_at(fields, "summary", &fpath)?,
        description: fields.get("description").and_then(adf::text),
        issue_type: name_of(fields, "issuetype", &fpath)?,
        status,
        status_category,
        priority: name_of(fields, "priority", &fpath)?,
        assignee: person(fields.get("assignee")),
        reporter: person(fields.get("reporter")),
        story_points,
        labels,
        components,
        epic_key,
        created_at,
        updated_at,
        resolved_at,
        transitions,
        changes,
        comments,
        memberships,
    };
    Ok(Parsed { rec, sprints: sprint_field.map(|(_, s)| s).unwrap_or_default(), seen_categories, warnings })
}
