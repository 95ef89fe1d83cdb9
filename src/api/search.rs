//! Semantic search, the SQL API: `analytics_embed_issues(batch)`, `analytics_similar_issues(query, k,
//! filters, mode, min_score)` and `analytics_similar_to_issue(issue_key, k)` (docs/search.md). The SQL
//! is compiled by `analytics_core::spec::search`; embeddings come from the backend's model
//! (`crate::embedder`). Issues are read as the caller (row-level security); embeddings are written as
//! the extension's owner, for the session's tenant only (users cannot write them).

use crate::api::spec::{active_catalog, execute, tenant};
use crate::embedder::{self, DIMENSIONS};
use crate::error::ApiError;
use crate::jsonb_arg::JsonbText;
use crate::owner::as_owner;
use crate::search_path::{end_scope, scoped_setting, set_in_scope};
use crate::spi_read;
use analytics_core::json_arg as args;
use analytics_core::spec::compile::quote;
use analytics_core::spec::model::Resolved;
use analytics_core::spec::parse::similar::DEFAULT_MIN_SCORE;
use analytics_core::spec::search::{self, Mode, Search, Vectors, MAX_K};
use analytics_core::spec::{Spec, SpecError};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use serde_json::Value;
use std::ffi::CString;

/// pgvector's schema: its type and operator are qualified with it (PostgreSQL 15 has no
/// `@extschema:vector@`).
fn vector_schema() -> Result<String, ApiError> {
    spi_read::one::<String>(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector'",
        &[],
    )?
    .ok_or_else(|| ApiError::Internal("the vector extension is not installed".into()))
}

/// Fills in what compiling a spec's `similar_to` needs: its text's embedding and where the embeddings
/// are. Specs without one are left as they are.
pub(crate) fn resolve(spec: &mut Spec) -> Result<(), ApiError> {
    let Some(s) = spec.similar_to.as_mut() else { return Ok(()) };
    if s.resolved.is_none() {
        let model = embedder::model_name()?;
        let v = embedder::embed(&[s.text.as_str()])?.remove(0);
        let schema = vector_schema()?;
        check_dims(&schema, &model, v.len())?;
        s.resolved = Some(Resolved { schema, model, dims: v.len(), vector: search::vector_text(&v) });
    }
    Ok(())
}

/// The model's stored embeddings have `dims` dimensions too (a provider whose model changed its
/// length under the same name would make every comparison fail): else 22000.
fn check_dims(schema: &str, model: &str, dims: usize) -> Result<(), ApiError> {
    let stored = spi_read::one::<i32>(
        &format!("SELECT {}.vector_dims(embedding) FROM analytics.issue_embeddings WHERE model = $1 LIMIT 1", quote(schema)),
        &[model.into()],
    )?;
    match stored {
        Some(n) if n as usize != dims => Err(ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            message: format!("the embedding provider answered vectors of {dims} dimensions, but the stored embeddings of model \"{model}\" have {n}"),
            detail: None,
            hint: Some(format!(
                "Set analytics.embedding_model to the model they were made with, or delete them as a superuser (DELETE FROM analytics.issue_embeddings WHERE model = '{model}') and embed again."
            )),
        }),
        _ => Ok(()),
    }
}

/// How many of the tenant's issues a resolved spec's `similar_to` keeps (None without one).
pub(crate) fn matched(spec: &Spec, tenant: &str) -> Result<Option<i64>, ApiError> {
    let Some(c) = search::similar_count(spec, tenant).map_err(ApiError::Internal)? else { return Ok(None) };
    let (rows, _, _) = execute(&c)?;
    let rows: Vec<Value> = serde_json::from_str(&rows).map_err(|e| ApiError::Internal(format!("similar count: {e}")))?;
    Ok(rows.first().and_then(|r| r["matched"].as_i64()))
}

/// The tenant's issues to embed: (id, text, hash) of those with no embedding of the model, or whose
/// summary or description changed since (by content hash), after issue id `after`, in id order.
fn pending_sql() -> String {
    let doc = search::document_sql("i");
    let hash = search::hash_sql("c.doc");
    format!(
        "SELECT c.id, c.doc, {hash} FROM (SELECT i.id, {doc} AS doc FROM analytics.issues AS i WHERE i.tenant_id = $1 AND i.id > $4) AS c \
         LEFT JOIN analytics.issue_embeddings AS e ON e.tenant_id = $1 AND e.issue_id = c.id AND e.model = $2 \
         WHERE e.content_hash IS DISTINCT FROM {hash} ORDER BY c.id LIMIT $3"
    )
}

/// How many of the tenant's issues are to embed (an embed job's progress is out of this).
pub(crate) fn pending(tenant: &str) -> Result<i64, ApiError> {
    let sql = format!("SELECT pg_catalog.count(*) FROM ({}) AS p", pending_sql());
    let model = embedder::model_name()?;
    Ok(spi_read::one::<i64>(&sql, &[tenant.into(), model.as_str().into(), None::<i32>.into(), i64::MIN.into()])?.unwrap_or(0))
}

/// Embeds the session tenant's issues that have no embedding of the model, or whose summary or
/// description changed since (by content hash), at most `batch` of them. Returns how many.
pub(crate) fn embed_issues(tenant: &str, batch: i32) -> Result<i64, ApiError> {
    Ok(embed_after(tenant, batch, i64::MIN)?.0)
}

/// [`embed_issues`] for the issues after id `after` (an embed job's cursor): how many, and the last id.
pub(crate) fn embed_after(tenant: &str, batch: i32, after: i64) -> Result<(i64, i64), ApiError> {
    let pending = pending_sql();
    let model = embedder::model_name()?;
    let rows: Vec<(i64, String, String)> = Spi::connect(|c| {
        c.select(&pending, None, &[tenant.into(), model.as_str().into(), batch.into(), after.into()])?
            .map(|r| Ok((r.get::<i64>(1)?.unwrap_or(0), r.get::<String>(2)?.unwrap_or_default(), r.get::<String>(3)?.unwrap_or_default())))
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })?;
    let Some(last) = rows.last().map(|r| r.0) else { return Ok((0, after)) };
    let raw_schema = vector_schema()?;
    let schema = quote(&raw_schema);
    let upsert = format!(
        "INSERT INTO analytics.issue_embeddings (tenant_id, issue_id, model, content_hash, embedding) \
         SELECT $1, u.id::bigint, $2, u.h, u.v::{schema}.vector FROM ROWS FROM (pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[]), pg_catalog.unnest($5::text[])) AS u(id, h, v) \
         ON CONFLICT (tenant_id, issue_id, model) DO UPDATE SET content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding, embedded_at = pg_catalog.now()"
    );
    // All at once, so that texts of like length share a batch (embedder::embed sorts them).
    let texts: Vec<&str> = rows.iter().map(|(_, d, _)| d.as_str()).collect();
    let vectors = embedder::embed(&texts)?;
    if let Some(v) = vectors.first() {
        check_dims(&raw_schema, &model, v.len())?;
    }
    for (chunk, vectors) in rows.chunks(256).zip(vectors.chunks(256)) {
        let ids: Vec<String> = chunk.iter().map(|(id, _, _)| id.to_string()).collect();
        let hashes: Vec<String> = chunk.iter().map(|(_, _, h)| h.clone()).collect();
        let vecs: Vec<String> = vectors.iter().map(|v| search::vector_text(v)).collect();
        let (upsert, tenant, model) = (upsert.clone(), tenant.to_string(), model.clone());
        as_owner(move || {
            Spi::connect_mut(|c| {
                c.update(&upsert, None, &[tenant.as_str().into(), model.as_str().into(), ids.into(), hashes.into(), vecs.into()])
                    .map(|_| ())
            })
        })??;
    }
    Ok((rows.len() as i64, last))
}

/// Embeds the session tenant's new and changed issues (at most `batch`); returns how many it embedded.
#[pg_extern(volatile, schema = "analytics", name = "analytics_embed_issues")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_embed_issues(batch: default!(Option<i32>, 1000)) -> Result<i64, ErrorReport> {
    let tenant = tenant()?;
    crate::spi_read::ensure_writable("analytics_embed_issues")?;
    let batch = batch.ok_or(ApiError::NullArgument("batch"))?;
    if !(1..=100_000).contains(&batch) {
        return Err(ApiError::InvalidArgument {
            message: format!("batch must be between 1 and 100000, not {batch}"),
            detail: None,
            hint: Some(
                "Call it again until it returns 0, or submit a backfill: a batch of 1000 takes about two minutes on one core.".into(),
            ),
        }
        .into());
    }
    Ok(embed_issues(&tenant, batch)?)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_embed_issues(integer) IS
  'Embed the session tenant''s issues (summary and description) that have no embedding yet or changed since, at most batch of them, with the model of analytics.embedding_provider (builtin: all-MiniLM-L6-v2); returns how many. Call it until it returns 0. Writer access.';
REVOKE ALL ON FUNCTION analytics.analytics_embed_issues(integer) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('writer', 'function', 'analytics.analytics_embed_issues(integer)', 'EXECUTE');
"#,
    name = "embed_issues_sql",
    requires = [analytics_embed_issues, "search"]
);

type Hit = (String, Option<String>, Option<String>, f64);

fn check_k(k: Option<i32>) -> Result<u32, ApiError> {
    match k {
        None => Err(ApiError::NullArgument("k")),
        Some(k) if (1..=MAX_K as i32).contains(&k) => Ok(k as u32),
        Some(k) => Err(ApiError::InvalidArgument {
            message: format!("k must be between 1 and {MAX_K}, not {k}"),
            detail: None,
            hint: Some("k is how many similar issues to return, e.g. 10.".into()),
        }),
    }
}

/// Runs a compiled search with pgvector's iterative index scans on (so a small tenant beside a large
/// one still gets k rows from the shared index), under analytics.statement_timeout.
fn run(c: &analytics_core::spec::Compiled, k: u32) -> Result<Vec<Hit>, ApiError> {
    let ef = CString::new(k.clamp(40, 1000).to_string()).unwrap_or_default();
    let level = scoped_setting(c"hnsw.iterative_scan", c"strict_order");
    set_in_scope(c"hnsw.ef_search", &ef);
    let result = execute(c);
    end_scope(level);
    let (rows, _, _) = result?;
    let rows: Vec<Value> = serde_json::from_str(&rows).map_err(|e| ApiError::Internal(format!("search rows: {e}")))?;
    Ok(rows
        .iter()
        .map(|r| {
            let text = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
            (text("issue_key").unwrap_or_default(), text("summary"), text("status"), r.get("score").and_then(Value::as_f64).unwrap_or(0.0))
        })
        .collect())
}

/// When a search by meaning found nothing: a NOTICE if the tenant has no embeddings at all.
fn notice_if_nothing_embedded(tenant: &str) -> Result<(), ApiError> {
    let any = spi_read::one::<bool>(
        "SELECT EXISTS (SELECT FROM analytics.issue_embeddings WHERE tenant_id = $1 AND model = $2)",
        &[tenant.into(), embedder::model_name()?.as_str().into()],
    )?;
    if any != Some(true) {
        ereport!(
            PgLogLevel::NOTICE,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            "no issue of this tenant is embedded yet, so nothing is similar by meaning",
            "Run SELECT analytics.analytics_embed_issues(); until it returns 0 (writer access), or search with mode => 'lexical'."
        );
    }
    Ok(())
}

fn similar(
    query: Option<&str>,
    k: Option<i32>,
    filters: Option<&str>,
    mode: Option<&str>,
    min_score: Option<f64>,
) -> Result<Vec<Hit>, ApiError> {
    let tenant = tenant()?;
    let query = query.ok_or(ApiError::NullArgument("query"))?;
    if query.trim().is_empty() {
        return Err(ApiError::InvalidArgument {
            message: "the query is empty".into(),
            detail: None,
            hint: Some("Describe the issue you look for, e.g. 'login times out behind the SSO proxy'.".into()),
        });
    }
    let k = check_k(k)?;
    let mode_name = mode.ok_or(ApiError::NullArgument("mode"))?;
    let mode = Mode::parse(mode_name).ok_or_else(|| ApiError::InvalidArgument {
        message: format!("unknown search mode \"{}\"", mode_name.chars().take(40).collect::<String>()),
        detail: None,
        hint: Some(format!("The modes: {}.", Mode::NAMES.join(", "))),
    })?;
    let min_score = match min_score {
        Some(m) if !(-1.0..=1.0).contains(&m) => {
            return Err(ApiError::InvalidArgument {
                message: format!("min_score must be between -1 and 1, not {m}"),
                detail: None,
                hint: Some("It is a cosine similarity (lexical mode: a rank between 0 and 1); NULL takes the default.".into()),
            })
        }
        Some(m) => m,
        None if mode == Mode::Lexical => 0.0,
        None => DEFAULT_MIN_SCORE,
    };
    let filters = match args::parse(filters) {
        Ok(v) => v.unwrap_or(Value::Null),
        Err(message) => {
            return Err(ApiError::InvalidSpec(vec![SpecError {
                path: "$.filters".into(),
                code: "too_deep",
                message,
                hint: None,
                suggestions: vec![],
            }]))
        }
    };
    let catalog = active_catalog()?;
    let filters = search::parse_filters(&filters, &catalog.active).map_err(ApiError::InvalidSpec)?;
    let schema = vector_schema()?;
    let (model, dims, vector) = if mode.uses_vectors() {
        let model = embedder::model_name()?;
        let v = embedder::embed(&[query])?.remove(0);
        check_dims(&schema, &model, v.len())?;
        (model, v.len(), Some(search::vector_text(&v)))
    } else {
        (String::new(), DIMENSIONS, None)
    };
    let vectors = Vectors { schema: &schema, model: &model, dims };
    let s = Search { mode, k, text: query, vector: vector.as_deref(), min_score, exclude_issue_id: None };
    let compiled = search::compile(&filters, &catalog.active, &tenant, &s, Some(&vectors)).map_err(ApiError::Internal)?;
    let hits = run(&compiled, k)?;
    if hits.is_empty() && mode == Mode::Semantic {
        notice_if_nothing_embedded(&tenant)?;
    }
    Ok(hits)
}

/// The session tenant's issues most similar to a text.
#[pg_extern(volatile, schema = "analytics", name = "analytics_similar_issues")]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)] // pgrx reads the column names from this signature
fn analytics_similar_issues(
    query: Option<&str>,
    k: default!(Option<i32>, 10),
    filters: default!(Option<JsonbText>, "'{}'"),
    mode: default!(Option<&str>, "'hybrid'"),
    min_score: default!(Option<f64>, "NULL"),
) -> Result<
    TableIterator<'static, (name!(issue_key, String), name!(summary, Option<String>), name!(status, Option<String>), name!(score, f64))>,
    ErrorReport,
> {
    Ok(TableIterator::new(similar(query, k, filters.as_ref().map(JsonbText::as_str), mode, min_score)?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_similar_issues(text, integer, jsonb, text, double precision) IS
  'The session tenant''s k issues most similar to a text: issue_key, summary, status, score. mode: hybrid (default: meaning and words, score = 0.8 x cosine + 0.2 x lexical score of the 50 best of each), semantic (score: cosine similarity of the embeddings) or lexical (full-text search, words weighted by their rarity; score: the matched share, in [0, 1]). filters: a spec''s filters (e.g. [{"field": "issue_type", "operator": "eq", "value": "Bug"}]). min_score: rows less similar than this cosine are left out (NULL: 0.3; lexical: 0). Reader access.';
REVOKE ALL ON FUNCTION analytics.analytics_similar_issues(text, integer, jsonb, text, double precision) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_similar_issues(text,integer,jsonb,text,double precision)', 'EXECUTE');
"#,
    name = "similar_issues_sql",
    requires = [analytics_similar_issues, "search"]
);

fn similar_to(issue_key: Option<&str>, k: Option<i32>) -> Result<Vec<Hit>, ApiError> {
    let tenant = tenant()?;
    let key = issue_key.ok_or(ApiError::NullArgument("issue_key"))?;
    let k = check_k(k)?;
    let doc = search::document_sql("i");
    let hash = search::hash_sql(&doc);
    let model = embedder::model_name()?;
    // The issue's stored embedding when its text has not changed since, else its text to embed now.
    let (id, stored, text) = spi_read::three::<i64, String, String>(
        &format!(
            "SELECT i.id, (SELECT e.embedding::text FROM analytics.issue_embeddings AS e WHERE e.tenant_id = $1 AND e.issue_id = i.id AND e.model = $3 AND e.content_hash = {hash}), {doc} \
             FROM analytics.issues AS i WHERE i.tenant_id = $1 AND i.issue_key = $2"
        ),
        &[tenant.as_str().into(), key.into(), model.as_str().into()],
    )?;
    let id = id.ok_or_else(|| ApiError::UnknownIssue(key.to_string()))?;
    let schema = vector_schema()?;
    let (vector, dims) = match stored {
        Some(v) => {
            let dims = v.matches(',').count() + 1;
            (v, dims)
        }
        None => {
            let v = embedder::embed(&[text.as_deref().unwrap_or("")])?.remove(0);
            check_dims(&schema, &model, v.len())?;
            (search::vector_text(&v), v.len())
        }
    };
    let vectors = Vectors { schema: &schema, model: &model, dims };
    let s = Search { mode: Mode::Semantic, k, text: "", vector: Some(&vector), min_score: -1.0, exclude_issue_id: Some(id) };
    let catalog = active_catalog()?;
    let none = search::parse_filters(&Value::Null, &catalog.active).map_err(ApiError::InvalidSpec)?;
    let compiled = search::compile(&none, &catalog.active, &tenant, &s, Some(&vectors)).map_err(ApiError::Internal)?;
    let hits = run(&compiled, k)?;
    if hits.is_empty() {
        notice_if_nothing_embedded(&tenant)?;
    }
    Ok(hits)
}

/// The session tenant's issues most similar to one of its issues (by meaning), the issue itself left out.
#[pg_extern(volatile, schema = "analytics", name = "analytics_similar_to_issue")]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)] // pgrx reads the column names from this signature
fn analytics_similar_to_issue(
    issue_key: Option<&str>,
    k: default!(Option<i32>, 10),
) -> Result<
    TableIterator<'static, (name!(issue_key, String), name!(summary, Option<String>), name!(status, Option<String>), name!(score, f64))>,
    ErrorReport,
> {
    Ok(TableIterator::new(similar_to(issue_key, k)?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_similar_to_issue(text, integer) IS
  'The session tenant''s k issues most similar in meaning to the issue issue_key (left out itself): issue_key, summary, status, score (cosine similarity of the embeddings). Finds earlier reports of the same problem. Reader access.';
REVOKE ALL ON FUNCTION analytics.analytics_similar_to_issue(text, integer) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_similar_to_issue(text,integer)', 'EXECUTE');
"#,
    name = "similar_to_issue_sql",
    requires = [analytics_similar_to_issue, "search"]
);
