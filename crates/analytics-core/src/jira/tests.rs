use super::*;
use serde_json::json;

fn fixture(name: &str) -> Value {
    let text = match name {
        "v2" => include_str!("../../../../tests/fixtures/jira/search_v2_server.json"),
        "v3" => include_str!("../../../../tests/fixtures/jira/search_v3_cloud.json"),
        "agile" => include_str!("../../../../tests/fixtures/jira/agile_sprints.json"),
        "single" => include_str!("../../../../tests/fixtures/jira/single_issue.json"),
        _ => unreachable!(),
    };
    serde_json::from_str(text).unwrap()
}

fn options(v: Value) -> Options {
    Options::parse(&v).unwrap()
}

fn issue<'a>(b: &'a Batch, key: &str) -> &'a IssueRec {
    b.issues.iter().find(|i| i.issue_key == key).unwrap()
}

#[test]
fn server_search_with_changelog() {
    let b = parse_payload(&fixture("v2"), &options(json!({}))).unwrap();
    assert_eq!(b.issues.len(), 5);
    let ids: Vec<i64> = b.sprints.iter().map(|s| s.external_id).collect();
    assert_eq!(ids, vec![11, 12, 13]);
    let s11 = &b.sprints[0];
    assert_eq!((s11.name.as_str(), s11.board.as_str(), s11.state.as_str()), ("SRV Sprint 11, the first", "5", "closed"));
    assert_eq!(s11.complete_date.as_deref(), Some("2025-03-17T08:00:00.000Z"));
    assert_eq!(b.sprints[2].state, "active");
    assert_eq!(b.sprints[2].complete_date, None);

    let srv2 = issue(&b, "SRV-2");
    assert_eq!(srv2.story_points, Some(8.0));
    let m: Vec<(i64, &str, Option<&str>)> =
        srv2.memberships.iter().map(|m| (m.sprint_external_id, m.added_at.as_str(), m.removed_at.as_deref())).collect();
    assert_eq!(
        m,
        vec![
            (11, "2025-03-02T12:00:00.000Z", Some("2025-03-05T12:00:00.000Z")),
            (12, "2025-03-16T12:00:00.000Z", None),
            (13, "2025-03-31T08:00:00.000Z", None),
        ]
    );
    let t: Vec<(Option<&str>, &str, Option<&str>)> =
        srv2.transitions.iter().map(|t| (t.from_status.as_deref(), t.to_status.as_str(), t.to_category.as_deref())).collect();
    assert_eq!(
        t,
        vec![
            (None, "To Do", Some("todo")),
            (Some("To Do"), "In Progress", Some("in_progress")),
            (Some("In Progress"), "Done", Some("done")),
            (Some("Done"), "In Progress", Some("in_progress")),
            (Some("In Progress"), "Done", Some("done")),
        ]
    );
    let sp: Vec<(Option<&str>, Option<&str>, &str)> = srv2
        .changes
        .iter()
        .filter(|c| c.field == "story_points")
        .map(|c| (c.from_value.as_deref(), c.to_value.as_deref(), c.changed_at.as_str()))
        .collect();
    assert_eq!(
        sp,
        vec![(None, Some("5"), "2025-02-27T09:05:00.000Z"), (Some("5"), Some("8"), "2025-03-20T10:00:00.000Z")],
        "histories sorted by time"
    );

    let srv1 = issue(&b, "SRV-1");
    assert_eq!(srv1.memberships[0].added_at, srv1.created_at, "in the sprint since creation");
    assert_eq!(srv1.comments.len(), 1);
    assert_eq!(srv1.description.as_deref(), Some("Plain v2 description of SRV-1"));
    assert_eq!(srv1.resolved_at.as_deref(), Some("2025-03-06T10:00:00.000Z"));

    let srv3 = issue(&b, "SRV-3");
    assert_eq!(srv3.story_points, None);
    let flags: Vec<(Option<&str>, Option<&str>)> =
        srv3.changes.iter().filter(|c| c.field == "flagged").map(|c| (c.from_value.as_deref(), c.to_value.as_deref())).collect();
    assert_eq!(flags, vec![(None, Some("Impediment")), (Some("Impediment"), None)]);
    let waiting = srv3.transitions.iter().find(|t| t.to_status == "Waiting for QA").unwrap();
    assert_eq!(waiting.to_category, None, "unknown status: no category");
    assert!(b.warnings.iter().any(|w| w.contains("\"Waiting for QA\"")), "{:?}", b.warnings);
    assert_eq!(issue(&b, "SRV-4").memberships.len(), 0);
}

#[test]
fn status_categories_from_options() {
    let b = parse_payload(&fixture("v2"), &options(json!({"status_categories": {"Waiting for QA": "in_progress"}}))).unwrap();
    let srv3 = issue(&b, "SRV-3");
    let waiting = srv3.transitions.iter().find(|t| t.to_status == "Waiting for QA").unwrap();
    assert_eq!(waiting.to_category.as_deref(), Some("in_progress"));
    assert!(!b.warnings.iter().any(|w| w.contains("Waiting for QA")), "{:?}", b.warnings);
}

#[test]
fn cloud_v3_with_adf_and_sprint_objects() {
    let b = parse_payload(&fixture("v3"), &options(json!({"boards": {"7": "Web team"}}))).unwrap();
    let web1 = issue(&b, "WEB-1");
    assert_eq!(web1.description.as_deref(), Some("Checkout fails on Safari.\nSteps: add to cart."));
    assert_eq!(web1.comments[0].body.as_deref(), Some("Reproduced.\nFix is up."));
    assert_eq!(web1.epic_key.as_deref(), Some("WEB-100"));
    assert_eq!(web1.story_points, Some(2.0));
    assert_eq!(web1.created_at, "2025-03-04T09:00:00.000Z", "+0100 normalized to UTC");
    assert_eq!(web1.assignee.as_deref(), Some("Ana"));
    assert!(web1.changes.iter().any(|c| c.field == "story_points" && c.to_value.as_deref() == Some("2")));
    assert_eq!(b.sprints[0].board, "Web team");
    let web2 = issue(&b, "WEB-2");
    assert_eq!(web2.components, vec!["frontend"]);
    let m: Vec<(i64, Option<&str>)> = web2.memberships.iter().map(|m| (m.sprint_external_id, m.removed_at.as_deref())).collect();
    assert_eq!(m, vec![(21, None), (22, None)], "carried over: stays in the closed sprint, joins the next");
}

#[test]
fn agile_sprints_and_single_issues() {
    let b = parse_payload(&fixture("agile"), &options(json!({}))).unwrap();
    assert_eq!(b.sprints.len(), 3);
    assert_eq!(b.sprints[0].goal.as_deref(), Some("Ship checkout"));
    assert_eq!(b.sprints[0].board, "7");
    assert_eq!(b.sprints[2].state, "future");
    let b = parse_payload(&fixture("single"), &options(json!({}))).unwrap();
    assert_eq!(b.issues.len(), 1);
    assert_eq!(b.sprints.len(), 1);
}

#[test]
fn malformed_payloads_name_the_first_bad_element() {
    let cases = [
        (json!([1, 2]), "$"),
        (json!({"issues": {}}), "$.issues"),
        (json!({"issues": [{"fields": {}}]}), "$.issues[0].key"),
        (json!({"issues": [{"key": "A-1", "fields": []}]}), "$.issues[0].fields"),
        (json!({"issues": [{"key": "A-1", "fields": {}}]}), "$.issues[0].fields.created"),
        (json!({"issues": [{"key": "A-1", "fields": {"created": "yesterday"}}]}), "$.issues[0].fields.created"),
        (
            json!({"issues": [{"key": "A-1", "fields": {"created": "2025-01-01T00:00:00.000+0000", "labels": "x"}}]}),
            "$.issues[0].fields.labels",
        ),
        (
            json!({"issues": [{"key": "A-1", "fields": {"created": "2025-01-01T00:00:00.000+0000", "customfield_10016": "lots"}}]}),
            "$.issues[0].fields.customfield_10016",
        ),
        (
            json!({"issues": [{"key": "A-1", "fields": {"created": "2025-01-01T00:00:00.000+0000"}, "changelog": {"histories": [{"created": "bad", "items": []}]}}]}),
            "$.issues[0].changelog.histories[0].created",
        ),
        (
            json!({"issues": [{"key": "A-1", "fields": {"created": "2025-01-01T00:00:00.000+0000"}, "changelog": {"histories": [{"created": "2025-01-02T00:00:00.000+0000", "items": {}}]}}]}),
            "$.issues[0].changelog.histories[0].items",
        ),
        (json!({"values": [{"id": 1, "name": "S", "state": "paused"}]}), "$.values[0].state"),
        (json!({"hello": "world"}), "$"),
    ];
    for (payload, path) in cases {
        let err = parse_payload(&payload, &options(json!({}))).expect_err(&payload.to_string());
        assert_eq!(err.path, path, "{payload}: {}", err.message);
    }
    assert_eq!(Options::parse(&json!({"colour": 1})).unwrap_err().path, "options.colour");
    assert_eq!(Options::parse(&json!({"status_categories": {"QA": "doing"}})).unwrap_err().path, "options.status_categories.QA");
}
