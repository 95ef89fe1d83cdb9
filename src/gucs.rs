//! Every `analytics.*` setting, defined in one place. Each has a typed accessor.
//!
//! | setting | type | default | who may set | meaning |
//! |---|---|---|---|---|
//! | `analytics.tenant_id` | text | empty | anyone | the tenant this session works for; empty = none (sees nothing) |
//! | `analytics.statement_timeout` | integer (ms) | 30000 | anyone | longest a spec query may run; 0 = no limit of ours |
//! | `analytics.jit` | boolean | off | anyone | whether spec queries may use PostgreSQL's JIT (off: `jit` is off for them only) |
//! | `analytics.cache_ttl` | integer (s) | 300 | anyone | how long analytics_run results are cached; 0 = no cache |
//! | `analytics.refresh_interval` | integer (s) | 0 | postgresql.conf (reload) | a refresh_views job is queued this often in `analytics.worker_database`; 0 = off |
//! | `analytics.embed_interval` | integer (s) | 30 | postgresql.conf (reload) | this often the job workers queue an embed job for each tenant whose issues were added or whose texts changed, when the builtin model is installed; 0 = off |
//! | `analytics.job_workers` | integer | 2 | postgresql.conf (reload) | job executors per database with the extension; 0 = jobs stay queued |
//! | `analytics.job_statement_timeout` | integer (ms) | 600000 | postgresql.conf (reload) | longest one attempt of a job may run; 0 = no limit |
//! | `analytics.job_retention` | integer (s) | 604800 | postgresql.conf (reload) | finished jobs and their results are deleted this long after they finished |
//! | `analytics.worker_database` | text | postgres | postgresql.conf (restart) | the database whose views `analytics.refresh_interval` refreshes |
//! | `analytics.llm_provider` | enum | builtin | anyone | who translates questions: builtin, openai, anthropic, ollama, openai_compatible |
//! | `analytics.llm_model` | text | per provider | anyone | the model name sent to the provider |
//! | `analytics.llm_base_url` | text | per provider | superuser | the provider's base URL (required for openai_compatible) |
//! | `analytics.llm_api_key` | text | empty | superuser (not readable by others) | the provider's API key; fallback: the server's OPENAI_API_KEY / ANTHROPIC_API_KEY |
//! | `analytics.llm_timeout_ms` | integer (ms) | 20000 | anyone | longest wait for one provider request |
//! | `analytics.llm_fallback` | enum | builtin | anyone | when the provider cannot be reached: builtin (answer with the builtin translator) or none (error) |
//! | `analytics.ask_mode` | enum | single | anyone | single (the provider translates every question) or hybrid (the builtin translator first, the provider only where it would ask back) |
//! | `analytics.embedding_provider` | enum | builtin | anyone | who embeds issues and search queries: builtin (all-MiniLM-L6-v2 on the CPU, no network), openai, ollama, openai_compatible |
//! | `analytics.embedding_model` | text | per provider | superuser | a remote provider's model; stored as provider:model |
//! | `analytics.embedding_base_url` | text | per provider | superuser | a remote provider's base URL (required for openai_compatible) |
//! | `analytics.embedding_api_key` | text | empty | superuser (not readable by others) | a remote provider's key; fallback for openai: OPENAI_API_KEY |
//! | `analytics.embedding_timeout_ms` | integer (ms) | 20000 | anyone | longest wait for one embedding request |
//! | `analytics.embedding_model_path` | text | empty | superuser | the builtin model's directory; empty: `$sharedir/extension/agile_analytics/models/all-MiniLM-L6-v2` |
//! | `analytics.embedding_threads` | integer | 1 | superuser | threads a backend computes embeddings on (read when it first loads the model) |

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};
use std::ffi::CString;

/// The session's tenant. Row-level security reads it through `analytics.current_tenant()`, which works
/// even in sessions that never load this library (PostgreSQL then keeps it as a placeholder setting).
pub static TENANT_ID: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Longest a compiled spec may run, in milliseconds (0: no limit of ours).
pub static STATEMENT_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30_000);

/// Whether spec queries may use PostgreSQL's JIT compilation (see `crate::jit`).
pub static JIT: GucSetting<bool> = GucSetting::<bool>::new(false);

/// Whether sprint specs are answered from the tenant's materialized statistics while they are fresh.
pub static STATS_ROUTING: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Seconds a cached analytics_run result stays valid (0: no caching).
pub static CACHE_TTL: GucSetting<i32> = GucSetting::<i32>::new(300);

/// Seconds between refreshes of the materialized views by the background worker; 0 = off.
pub static REFRESH_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(0);

/// Seconds between the job workers' looks for tenants with issues to embed; 0 = off.
pub static EMBED_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(30);

/// Job executors per database where the extension is installed (0: jobs stay queued).
pub static JOB_WORKERS: GucSetting<i32> = GucSetting::<i32>::new(2);

/// Longest one attempt of a job may run, in milliseconds (0: no limit).
pub static JOB_STATEMENT_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(600_000);

/// Seconds a finished job (and its result) is kept.
pub static JOB_RETENTION: GucSetting<i32> = GucSetting::<i32>::new(7 * 24 * 3600);

/// The database the background worker connects to.
pub static WORKER_DATABASE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c"postgres"));

/// Who translates questions for analytics_ask: a closed choice, so a typo is refused when it is set.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LlmProvider {
    #[name = c"builtin"]
    Builtin,
    #[name = c"openai"]
    OpenAi,
    #[name = c"anthropic"]
    Anthropic,
    #[name = c"ollama"]
    Ollama,
    #[name = c"openai_compatible"]
    OpenAiCompatible,
}
pub static LLM_PROVIDER: GucSetting<LlmProvider> = GucSetting::<LlmProvider>::new(LlmProvider::Builtin);
/// The model name sent to the provider (empty: the provider's default in analytics_core::llm).
pub static LLM_MODEL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// The provider's base URL (empty: the provider's public endpoint).
pub static LLM_BASE_URL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// The provider's API key: set and read by superusers only, never shown in results or errors.
pub static LLM_API_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Longest wait for one provider request, in milliseconds.
pub static LLM_TIMEOUT_MS: GucSetting<i32> = GucSetting::<i32>::new(20_000);
/// What analytics_ask does when the provider cannot be reached (a closed choice).
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LlmFallback {
    /// Answer with the builtin translator (the answer says so).
    #[name = c"builtin"]
    Builtin,
    /// Raise 08000.
    #[name = c"none"]
    None,
}
pub static LLM_FALLBACK: GucSetting<LlmFallback> = GucSetting::<LlmFallback>::new(LlmFallback::Builtin);

/// Whether a model provider translates every question or only what the builtin translator cannot.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AskMode {
    /// The provider translates every question.
    #[name = c"single"]
    Single,
    /// The builtin translator first; the provider where it would answer clarification_needed.
    #[name = c"hybrid"]
    Hybrid,
}
pub static ASK_MODE: GucSetting<AskMode> = GucSetting::<AskMode>::new(AskMode::Single);

/// Who embeds issues and search queries (a closed choice).
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum EmbeddingProvider {
    /// all-MiniLM-L6-v2 run in the backend on the CPU (crates/embed): no key, no network.
    #[name = c"builtin"]
    Builtin,
    /// OpenAI's /v1/embeddings (a key: analytics.embedding_api_key or OPENAI_API_KEY).
    #[name = c"openai"]
    OpenAi,
    /// Ollama's /api/embed.
    #[name = c"ollama"]
    Ollama,
    /// Any server with OpenAI's embeddings API, at analytics.embedding_base_url.
    #[name = c"openai_compatible"]
    OpenAiCompatible,
}
pub static EMBEDDING_PROVIDER: GucSetting<EmbeddingProvider> = GucSetting::<EmbeddingProvider>::new(EmbeddingProvider::Builtin);
/// A remote provider's model (empty: the provider's default).
pub static EMBEDDING_MODEL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// A remote provider's base URL (empty: the provider's default).
pub static EMBEDDING_BASE_URL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// A remote provider's API key: set and read by superusers only, never shown.
pub static EMBEDDING_API_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Longest wait for one embedding request, in milliseconds.
pub static EMBEDDING_TIMEOUT_MS: GucSetting<i32> = GucSetting::<i32>::new(20_000);
/// The builtin model's directory (empty: where scripts/models.sh installs it).
pub static EMBEDDING_MODEL_PATH: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
/// Threads one backend computes embeddings on.
pub static EMBEDDING_THREADS: GucSetting<i32> = GucSetting::<i32>::new(1);

pub fn init() {
    GucRegistry::define_enum_guc(
        c"analytics.llm_provider",
        c"Who translates analytics_ask questions into specs: builtin (no network), openai, anthropic, ollama or openai_compatible.",
        c"A model only ever writes a spec, which is validated and compiled; it never writes SQL. Per call: options => '{\"provider\": ...}'.",
        &LLM_PROVIDER,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.llm_model",
        c"The model analytics_ask asks (empty: the provider's default).",
        c"For example gpt-4o-mini, claude-3-5-haiku-latest, qwen2.5-coder:1.5b.",
        &LLM_MODEL,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.llm_base_url",
        c"Base URL of the LLM provider (empty: its public endpoint; required for openai_compatible).",
        c"For example http://127.0.0.1:8080/v1 for a llama.cpp server. Only superusers may set it, so a session cannot send its questions elsewhere.",
        &LLM_BASE_URL,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.llm_api_key",
        c"API key of the LLM provider (superuser only; never shown).",
        c"When empty, the server's OPENAI_API_KEY or ANTHROPIC_API_KEY environment variable is used.",
        &LLM_API_KEY,
        GucContext::Suset,
        GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL,
    );
    GucRegistry::define_int_guc(
        c"analytics.llm_timeout_ms",
        c"Longest wait for one LLM provider request, in milliseconds.",
        c"A request that takes longer is abandoned; analytics.llm_fallback decides what happens then.",
        &LLM_TIMEOUT_MS,
        100,
        600_000,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_enum_guc(
        c"analytics.llm_fallback",
        c"What analytics_ask does when the LLM provider cannot be reached: builtin (answer with the builtin translator) or none (raise an error).",
        c"The answer's provider field says who answered.",
        &LLM_FALLBACK,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"analytics.ask_mode",
        c"How analytics_ask uses a model provider: single (every question) or hybrid (the builtin translator first; the model only where it would ask back).",
        c"In hybrid mode the model is told what the builtin translator read; the answer's path field says which answered. Per call: options => '{\"mode\": ...}'.",
        &ASK_MODE,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"analytics.embedding_provider",
        c"Who embeds issues and search queries for semantic search: builtin (all-MiniLM-L6-v2 on the CPU, no key, no network), openai, ollama or openai_compatible.",
        c"Embeddings are stored per model in analytics.issue_embeddings (a remote one as provider:model); analytics_embed_issues() computes the missing and changed ones.",
        &EMBEDDING_PROVIDER,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.embedding_model",
        c"The model a remote embedding provider is asked for (empty: openai text-embedding-3-small, ollama all-minilm, openai_compatible default).",
        c"Its embeddings are stored as provider:model; another model's embeddings are not compared with them.",
        &EMBEDDING_MODEL,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.embedding_base_url",
        c"Base URL of the remote embedding provider (empty: https://api.openai.com/v1 for openai, http://127.0.0.1:11434 for ollama; required for openai_compatible).",
        c"openai and openai_compatible post to BASE/embeddings, ollama to BASE/api/embed.",
        &EMBEDDING_BASE_URL,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.embedding_api_key",
        c"API key of the remote embedding provider (superuser only; never shown).",
        c"When empty, openai uses the server's OPENAI_API_KEY environment variable; ollama and openai_compatible get a key only when it is set here.",
        &EMBEDDING_API_KEY,
        GucContext::Suset,
        GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL,
    );
    GucRegistry::define_int_guc(
        c"analytics.embedding_timeout_ms",
        c"Longest wait for one request to a remote embedding provider, in milliseconds.",
        c"429 and 5xx answers are tried again; one call waits at most three times this.",
        &EMBEDDING_TIMEOUT_MS,
        100,
        600_000,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_string_guc(
        c"analytics.embedding_model_path",
        c"Directory of the builtin embedding model (empty: $sharedir/extension/agile_analytics/models/all-MiniLM-L6-v2).",
        c"It must hold model.safetensors, tokenizer.json and config.json (scripts/models.sh installs them). Read when a backend first loads the model.",
        &EMBEDDING_MODEL_PATH,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"analytics.embedding_threads",
        c"Threads one backend computes embeddings on.",
        c"Read when the backend first loads the model; later changes apply to new sessions.",
        &EMBEDDING_THREADS,
        1,
        64,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"analytics.cache_ttl",
        c"Seconds an analytics_run result stays in the cache (0: no caching).",
        c"Any write to a tenant's data, any catalog change and any view refresh also invalidate cached results.",
        &CACHE_TTL,
        0,
        7 * 24 * 3600,
        GucContext::Userset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"analytics.statement_timeout",
        c"Longest an analytics query (analytics_run, analytics_rows) may run, in milliseconds (0: no limit of ours).",
        c"Longer questions belong in async jobs. A session statement_timeout, when one is running, governs instead.",
        &STATEMENT_TIMEOUT,
        0,
        24 * 3600 * 1000,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_bool_guc(
        c"analytics.jit",
        c"Whether analytics queries (analytics_run, analytics_rows, analytics_explain, analytics_ask) may use PostgreSQL's JIT compilation.",
        c"Off: jit is switched off for those queries only, since compiling usually costs more than it saves on one tenant's rows. On: the session's jit settings apply.",
        &JIT,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"analytics.stats_routing",
        c"Whether sprint specs are answered from the tenant's materialized sprint statistics while they are fresh.",
        c"On (default): a spec that reads sprint statistics reads analytics.sprint_stats instead of computing analytics.sprint_facts when nothing the tenant's statistics depend on changed since their last refresh (the same rows, much faster). Off: always computed live.",
        &STATS_ROUTING,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"analytics.refresh_interval",
        c"Seconds between refreshes of the materialized views by the agile_analytics job workers (0: off).",
        c"A refresh_views job is queued this often in analytics.worker_database. Needs agile_analytics in shared_preload_libraries. Alternatives: analytics_schedule_refresh() with pg_cron, or analytics_refresh_views() by hand.",
        &REFRESH_INTERVAL,
        0,
        7 * 24 * 3600,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"analytics.embed_interval",
        c"Seconds between the agile_analytics job workers' looks for tenants with new or changed issues to embed (0: off).",
        c"Each such tenant gets an embed job (at a low priority), in every database with the extension, when the builtin model's files are installed. Needs agile_analytics in shared_preload_libraries.",
        &EMBED_INTERVAL,
        0,
        24 * 3600,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"analytics.job_workers",
        c"Job executors per database where agile_analytics is installed (0: jobs stay queued).",
        c"Needs agile_analytics in shared_preload_libraries. Each database with the extension uses 1 + job_workers background workers, plus 1 launcher: raise max_worker_processes to match.",
        &JOB_WORKERS,
        0,
        32,
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"analytics.job_statement_timeout",
        c"Longest one attempt of an async job may run (0: no limit).",
        c"A job that runs longer is canceled and fails with SQLSTATE 57014; it is not retried.",
        &JOB_STATEMENT_TIMEOUT,
        0,
        i32::MAX,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"analytics.job_retention",
        c"How long a finished async job and its result are kept.",
        c"The job workers delete completed, failed and cancelled jobs this long after they finished.",
        &JOB_RETENTION,
        60,
        3650 * 24 * 3600,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_string_guc(
        c"analytics.worker_database",
        c"The database whose materialized views analytics.refresh_interval refreshes.",
        c"Its job supervisor queues a refresh_views job every analytics.refresh_interval seconds.",
        &WORKER_DATABASE,
        GucContext::Postmaster,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"analytics.tenant_id",
        c"The tenant this session reads and writes (empty: none, and every tenant-scoped table looks empty).",
        c"Row-level security on every analytics table compares tenant_id with this setting. Set it per session or transaction, e.g. SET analytics.tenant_id = 'acme'.",
        &TENANT_ID,
        GucContext::Userset,
        GucFlags::default(),
    );
    // Typos such as `SET analytics.tennant_id` become errors instead of silent placeholders.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"analytics".as_ptr()) };
}

pub fn statement_timeout() -> i32 {
    STATEMENT_TIMEOUT.get()
}

pub fn jit() -> bool {
    JIT.get()
}

pub fn stats_routing() -> bool {
    STATS_ROUTING.get()
}

pub fn cache_ttl() -> i32 {
    CACHE_TTL.get()
}

pub fn job_workers() -> i32 {
    JOB_WORKERS.get()
}

pub fn job_statement_timeout() -> i32 {
    JOB_STATEMENT_TIMEOUT.get()
}

pub fn job_retention() -> i32 {
    JOB_RETENTION.get()
}

pub fn refresh_interval() -> i32 {
    REFRESH_INTERVAL.get()
}

pub fn embed_interval() -> i32 {
    EMBED_INTERVAL.get()
}

pub fn worker_database() -> String {
    WORKER_DATABASE.get().and_then(|c| c.into_string().ok()).filter(|s| !s.is_empty()).unwrap_or_else(|| "postgres".into())
}

/// Runs `f` with the bytes of the session's tenant setting (empty when unset), without copying them.
pub fn with_tenant_bytes<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    // SAFETY: the setting's current C string (or null), read on the backend's thread. It stays valid
    // until the setting changes, which nothing inside `f` does.
    let raw = unsafe { *TENANT_ID.as_ptr() };
    f(if raw.is_null() { &[] } else { unsafe { std::ffi::CStr::from_ptr(raw) }.to_bytes() })
}

/// The current tenant, or `None` when unset or empty.
pub fn tenant_id() -> Option<String> {
    with_tenant_bytes(|b| std::str::from_utf8(b).ok().filter(|s| !s.is_empty()).map(str::to_string))
}

fn text(g: &GucSetting<Option<CString>>) -> Option<String> {
    g.get().and_then(|c| c.into_string().ok()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub fn llm_provider() -> String {
    match LLM_PROVIDER.get() {
        LlmProvider::Builtin => "builtin",
        LlmProvider::OpenAi => "openai",
        LlmProvider::Anthropic => "anthropic",
        LlmProvider::Ollama => "ollama",
        LlmProvider::OpenAiCompatible => "openai_compatible",
    }
    .into()
}

pub fn llm_model() -> Option<String> {
    text(&LLM_MODEL)
}

pub fn llm_base_url() -> Option<String> {
    text(&LLM_BASE_URL)
}

/// The API key: the setting, else the server's environment variable for the provider.
pub fn llm_api_key(env_var: &str) -> Option<String> {
    text(&LLM_API_KEY).or_else(|| std::env::var(env_var).ok().filter(|s| !s.trim().is_empty()))
}

pub fn llm_timeout_ms() -> i32 {
    LLM_TIMEOUT_MS.get()
}

pub fn ask_mode() -> analytics_core::ask::Mode {
    match ASK_MODE.get() {
        AskMode::Single => analytics_core::ask::Mode::Single,
        AskMode::Hybrid => analytics_core::ask::Mode::Hybrid,
    }
}

pub fn llm_fallback() -> String {
    match LLM_FALLBACK.get() {
        LlmFallback::Builtin => "builtin",
        LlmFallback::None => "none",
    }
    .into()
}

pub fn embedding_model_path() -> Option<String> {
    text(&EMBEDDING_MODEL_PATH)
}

pub fn embedding_provider() -> analytics_core::llm::embeddings::EmbeddingProvider {
    use analytics_core::llm::embeddings::EmbeddingProvider as P;
    match EMBEDDING_PROVIDER.get() {
        EmbeddingProvider::Builtin => P::Builtin,
        EmbeddingProvider::OpenAi => P::OpenAi,
        EmbeddingProvider::Ollama => P::Ollama,
        EmbeddingProvider::OpenAiCompatible => P::OpenAiCompatible,
    }
}

pub fn embedding_model() -> Option<String> {
    text(&EMBEDDING_MODEL)
}

pub fn embedding_base_url() -> Option<String> {
    text(&EMBEDDING_BASE_URL)
}

/// The key: the setting, else (openai only) the server's OPENAI_API_KEY.
pub fn embedding_api_key(openai: bool) -> Option<String> {
    text(&EMBEDDING_API_KEY).or_else(|| openai.then(|| std::env::var("OPENAI_API_KEY").ok()).flatten().filter(|s| !s.trim().is_empty()))
}

pub fn embedding_timeout_ms() -> i32 {
    EMBEDDING_TIMEOUT_MS.get()
}

pub fn embedding_threads() -> usize {
    EMBEDDING_THREADS.get().max(1) as usize
}
