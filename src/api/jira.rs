//! Jira sources, the SQL API (issue 18, docs/jira.md): `analytics_jira_source_upsert`,
//! `analytics_jira_source_secret`, `analytics_jira_source_drop` and `analytics_jira_sync` (which queues a
//! `jira_sync` job; the job workers run it, src/jobs/jira.rs). The tables (sql/019_jira.sql) are read
//! and written as the extension's owner, always for the session's tenant. Configs are checked by
//! `analytics_core::jira::source`; a credential is checked there too and is never returned, logged or
//! put into an error.

use crate::api::spec::tenant;
use crate::error::ApiError;
use crate::jsonb_arg::JsonbText;
use crate::owner::as_owner;
use crate::spi_read;
use analytics_core::jira::source::{Credential, SourceConfig};
use analytics_core::json_arg;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::{json, Value};

fn invalid(message: String, hint: &str) -> ApiError {
    ApiError::InvalidArgument { message, detail: None, hint: Some(hint.into()) }
}

/// A source name: 1 to 63 of a-z, 0-9, `_`, `.`, `-`, starting with a letter or digit.
fn check_name(name: Option<&str>) -> Result<String, ApiError> {
    let name = name.ok_or(ApiError::NullArgument("name"))?;
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if !ok {
        return Err(invalid(
            format!("invalid Jira source name {:?}", name.chars().take(80).collect::<String>()),
            "A source name is 1 to 63 of a-z, 0-9, _, . and -, starting with a letter or digit, e.g. 'acme-cloud'.",
        ));
    }
    Ok(name.to_string())
}

fn unknown_source(name: &str, tenant: &str) -> ApiError {
    ApiError::Postgres {
        code: PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
        message: format!("no Jira source \"{name}\" for tenant \"{tenant}\""),
        detail: None,
        hint: Some("SELECT name FROM analytics_jira_sources() lists them; analytics_jira_source_upsert(name, config) adds one.".into()),
    }
}

/// Whether the source exists, and whether it has a credential.
pub(crate) fn source_state(tenant: &str, name: &str) -> Result<(bool, bool), ApiError> {
    let (t, n) = (tenant.to_string(), name.to_string());
    let (exists, secret) = as_owner(move || {
        spi_read::two::<bool, bool>(
            "SELECT true, EXISTS (SELECT FROM analytics.jira_source_secrets k WHERE k.tenant_id = s.tenant_id AND k.name = s.name)
             FROM analytics.jira_sources s WHERE s.tenant_id = $1 AND s.name = $2",
            &[t.as_str().into(), n.as_str().into()],
        )
    })??;
    Ok((exists == Some(true), secret == Some(true)))
}

fn upsert(name: Option<&str>, config: Option<&str>) -> Result<Value, ApiError> {
    spi_read::ensure_writable("analytics_jira_source_upsert()")?;
    let tenant = tenant()?;
    let name = check_name(name)?;
    let hint = "See docs/jira.md: {\"base_url\", \"flavor\": \"cloud\"|\"server\", \"jql\", \"boards\", \"page_size\", ...}.";
    let config = json_arg::parse(config).map_err(|m| invalid(m, hint))?.ok_or(ApiError::NullArgument("config"))?;
    let parsed =
        SourceConfig::parse(&config).map_err(|e| invalid(format!("invalid Jira source config at {}: {}", e.path, e.message), hint))?;
    if let Some(zone) = &parsed.time_zone {
        let known = Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_timezone_names WHERE name = $1)",
            &[zone.as_str().into()],
        )?;
        if known != Some(true) {
            return Err(invalid(
                format!("invalid Jira source config at config.time_zone: unknown time zone {zone:?}"),
                "SELECT name FROM pg_timezone_names lists them.",
            ));
        }
    }
    let stored = parsed.to_json();
    let text = stored.to_string();
    let who = unsafe { pg_sys::GetUserId() };
    let (t, n) = (tenant.clone(), name.clone());
    let created = as_owner(move || {
        Spi::get_one_with_args::<bool>(
            "INSERT INTO analytics.jira_sources AS s (tenant_id, name, config, created_by) VALUES ($1, $2, $3::jsonb, $4)
             ON CONFLICT (tenant_id, name) DO UPDATE SET config = excluded.config, updated_at = pg_catalog.now()
             RETURNING (xmax = 0)",
            &[t.as_str().into(), n.as_str().into(), text.as_str().into(), who.into()],
        )
    })??;
    let (_, has_secret) = source_state(&tenant, &name)?;
    Ok(json!({"name": name, "created": created == Some(true), "has_secret": has_secret, "config": stored}))
}

/// Adds a Jira source for the session's tenant, or replaces its config (see docs/jira.md).
#[pg_extern(volatile, schema = "analytics", name = "analytics_jira_source_upsert")]
#[search_path(pg_catalog, pg_temp)]
fn jira_source_upsert(name: Option<&str>, config: Option<JsonbText>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(upsert(name, config.as_ref().map(JsonbText::as_str))?))
}

/// Whether the calling role may set credentials: a superuser or the extension's owner.
fn may_set_secrets() -> Result<bool, ApiError> {
    let owner = crate::catalog_cache::get()?.owner;
    let me = unsafe { pg_sys::GetUserId() };
    Ok(me == owner || unsafe { pg_sys::superuser_arg(me) })
}

/// A secret given as {"file": path}: read from the server's file system (superusers and members of
/// pg_read_server_files), so the credential never appears in a statement, a log or pg_stat_activity.
fn secret_from_file(path: &str) -> Result<Value, ApiError> {
    let me = unsafe { pg_sys::GetUserId() };
    let allowed = unsafe { pg_sys::superuser_arg(me) }
        || Spi::get_one::<bool>("SELECT pg_catalog.pg_has_role(current_user, 'pg_read_server_files', 'USAGE')")? == Some(true);
    if !allowed {
        return Err(ApiError::NotAllowed {
            message: "permission denied to read a secret from a file".into(),
            detail: "Reading a server file needs superuser or membership in pg_read_server_files.".into(),
            hint: "Pass the secret itself, or ask a superuser to set it.".into(),
        });
    }
    let bad = |m: String| {
        invalid(m, "The file holds the secret as JSON, e.g. {\"email\": ..., \"api_token\": ...}, readable by the server's OS user.")
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read the secret file: {}", e.kind())))?;
    if !meta.is_file() || meta.len() > 65536 {
        return Err(bad("the secret file must be a regular file of at most 64 KiB".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read the secret file: {}", e.kind())))?;
    // serde_json's message names a line and column, never the text.
    serde_json::from_str(&text).map_err(|e| bad(format!("the secret file is not JSON (line {}, column {})", e.line(), e.column())))
}

fn set_secret(name: Option<&str>, secret: Option<&str>) -> Result<Value, ApiError> {
    spi_read::ensure_writable("analytics_jira_source_secret()")?;
    if !may_set_secrets()? {
        return Err(ApiError::NotAllowed {
            message: "permission denied to set a Jira credential".into(),
            detail: "Only a superuser or the extension's owner sets credentials; no other role can read them.".into(),
            hint: "Ask a superuser to run analytics_jira_source_secret(name, secret).".into(),
        });
    }
    let tenant = tenant()?;
    let name = check_name(name)?;
    if !source_state(&tenant, &name)?.0 {
        return Err(unknown_source(&name, &tenant));
    }
    let hint = "A secret is {\"email\", \"api_token\"} (Cloud), {\"token\"} (Server/DC) or {\"username\", \"password\"}; or {\"file\": \"/path\"} on the server.";
    // The argument's text is never quoted in an error: it may hold the credential.
    let value = serde_json::from_str::<Value>(secret.ok_or(ApiError::NullArgument("secret"))?)
        .map_err(|_| invalid("the secret is not a JSON object".into(), hint))?;
    let value = match value.get("file").and_then(Value::as_str) {
        Some(path) if value.as_object().is_some_and(|o| o.len() == 1) => secret_from_file(path)?,
        _ => value,
    };
    let credential = Credential::parse(&value).map_err(|e| invalid(format!("invalid Jira secret at {}: {}", e.path, e.message), hint))?;
    let text = value.to_string();
    let who = unsafe { pg_sys::GetUserId() };
    let (t, n) = (tenant.clone(), name.clone());
    as_owner(move || {
        Spi::run_with_args(
            "INSERT INTO analytics.jira_source_secrets (tenant_id, name, secret, set_by) VALUES ($1, $2, $3::jsonb, $4)
             ON CONFLICT (tenant_id, name) DO UPDATE SET secret = excluded.secret, set_by = excluded.set_by, set_at = pg_catalog.now()",
            &[t.as_str().into(), n.as_str().into(), text.as_str().into(), who.into()],
        )
    })??;
    Ok(json!({"name": name, "kind": credential.kind(), "set": true}))
}

/// Sets a Jira source's credential (superusers and the extension's owner only); returns its kind only.
#[pg_extern(volatile, schema = "analytics", name = "analytics_jira_source_secret")]
#[search_path(pg_catalog, pg_temp)]
fn jira_source_secret(name: Option<&str>, secret: Option<JsonbText>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(set_secret(name, secret.as_ref().map(JsonbText::as_str))?))
}

fn drop_source(name: Option<&str>) -> Result<bool, ApiError> {
    spi_read::ensure_writable("analytics_jira_source_drop()")?;
    let tenant = tenant()?;
    let name = check_name(name)?;
    let (t, n) = (tenant, name);
    let gone = as_owner(move || {
        Spi::get_one_with_args::<bool>(
            "WITH d AS (DELETE FROM analytics.jira_sources WHERE tenant_id = $1 AND name = $2 RETURNING 1) SELECT EXISTS (SELECT FROM d)",
            &[t.as_str().into(), n.as_str().into()],
        )
    })??;
    Ok(gone == Some(true))
}

/// Removes a Jira source and its credential (the issues it loaded stay); whether there was one.
#[pg_extern(volatile, schema = "analytics", name = "analytics_jira_source_drop")]
#[search_path(pg_catalog, pg_temp)]
fn jira_source_drop(name: Option<&str>) -> Result<bool, ErrorReport> {
    Ok(drop_source(name)?)
}

/// The payload of a source's jira_sync job, checked: the source exists and has a credential.
pub(crate) fn check_sync(payload: &Value) -> Result<(), ApiError> {
    let p = analytics_core::jobs::check_jira_sync(payload).map_err(|(m, h)| invalid(m, &h))?;
    let tenant = tenant()?;
    match source_state(&tenant, &p.source)? {
        (false, _) => Err(unknown_source(&p.source, &tenant)),
        (true, false) => Err(ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            message: format!("Jira source \"{}\" has no credential", p.source),
            detail: None,
            hint: Some("A superuser sets it: SELECT analytics_jira_source_secret(name, '{\"file\": \"/etc/...\"}') (docs/jira.md).".into()),
        }),
        (true, true) => Ok(()),
    }
}

fn sync(name: Option<&str>, options: Option<&str>) -> Result<Uuid, ApiError> {
    let name = check_name(name)?;
    let hint = "options: {\"full\": true} resyncs every issue of the JQL; {\"full\": true, \"prune\": true} also deletes the issues Jira no longer returns.";
    let options = json_arg::parse(options.or(Some("{}"))).map_err(|m| invalid(m, hint))?.unwrap_or(json!({}));
    let o = options.as_object().ok_or_else(|| invalid("options must be a JSON object".into(), hint))?;
    let mut payload = json!({"source": name});
    for (k, v) in o {
        match k.as_str() {
            "full" | "prune" => payload[k] = v.clone(),
            _ => return Err(invalid(format!("unknown option \"{k}\""), hint)),
        }
    }
    crate::api::jobs::submit(Some("jira_sync"), Some(&payload.to_string()), Some("{}"))
}

/// Queues a sync of a Jira source as a `jira_sync` job (see docs/jira.md); returns the job's id.
#[pg_extern(volatile, schema = "analytics", name = "analytics_jira_sync")]
#[search_path(pg_catalog, pg_temp)]
fn jira_sync(name: Option<&str>, options: default!(Option<JsonbText>, "'{}'")) -> Result<Uuid, ErrorReport> {
    Ok(sync(name, options.as_ref().map(JsonbText::as_str))?)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_jira_source_upsert(text, jsonb) IS
  'Add a Jira source for the session''s tenant, or replace its config: {"base_url", "flavor": "cloud"|"server", "jql", "boards": {id: name} (else discovered from the JQL''s projects), "page_size" (100), "overlap_minutes" (10), "time_zone" (else the API user''s), and analytics_ingest_jira''s options instance_id, sprint_field, story_points_field, status_categories}. Returns {"name", "created", "has_secret", "config"}. Admin access.';
COMMENT ON FUNCTION analytics.analytics_jira_source_secret(text, jsonb) IS
  'Set a Jira source''s credential: {"email", "api_token"} (Cloud, HTTP Basic), {"token"} (Server/DC personal access token, Bearer), {"username", "password"}, or {"file": "/path"} (a JSON file with one of those, read on the server: the credential then never appears in a statement). Superusers and the extension''s owner only; no function returns it. Returns {"name", "kind", "set"}.';
COMMENT ON FUNCTION analytics.analytics_jira_source_drop(text) IS
  'Remove a Jira source of the session''s tenant with its credential and sync state (the issues it loaded stay); returns whether there was one. Admin access.';
COMMENT ON FUNCTION analytics.analytics_jira_sync(text, jsonb) IS
  'Queue a sync of a Jira source as a jira_sync job and return its id (analytics_job_status shows progress: stages sprints, issues, changelogs). Incremental from the source''s watermark; options {"full": true} resyncs every issue and reports those Jira no longer returns, {"full": true, "prune": true} deletes them. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_jira_source_upsert(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_jira_source_secret(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_jira_source_drop(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_jira_sync(text, jsonb) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('admin', 'function', 'analytics.analytics_jira_source_upsert(text,jsonb)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_jira_source_drop(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_jira_sync(text,jsonb)', 'EXECUTE');
"#,
    name = "jira_sql",
    requires = [jira_source_upsert, jira_source_secret, jira_source_drop, jira_sync, "jira"]
);
