//! The sprint field of an issue, in both forms: Jira Cloud's array of objects (`customfield_10020`:
//! `{"id", "name", "state", "boardId", "goal", "startDate", "endDate", "completeDate"}`) and Jira
//! Server/Data Center's strings `com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=12,rapidViewId=5,
//! state=CLOSED,name=Sprint 1,startDate=...,endDate=...,completeDate=...,sequence=12]` (names may hold commas).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SprintRef {
    pub id: i64,
    pub name: Option<String>,
    pub state: Option<String>,
    pub board_id: Option<i64>,
    pub goal: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub complete: Option<String>,
}

const SERVER_KEYS: &[&str] = &[
    "id",
    "rapidViewId",
    "state",
    "name",
    "goal",
    "startDate",
    "endDate",
    "completeDate",
    "activatedDate",
    "sequence",
    "autoStartStop",
    "synced",
    "incompleteIssuesDestinationId",
];

/// Parses one Server sprint string. None when it is not one.
pub fn parse_server(s: &str) -> Option<SprintRef> {
    if !s.starts_with("com.atlassian.greenhopper.service.sprint.Sprint@") {
        return None;
    }
    let body = &s[s.find('[')? + 1..s.rfind(']')?];
    // Split at ",key=" for known keys only, so commas inside names survive.
    let mut parts: Vec<(&str, String)> = Vec::new();
    let mut rest = body;
    loop {
        let eq = rest.find('=')?;
        let key = &rest[..eq];
        let after = &rest[eq + 1..];
        let next = SERVER_KEYS.iter().filter_map(|k| after.find(&format!(",{k}=")).map(|i| (i, *k))).min_by_key(|(i, _)| *i);
        match next {
            Some((i, _)) => {
                parts.push((key, after[..i].to_string()));
                rest = &after[i + 1..];
            }
            None => {
                parts.push((key, after.to_string()));
                break;
            }
        }
    }
    let get = |k: &str| parts.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty() && v != "<null>");
    Some(SprintRef {
        id: get("id")?.parse().ok()?,
        name: get("name"),
        state: get("state").map(|s| s.to_lowercase()),
        board_id: get("rapidViewId").and_then(|v| v.parse().ok()),
        goal: get("goal"),
        start: get("startDate"),
        end: get("endDate"),
        complete: get("completeDate"),
    })
}

fn as_i64(v: Option<&Value>) -> Option<i64> {
    v.and_then(|x| x.as_i64().or_else(|| x.as_str().and_then(|s| s.parse().ok())))
}

fn as_string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(String::from).filter(|s| !s.is_empty())
}

/// Parses a Cloud sprint object (also the Agile API's sprint objects). None when it is not one.
pub fn parse_object(v: &Value) -> Option<SprintRef> {
    let o = v.as_object()?;
    if !o.contains_key("id") || !(o.contains_key("name") || o.contains_key("state")) {
        return None;
    }
    Some(SprintRef {
        id: as_i64(o.get("id"))?,
        name: as_string(o.get("name")),
        state: as_string(o.get("state")).map(|s| s.to_lowercase()),
        board_id: as_i64(o.get("boardId")).or_else(|| as_i64(o.get("originBoardId"))).or_else(|| as_i64(o.get("rapidViewId"))),
        goal: as_string(o.get("goal")),
        start: as_string(o.get("startDate")),
        end: as_string(o.get("endDate")),
        complete: as_string(o.get("completeDate")),
    })
}

/// The sprints in a field value of either form; None when the value does not look like a sprint field.
pub fn parse_field(v: &Value) -> Option<Vec<SprintRef>> {
    let items = v.as_array()?;
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|i| match i {
            Value::String(s) => parse_server(s),
            other => parse_object(other),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_strings_keep_commas_in_names() {
        let s = "com.atlassian.greenhopper.service.sprint.Sprint@5c2a0c1[id=12,rapidViewId=5,state=CLOSED,name=Sprint 3, the hard one,goal=,startDate=2025-01-06T09:00:00.000Z,endDate=2025-01-20T09:00:00.000Z,completeDate=2025-01-20T08:00:00.000Z,activatedDate=2025-01-06T09:00:00.000Z,sequence=12,autoStartStop=false]";
        let r = parse_server(s).unwrap();
        assert_eq!(r.id, 12);
        assert_eq!(r.board_id, Some(5));
        assert_eq!(r.state.as_deref(), Some("closed"));
        assert_eq!(r.name.as_deref(), Some("Sprint 3, the hard one"));
        assert_eq!(r.goal, None);
        assert_eq!(r.complete.as_deref(), Some("2025-01-20T08:00:00.000Z"));
        assert!(parse_server("not a sprint").is_none());
    }

    #[test]
    fn cloud_objects_and_fields() {
        let v = json!([{"id": 7, "name": "PAY Sprint 1", "state": "active", "boardId": 3, "goal": "", "startDate": "2025-01-06T09:00:00.000Z", "endDate": "2025-01-20T09:00:00.000Z"}]);
        let r = parse_field(&v).unwrap();
        assert_eq!(r[0].id, 7);
        assert_eq!(r[0].board_id, Some(3));
        assert_eq!(r[0].goal, None);
        assert!(parse_field(&json!(["backend", "frontend"])).is_none(), "labels are not sprints");
        assert!(parse_field(&json!([{"id": 1, "value": "x"}])).is_none(), "select options are not sprints");
        assert!(parse_field(&json!([])).is_none());
    }
}
