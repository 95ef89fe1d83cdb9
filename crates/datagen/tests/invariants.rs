//! The generated data is deterministic, internally consistent (what the schema's constraints and the
//! metric definitions assume), and has the shapes the metrics need to be interesting.

use agile_datagen::model::{category, VecSink};
use agile_datagen::{generate, Config, Stats};
use std::collections::{HashMap, HashSet};

const END: i64 = 1_795_823_999; // 2026-11-28 23:59:59 UTC

fn run(issues: usize, seed: u64) -> (Stats, VecSink) {
    let mut sink = VecSink::default();
    let stats = generate(&Config::for_scale(issues, seed, END), &mut sink).expect("generate");
    (stats, sink)
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let (s1, a) = run(3000, 7);
    let (s2, b) = run(3000, 7);
    assert_eq!(s1, s2);
    assert_eq!(a.issues, b.issues);
    assert_eq!(a.transitions, b.transitions);
    assert_eq!(a.memberships, b.memberships);
    assert_eq!(a.comments, b.comments);
    let (_, c) = run(3000, 8);
    assert_ne!(a.issues, c.issues);
}

#[test]
fn scale_tenants_and_sprint_density() {
    let (stats, d) = run(20_000, 42);
    assert!(stats.issues >= 20_000 && stats.issues < 22_000, "{stats:?}");
    assert_eq!(d.issues.len(), stats.issues);
    assert_eq!(stats.tenants, 3);
    let tenants: HashSet<_> = d.issues.iter().map(|i| i.tenant.as_str()).collect();
    assert_eq!(tenants, HashSet::from(["acme", "globex", "initech"]));
    // About one sprint per 20 issues: the bench scale (1M issues) then has >= 50k sprints.
    assert!(d.sprints.len() * 20 >= d.issues.len(), "{} sprints for {} issues", d.sprints.len(), d.issues.len());
    let boards: HashSet<_> = d.sprints.iter().map(|s| (&s.tenant, &s.board)).collect();
    assert_eq!(boards.len(), stats.boards);
}

#[test]
fn rows_are_consistent() {
    let (_, d) = run(5000, 42);
    let issues: HashMap<i64, _> = d.issues.iter().map(|i| (i.id, i)).collect();
    assert_eq!(issues.len(), d.issues.len(), "issue ids unique");
    let keys: HashSet<_> = d.issues.iter().map(|i| (&i.tenant, &i.issue_key)).collect();
    assert_eq!(keys.len(), d.issues.len(), "issue keys unique per tenant");
    let sprints: HashMap<i64, _> = d.sprints.iter().map(|s| (s.id, s)).collect();
    assert_eq!(sprints.len(), d.sprints.len());

    for i in &d.issues {
        assert!(i.created_at <= END && i.updated_at >= i.created_at && i.updated_at <= END, "{}", i.issue_key);
        assert_eq!(i.status_category, category(i.status));
        assert_eq!(i.resolved_at.is_some(), i.status == "Done", "{}: resolved iff done", i.issue_key);
        if let Some(r) = i.resolved_at {
            assert!(r >= i.created_at);
        }
    }
    // Transitions chain per issue and agree with the issue's final status.
    let mut last_status: HashMap<i64, &str> = HashMap::new();
    for t in &d.transitions {
        let issue = issues[&t.issue_id];
        assert_eq!(t.tenant, issue.tenant);
        assert!(t.changed_at >= issue.created_at && t.changed_at <= END);
        assert_eq!(t.from_status, last_status.get(&t.issue_id).copied(), "chain of {}", issue.issue_key);
        last_status.insert(t.issue_id, t.to_status);
    }
    for i in &d.issues {
        assert_eq!(last_status.get(&i.id).copied(), Some(i.status), "{}", i.issue_key);
    }
    for c in &d.changes {
        let issue = issues[&c.issue_id];
        assert_eq!(c.tenant, issue.tenant);
        assert!(c.changed_at <= END);
        assert!(["story_points", "assignee", "priority", "flagged"].contains(&c.field));
    }
    for c in &d.comments {
        let issue = issues[&c.issue_id];
        assert_eq!(c.tenant, issue.tenant);
        assert!(c.created_at >= issue.created_at && c.created_at <= END);
    }
    for s in &d.sprints {
        assert!(s.end_date > s.start_date);
        match s.state {
            "closed" => assert!(s.complete_date.is_some_and(|c| c <= END && c > s.start_date)),
            "active" => assert!(s.complete_date.is_none() && s.start_date <= END),
            "future" => assert!(s.complete_date.is_none() && s.start_date > END),
            other => panic!("state {other}"),
        }
    }
    let mut intervals = HashSet::new();
    for m in &d.memberships {
        let (issue, sprint) = (issues[&m.issue_id], sprints[&m.sprint_id]);
        assert_eq!(m.tenant, issue.tenant);
        assert_eq!(m.tenant, sprint.tenant);
        assert!(m.added_at >= issue.created_at && m.added_at <= END);
        assert!(m.removed_at.is_none_or(|r| r >= m.added_at && r <= END));
        assert!(intervals.insert((m.sprint_id, m.issue_id, m.added_at)), "interval unique");
    }
}

#[test]
fn data_has_the_shapes_metrics_care_about() {
    let (_, d) = run(5000, 42);
    let sprints: HashMap<i64, _> = d.sprints.iter().map(|s| (s.id, s)).collect();
    let issues: HashMap<i64, _> = d.issues.iter().map(|i| (i.id, i)).collect();
    let closed_members: Vec<_> = d.memberships.iter().filter(|m| sprints[&m.sprint_id].state == "closed").collect();
    let removed = closed_members.iter().filter(|m| m.removed_at.is_some()).count();
    let added_mid = closed_members.iter().filter(|m| m.added_at > sprints[&m.sprint_id].start_date).count();
    // Spillover: still in a closed sprint at completion and not done by then.
    let done_by = |issue_id: i64, t: i64| {
        d.transitions.iter().rfind(|x| x.issue_id == issue_id && x.changed_at <= t).is_some_and(|x| x.to_status == "Done")
    };
    let spilled = closed_members
        .iter()
        .filter(|m| m.removed_at.is_none())
        .filter(|m| !done_by(m.issue_id, sprints[&m.sprint_id].complete_date.unwrap()))
        .count();
    let total = closed_members.len();
    let share = |n: usize| n as f64 / total as f64;
    assert!(share(removed) > 0.01 && share(removed) < 0.10, "removed {removed}/{total}");
    assert!(share(added_mid) > 0.03 && share(added_mid) < 0.25, "added mid-sprint {added_mid}/{total}");
    eprintln!("closed-sprint memberships {total}: removed {removed}, added mid-sprint {added_mid}, spilled {spilled}");
    assert!(share(spilled) > 0.10 && share(spilled) < 0.35, "spilled {spilled}/{total}");

    // Issues added mid-sprint are estimated by the time they are added (so added_sp is not all zeros).
    let estimated_when_added = closed_members
        .iter()
        .filter(|m| m.added_at > sprints[&m.sprint_id].start_date)
        .filter(|m| d.changes.iter().any(|c| c.issue_id == m.issue_id && c.field == "story_points" && c.changed_at <= m.added_at))
        .count();
    assert!(estimated_when_added * 2 > added_mid, "{estimated_when_added} of {added_mid} estimated when added");

    let reopens = d.transitions.iter().filter(|t| t.from_status == Some("Done")).count();
    let blocked = d.transitions.iter().filter(|t| t.to_status == "Blocked").count();
    let reviews = d.transitions.iter().filter(|t| t.to_status == "In Review").count();
    let resolved = d.issues.iter().filter(|i| i.resolved_at.is_some()).count();
    assert!(reopens > resolved / 50 && reopens < resolved / 5, "reopens {reopens} of {resolved}");
    assert!(blocked > resolved / 30, "blocked {blocked}");
    assert!(reviews >= resolved, "reviews {reviews}");
    for field in ["story_points", "assignee", "flagged", "priority"] {
        assert!(d.changes.iter().any(|c| c.field == field), "changes of {field}");
    }
    let reestimates = d.changes.iter().filter(|c| c.field == "story_points" && c.from_value.is_some()).count();
    assert!(reestimates > 0);
    assert!(d.comments.len() > d.issues.len(), "about 2 comments per issue");
    let types: HashSet<_> = d.issues.iter().map(|i| i.issue_type).collect();
    assert!(types.is_superset(&HashSet::from(["Story", "Bug", "Task", "Spike", "Epic"])));
    let escaped = d.issues.iter().filter(|i| i.issue_type == "Bug" && i.labels.contains(&"production")).count();
    assert!(escaped > 0);
    let unestimated = d.issues.iter().filter(|i| i.story_points.is_none() && i.issue_type != "Epic").count();
    assert!(unestimated > 0);
    assert!(issues.values().any(|i| i.epic_key.is_some()));
    // A lead time of a few days to weeks, as on real teams.
    let mut lead: Vec<f64> = d.issues.iter().filter_map(|i| i.resolved_at.map(|r| (r - i.created_at) as f64 / 86400.0)).collect();
    lead.sort_by(|a, b| a.total_cmp(b));
    let p50 = lead[lead.len() / 2];
    assert!(p50 > 3.0 && p50 < 40.0, "lead time p50 {p50}");
}
