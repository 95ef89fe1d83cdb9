//! Errors of the SQL API: one enum, each variant with its SQLSTATE, message, DETAIL and HINT.
//! Functions return `Result<_, ApiError>` internally and call [`ApiError::report`] at the boundary, so
//! no Rust panic reaches the user.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

#[derive(Debug)]
pub enum ApiError {
    /// A metric definition that does not parse or validate (22023).
    InvalidDefinition { message: String, detail: String },
    /// A metric name that is not in the catalog (42704).
    UnknownMetric { name: String, suggestions: Vec<String> },
    /// A spec that does not validate (22023): every problem as JSON in DETAIL.
    InvalidSpec(Vec<analytics_core::spec::SpecError>),
    /// No tenant in the session (42501).
    NoTenant,
    /// A spec query ran past analytics.statement_timeout (57014).
    Timeout(i32),
    /// Any other bad argument (22023).
    InvalidArgument { message: String, detail: Option<String>, hint: Option<String> },
    /// An object that already exists (42P07).
    Exists(String),
    /// A view that analytics_create_view did not make (42704).
    UnknownView { name: String, suggestions: Vec<String> },
    /// A NULL where a value is required (22004).
    NullArgument(&'static str),
    /// An LLM provider could not be reached or answered with an HTTP error (08000); `retryable`: it may
    /// answer later (no connection, a timeout, HTTP 429 or 5xx), so an async job tries again.
    ProviderUnavailable { message: String, detail: Option<String>, hint: Option<String>, retryable: bool },
    /// An LLM provider answered, but never with a valid spec (22000): DETAIL lists every attempt's problems.
    ProviderOutput { message: String, detail: String },
    /// An error PostgreSQL raised in a function we called (e.g. jsonb_in's 22P02), passed on with its own
    /// SQLSTATE, message, DETAIL and HINT (without the Rust backtrace pgrx would attach to it).
    Postgres { code: PgSqlErrorCode, message: String, detail: Option<String>, hint: Option<String> },
    /// A write asked for where this transaction cannot write: on a standby or in a read-only
    /// transaction (25006).
    ReadOnly(&'static str),
    /// No job with this id among the calling role's jobs of the session's tenant (42704).
    UnknownJob(String),
    /// A job's result was asked for before it completed: the id and its state (55000).
    JobNotDone { id: String, state: String },
    /// The calling role may not do this: message, DETAIL, HINT (42501).
    NotAllowed { message: String, detail: String, hint: String },
    /// The embedding model's files are missing (58P01) or cannot be loaded (`corrupt`: XX001).
    ModelUnavailable { message: String, hint: Option<String>, corrupt: bool },
    /// No issue with this key in the session's tenant (42704).
    UnknownIssue(String),
    /// Something that should not happen: an SPI failure or a broken shipped catalog (XX000).
    Internal(String),
}

impl ApiError {
    pub(crate) fn parts(&self) -> (PgSqlErrorCode, String, Option<String>, Option<String>) {
        match self {
            ApiError::InvalidDefinition { message, detail } => (
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                message.clone(),
                Some(detail.clone()),
                Some("See analytics_metric('<an existing metric>') for a complete, valid definition.".into()),
            ),
            ApiError::UnknownMetric { name, suggestions } => (
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("unknown metric \"{name}\""),
                None,
                Some(if suggestions.is_empty() {
                    "SELECT name FROM analytics.analytics_metrics() lists the metrics.".into()
                } else {
                    format!("Did you mean {}?", suggestions.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(" or "))
                }),
            ),
            ApiError::InvalidSpec(errors) => {
                let first = errors.first();
                let n = errors.len();
                let message = match first {
                    Some(e) if n == 1 => format!("invalid analytics spec: {} (at {})", e.message, e.path),
                    Some(e) => format!("invalid analytics spec: {n} problems; the first: {} (at {})", e.message, e.path),
                    None => "invalid analytics spec".to_string(),
                };
                let hint = first.map(|e| match (&e.hint, e.suggestions.is_empty()) {
                    (Some(h), true) => h.clone(),
                    (Some(h), false) => format!("{h} Did you mean {}?", e.suggestions.join(" or ")),
                    (None, false) => format!("Did you mean {}?", e.suggestions.join(" or ")),
                    (None, true) => "analytics_validate(spec) lists every problem.".to_string(),
                });
                (PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, Some(serde_json::to_string(errors).unwrap_or_default()), hint)
            }
            ApiError::NoTenant => (
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                "no tenant is set for this session".into(),
                Some("Every analytics query runs for one tenant, the setting analytics.tenant_id.".into()),
                Some("SET analytics.tenant_id = 'your_tenant';".into()),
            ),
            ApiError::Timeout(ms) => (
                PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                format!("the analytics query ran longer than analytics.statement_timeout ({ms} ms) and was canceled"),
                None,
                Some(
                    "Narrow the spec (date_range, filters, fewer groups), raise analytics.statement_timeout, or run it as an async job: analytics_job_submit('run', spec)."
                        .into(),
                ),
            ),
            ApiError::InvalidArgument { message, detail, hint } => {
                (PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message.clone(), detail.clone(), hint.clone())
            }
            ApiError::Exists(what) => (
                PgSqlErrorCode::ERRCODE_DUPLICATE_TABLE,
                format!("{what} already exists"),
                None,
                Some("Pass replace => true to replace it.".into()),
            ),
            ApiError::UnknownView { name, suggestions } => (
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("no view \"{name}\" made by analytics_create_view"),
                None,
                Some(if suggestions.is_empty() {
                    "SELECT name FROM analytics.spec_views lists them.".into()
                } else {
                    format!("Did you mean {}?", suggestions.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(" or "))
                }),
            ),
            ApiError::NullArgument(what) => {
                (PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, format!("{what} must not be null"), None, None)
            }
            ApiError::ProviderUnavailable { message, detail, hint, .. } => {
                (PgSqlErrorCode::ERRCODE_CONNECTION_EXCEPTION, message.clone(), detail.clone(), hint.clone())
            }
            ApiError::ProviderOutput { message, detail } => (
                PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                message.clone(),
                Some(detail.clone()),
                Some(
                    "Rephrase the question, try another model, or use the builtin provider: options => '{\"provider\": \"builtin\"}'."
                        .into(),
                ),
            ),
            ApiError::Postgres { code, message, detail, hint } => (*code, message.clone(), detail.clone(), hint.clone()),
            ApiError::ReadOnly(what) => (
                PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION,
                format!("{what} cannot run here: this transaction is read-only"),
                Some("On a standby (in recovery) or in a read-only transaction nothing can be written.".into()),
                Some("Run it on the primary, in a read-write transaction; a standby follows the primary's changes.".into()),
            ),
            ApiError::UnknownJob(id) => (
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("no job {id} of this role and tenant"),
                Some("A job is seen only by the role that submitted it, with the tenant it was submitted for.".into()),
                Some("SELECT * FROM analytics_jobs() lists your jobs.".into()),
            ),
            ApiError::JobNotDone { id, state } => (
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("job {id} has no result: it is {state}"),
                Some(format!("state: {state}")),
                Some(
                    match state.as_str() {
                        "queued" | "running" => {
                            "Wait for it: analytics_job_status(id) shows its progress (LISTEN analytics_jobs for updates)."
                        }
                        "failed" => "analytics_job_status(id) shows its error.",
                        "cancelled" => "A cancelled job has no result: submit it again.",
                        _ => "Its result is no longer kept: submit it again.",
                    }
                    .into(),
                ),
            ),
            ApiError::NotAllowed { message, detail, hint } => {
                (PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE, message.clone(), Some(detail.clone()), Some(hint.clone()))
            }
            ApiError::ModelUnavailable { message, hint, corrupt } => (
                if *corrupt { PgSqlErrorCode::ERRCODE_DATA_CORRUPTED } else { PgSqlErrorCode::ERRCODE_UNDEFINED_FILE },
                message.clone(),
                Some("Semantic search embeds issues and queries with the builtin model all-MiniLM-L6-v2; its files are not part of the extension's package.".into()),
                hint.clone(),
            ),
            ApiError::UnknownIssue(key) => (
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("no issue \"{}\" in this tenant", key.chars().take(100).collect::<String>()),
                None,
                Some("Issue keys are case-sensitive, e.g. 'PROJ-123'; SELECT issue_key FROM analytics.issues lists the tenant's issues.".into()),
            ),
            ApiError::Internal(message) => (PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, message.clone(), None, None),
        }
    }

    /// Raises this error as a PostgreSQL ERROR. Does not return.
    pub fn report(self) -> ! {
        ErrorReport::from(self).report(PgLogLevel::ERROR);
        unreachable!("ERROR does not return")
    }
}

/// A SQL function returns `Result<T, ErrorReport>` and pgrx raises the error with its SQLSTATE,
/// message, DETAIL and HINT; `?` on an ApiError converts it.
impl From<ApiError> for ErrorReport {
    fn from(e: ApiError) -> Self {
        let (code, message, detail, hint) = e.parts();
        let mut report = ErrorReport::new(code, message, "agile_analytics");
        if let Some(d) = detail {
            report = report.set_detail(d);
        }
        if let Some(h) = hint {
            report = report.set_hint(h);
        }
        report
    }
}

/// No Rust backtrace in a user's error. pgrx's panic hook captures a `std::backtrace::Backtrace` for
/// every PostgreSQL error that passes through Rust (an SPI query that fails, e.g. "must be owner of
/// view") and prints it into the error's DETAIL whenever the server runs with RUST_BACKTRACE set. Such
/// captures are switched off here unless RUST_LIB_BACKTRACE asks for them (a developer's choice); Rust
/// panics keep their own setting. Called from _PG_init, while the process has one thread.
pub fn init() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}

impl From<pgrx::spi::Error> for ApiError {
    fn from(e: pgrx::spi::Error) -> Self {
        ApiError::Internal(format!("SPI: {e}"))
    }
}

impl ApiError {
    /// A PostgreSQL error caught around a call, as an ApiError; a Rust panic is Internal.
    pub fn caught(e: &pgrx::pg_sys::panic::CaughtError) -> ApiError {
        use pgrx::pg_sys::panic::CaughtError;
        match e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => ApiError::Postgres {
                code: r.sql_error_code(),
                message: r.message().to_string(),
                detail: r.detail().map(str::to_string),
                hint: r.hint().map(str::to_string),
            },
            CaughtError::RustPanic { ereport, .. } => ApiError::Internal(ereport.message().to_string()),
        }
    }
}

/// Unwraps a result at the SQL boundary, raising the error.
pub trait OrReport<T> {
    fn or_report(self) -> T;
}

impl<T> OrReport<T> for Result<T, ApiError> {
    fn or_report(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => e.report(),
        }
    }
}
