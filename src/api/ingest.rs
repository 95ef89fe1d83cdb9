//! `analytics_ingest_jira(payload, options)`: Jira REST payloads into the base tables of the session's
//! tenant. The whole payload is parsed and checked first (`analytics_core::jira`); then it is written in
//! a few set-based statements, so a payload loads completely or not at all. Loading the same issues again
//! replaces their history with the payload's, so repeated and overlapping loads converge.

use crate::error::{ApiError, OrReport};
use crate::gucs;
use crate::jsonb_arg::JsonbText;
use analytics_core::jira::{parse_payload, Batch, Options};
use analytics_core::json_arg;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use std::collections::HashMap;

fn invalid(path: &str, message: &str) -> ApiError {
    ApiError::InvalidArgument {
        message: format!("invalid Jira payload at {path}: {message}"),
        detail: Some("Nothing was written.".into()),
        hint: Some("Pass a /rest/api/2|3/search response (expand=changelog), one issue, or an Agile sprint list or sprint.".into()),
    }
}

/// Runs an INSERT ... SELECT over `rows` (a JSON array) and returns how many rows it wrote.
fn write(sql: &str, tenant: &str, instance: &str, rows: &Value) -> Result<i64, ApiError> {
    let started = std::time::Instant::now();
    let text = rows.to_string();
    let n = Spi::get_one_with_args::<i64>(
        &format!("WITH w AS ({sql} RETURNING 1) SELECT count(*) FROM w"),
        &[tenant.into(), instance.into(), text.as_str().into()],
    )?
    .unwrap_or(0);
    debug1!(
        "agile_analytics ingest: {n} rows in {:?}: {}",
        started.elapsed(),
        sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    Ok(n)
}

/// Writes a parsed batch for `tenant` (the loader of analytics_ingest_jira and of the Jira sync).
pub(crate) fn ingest(batch: &Batch, tenant: &str, instance: &str) -> Result<Value, ApiError> {
    // Sprints first: memberships refer to them. A sprint seen only inside an issue has no goal and maybe
    // no board: what is already known is kept.
    let rows = |from_issue: bool| -> Result<Value, ApiError> {
        let list: Vec<&analytics_core::jira::SprintRec> = batch.sprints.iter().filter(|s| s.from_issue == from_issue).collect();
        serde_json::to_value(list).map_err(|e| ApiError::Internal(e.to_string()))
    };
    const SPRINT_ROWS: &str = "INSERT INTO analytics.sprints AS s (tenant_id, instance_id, external_id, board, name, goal, state, start_date, end_date, complete_date)
         SELECT $1, $2, r.external_id, r.board, r.name, r.goal, r.state, r.start_date, r.end_date, r.complete_date
         FROM jsonb_to_recordset($3::jsonb) AS r(external_id bigint, board text, name text, goal text, state text,
              start_date timestamptz, end_date timestamptz, complete_date timestamptz)
         ON CONFLICT (tenant_id, instance_id, external_id) DO UPDATE SET
             board = CASE WHEN excluded.board = 'unknown' THEN s.board ELSE excluded.board END,
             name = excluded.name, goal = coalesce(excluded.goal, s.goal), ";
    // A sprint of the Agile API replaces what was known of it.
    let n_sprints = write(
        &format!("{SPRINT_ROWS} state = excluded.state, start_date = excluded.start_date, end_date = excluded.end_date, complete_date = excluded.complete_date"),
        tenant,
        instance,
        &rows(false)?,
    )?;
    // An issue's copy (often without dates) replaces only another copy: once a sprint has its start
    // date (from the Agile API, or a Server copy that had it), copies leave state and dates alone.
    let n_copies = write(
        &format!(
            "{SPRINT_ROWS} state = CASE WHEN s.start_date IS NULL THEN excluded.state ELSE s.state END,
             start_date = coalesce(s.start_date, excluded.start_date),
             end_date = CASE WHEN s.start_date IS NULL THEN excluded.end_date ELSE s.end_date END,
             complete_date = CASE WHEN s.start_date IS NULL THEN excluded.complete_date ELSE s.complete_date END"
        ),
        tenant,
        instance,
        &rows(true)?,
    )?;
    let n_sprints = n_sprints + n_copies;

    let issues: Vec<Value> = batch
        .issues
        .iter()
        .map(|i| {
            json!({"issue_key": i.issue_key, "project_key": i.project_key, "summary": i.summary, "description": i.description,
                   "issue_type": i.issue_type, "status": i.status, "status_category": i.status_category, "priority": i.priority,
                   "assignee": i.assignee, "reporter": i.reporter, "story_points": i.story_points, "labels": i.labels,
                   "components": i.components, "epic_key": i.epic_key, "created_at": i.created_at, "updated_at": i.updated_at,
                   "resolved_at": i.resolved_at})
        })
        .collect();
    let text = Value::Array(issues).to_string();
    // Upsert the issues and learn their ids (children carry ids, not keys: no join on a fresh table
    // whose statistics do not know the new rows yet).
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(batch.issues.len());
    let (mut inserted, mut updated) = (0i64, 0i64);
    Spi::connect_mut(|client| {
        let rows = client.update(
            "INSERT INTO analytics.issues AS t (tenant_id, instance_id, issue_key, project_key, summary, description, issue_type,
                 status, status_category, priority, assignee, reporter, story_points, labels, components, epic_key,
                 created_at, updated_at, resolved_at)
             SELECT $1, $2, r.issue_key, r.project_key, r.summary, r.description, r.issue_type, r.status, r.status_category,
                    r.priority, r.assignee, r.reporter, r.story_points, coalesce(r.labels, '{}'), coalesce(r.components, '{}'),
                    r.epic_key, r.created_at, r.updated_at, r.resolved_at
             FROM jsonb_to_recordset($3::jsonb) AS r(issue_key text, project_key text, summary text, description text,
                  issue_type text, status text, status_category text, priority text, assignee text, reporter text,
                  story_points numeric, labels text[], components text[], epic_key text, created_at timestamptz,
                  updated_at timestamptz, resolved_at timestamptz)
             ON CONFLICT (tenant_id, instance_id, issue_key) DO UPDATE SET
                 project_key = excluded.project_key, summary = excluded.summary, description = excluded.description,
                 issue_type = excluded.issue_type, status = excluded.status, status_category = excluded.status_category,
                 priority = excluded.priority, assignee = excluded.assignee, reporter = excluded.reporter,
                 story_points = excluded.story_points, labels = excluded.labels, components = excluded.components,
                 epic_key = excluded.epic_key, created_at = excluded.created_at, updated_at = excluded.updated_at,
                 resolved_at = excluded.resolved_at
             RETURNING t.issue_key, t.id, (xmax = 0) AS inserted",
            None,
            &[tenant.into(), instance.into(), text.as_str().into()],
        )?;
        for row in rows {
            let key: String = row.get(1)?.unwrap_or_default();
            let id: i64 = row.get(2)?.unwrap_or_default();
            if row.get::<bool>(3)?.unwrap_or(false) {
                inserted += 1;
            } else {
                updated += 1;
            }
            ids.insert(key, id);
        }
        Ok::<_, pgrx::spi::Error>(())
    })?;

    // The payload holds each issue's whole history: replace what was there (only updated issues can have any).
    if updated > 0 {
        let all: Vec<i64> = ids.values().copied().collect();
        for table in ["issue_transitions", "issue_changes", "issue_comments", "sprint_issues"] {
            Spi::run_with_args(
                &format!("DELETE FROM analytics.{table} x USING unnest($1::bigint[]) AS k(id) WHERE x.issue_id = k.id"),
                &[all.clone().into()],
            )?;
        }
    }
    let with_issue = |i: &analytics_core::jira::IssueRec, v: Value| -> Value {
        let mut v = v;
        v["issue_id"] = json!(ids.get(&i.issue_key));
        v
    };
    let rows = |f: &dyn Fn(&analytics_core::jira::IssueRec) -> Vec<Value>| Value::Array(batch.issues.iter().flat_map(f).collect());
    let transitions = write(
        "INSERT INTO analytics.issue_transitions (tenant_id, issue_id, from_status, to_status, from_category, to_category, changed_at, author)
         SELECT $1, r.issue_id, r.from_status, r.to_status, r.from_category, r.to_category, r.changed_at, r.author
         FROM jsonb_to_recordset($3::jsonb) AS r(issue_id bigint, from_status text, to_status text, from_category text,
              to_category text, changed_at timestamptz, author text)",
        tenant,
        instance,
        &rows(&|i| i.transitions.iter().map(|t| with_issue(i, json!(t))).collect()),
    )?;
    let changes = write(
        "INSERT INTO analytics.issue_changes (tenant_id, issue_id, field, from_value, to_value, changed_at)
         SELECT $1, r.issue_id, r.field, r.from_value, r.to_value, r.changed_at
         FROM jsonb_to_recordset($3::jsonb) AS r(issue_id bigint, field text, from_value text, to_value text, changed_at timestamptz)",
        tenant,
        instance,
        &rows(&|i| i.changes.iter().map(|c| with_issue(i, json!(c))).collect()),
    )?;
    let comments = write(
        "INSERT INTO analytics.issue_comments (tenant_id, issue_id, author, body, created_at)
         SELECT $1, r.issue_id, r.author, r.body, r.created_at
         FROM jsonb_to_recordset($3::jsonb) AS r(issue_id bigint, author text, body text, created_at timestamptz)",
        tenant,
        instance,
        &rows(&|i| i.comments.iter().map(|c| with_issue(i, json!(c))).collect()),
    )?;
    // Memberships need the sprints' ids: those loaded now, or earlier.
    let wanted_sprints: Vec<i64> = {
        let mut v: Vec<i64> = batch.issues.iter().flat_map(|i| i.memberships.iter().map(|m| m.sprint_external_id)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut sprint_ids: HashMap<i64, i64> = HashMap::new();
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT s.external_id, s.id FROM analytics.sprints s JOIN unnest($3::bigint[]) AS k(id) ON s.external_id = k.id
             WHERE s.tenant_id = $1 AND s.instance_id = $2",
            None,
            &[tenant.into(), instance.into(), wanted_sprints.into()],
        )?;
        for row in rows {
            sprint_ids.insert(row.get::<i64>(1)?.unwrap_or_default(), row.get::<i64>(2)?.unwrap_or_default());
        }
        Ok::<_, pgrx::spi::Error>(())
    })?;
    let membership_rows: Vec<Value> = batch
        .issues
        .iter()
        .flat_map(|i| {
            i.memberships.iter().filter_map(|m| {
                sprint_ids.get(&m.sprint_external_id).map(|sid| {
                    let mut v = with_issue(i, json!(m));
                    v["sprint_id"] = json!(sid);
                    v
                })
            })
        })
        .collect();
    let wanted = batch.issues.iter().map(|i| i.memberships.len() as i64).sum::<i64>();
    let memberships = write(
        "INSERT INTO analytics.sprint_issues (tenant_id, sprint_id, issue_id, added_at, removed_at)
         SELECT $1, r.sprint_id, r.issue_id, r.added_at, r.removed_at
         FROM jsonb_to_recordset($3::jsonb) AS r(issue_id bigint, sprint_id bigint, added_at timestamptz, removed_at timestamptz)",
        tenant,
        instance,
        &Value::Array(membership_rows),
    )?;
    analyze_grown_tables()?;
    let mut warnings = batch.warnings.clone();
    if memberships < wanted {
        warnings.push(format!(
            "{} sprint memberships refer to sprints that are not loaded; load the sprints (Agile API) and this payload again",
            wanted - memberships
        ));
    }
    Ok(json!({
        "issues_inserted": inserted,
        "issues_updated": updated,
        "transitions": transitions,
        "changes": changes,
        "comments": comments,
        "sprints": n_sprints,
        "memberships": memberships,
        "warnings": warnings,
    }))
}

/// The base tables a load writes.
const LOADED_TABLES: [&str; 6] = [
    "analytics.issues",
    "analytics.issue_transitions",
    "analytics.issue_changes",
    "analytics.issue_comments",
    "analytics.sprints",
    "analytics.sprint_issues",
];

/// ANALYZE (as the extension's owner) the base tables that more than doubled since their statistics were
/// taken. A load into fresh tables otherwise keeps the plans made while they were empty — the foreign key
/// checks' cached plans scan the whole referenced table — until autovacuum gets to them: measured, 100
/// pages of 100 issues into an empty database took 47 s with autovacuum off (each page slower than the
/// last: 215 ms, then 791 ms), 7.7 s with this. Doubling keeps it to a few ANALYZEs of small tables per
/// load history (8 pages, then 24, 56, ...). `SKIP_LOCKED`: a table another load is analyzing is left to
/// it, so concurrent loads never wait for each other here.
fn analyze_grown_tables() -> Result<(), ApiError> {
    let tables: Vec<String> = LOADED_TABLES.iter().map(|t| t.to_string()).collect();
    crate::owner::as_owner(move || -> Result<(), pgrx::spi::Error> {
        let grown = Spi::get_one_with_args::<Vec<String>>(
            "SELECT coalesce(pg_catalog.array_agg(t ORDER BY t), '{}') FROM pg_catalog.unnest($1::text[]) AS t
             JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t)
             WHERE pg_catalog.pg_relation_size(c.oid) / 8192 > 2 * GREATEST(c.relpages, 0) + 8",
            &[tables.into()],
        )?
        .unwrap_or_default();
        // Only names of LOADED_TABLES are run (identifiers from the whitelist, never from the data).
        for t in grown.iter().filter(|t| LOADED_TABLES.contains(&t.as_str())) {
            Spi::run(&format!("ANALYZE (SKIP_LOCKED) {t}"))?;
        }
        Ok(())
    })??;
    Ok(())
}

/// Loads Jira REST payloads for the session's tenant; see the module comment. Returns {"issues_inserted",
/// "issues_updated", "transitions", "changes", "comments", "sprints", "memberships", "warnings"}.
#[pg_extern(volatile, schema = "analytics", name = "analytics_ingest_jira")]
#[search_path(pg_catalog, pg_temp)]
fn ingest_jira(payload: Option<JsonbText>, options: default!(Option<JsonbText>, "'{}'")) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(load(payload.as_ref().map(JsonbText::as_str), options.as_ref().map(JsonbText::as_str))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_ingest_jira(jsonb, jsonb) IS
  'Load Jira REST payloads for the session''s tenant: a /rest/api/2 or /3 search response (expand=changelog) or one issue, an Agile sprint list or one sprint. Issues, status history, story point/assignee/priority/flag changes, comments, sprints and sprint membership intervals. options: instance_id, sprint_field, story_points_field, status_categories {status: todo|in_progress|done}, boards {id: name}. All or nothing; loading again updates in place. Returns {"issues_inserted", "issues_updated", "transitions", "changes", "comments", "sprints", "memberships", "warnings"}. Writer access.';
REVOKE ALL ON FUNCTION analytics.analytics_ingest_jira(jsonb, jsonb) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('writer', 'function', 'analytics.analytics_ingest_jira(jsonb,jsonb)', 'EXECUTE');
"#,
    name = "ingest_jira_sql",
    requires = [ingest_jira, "security"]
);

/// 0.1.0's `analytics._analytics_ingest_jira(text, text)` until ALTER EXTENSION UPDATE (the C symbol its
/// SQL names stays; 0.2.0's SQL does not declare it).
#[pg_extern(volatile, sql = false)]
fn analytics_ingest_jira(payload: Option<&str>, options: Option<&str>) -> JsonB {
    crate::search_path::pinned(|| load(payload, options)).map(JsonB).or_report()
}

fn load(payload: Option<&str>, options: Option<&str>) -> Result<Value, ApiError> {
    crate::spi_read::ensure_writable("analytics_ingest_jira()")?;
    let tenant = gucs::tenant_id().ok_or(ApiError::NoTenant)?;
    let payload = json_arg::parse_with_depth(payload, json_arg::MAX_PAYLOAD_DEPTH)
        .map_err(|e| invalid("$", &e))?
        .ok_or(ApiError::NullArgument("payload"))?;
    let options = json_arg::parse(options).map_err(|e| invalid("options", &e))?.unwrap_or(Value::Null);
    let options = Options::parse(&options).map_err(|e| invalid(&e.path, &e.message))?;
    let started = std::time::Instant::now();
    let batch = parse_payload(&payload, &options).map_err(|e| invalid(&e.path, &e.message))?;
    debug1!("agile_analytics ingest: parsed {} issues and {} sprints in {:?}", batch.issues.len(), batch.sprints.len(), started.elapsed());
    ingest(&batch, &tenant, &options.instance_id)
}
