//! Similar-issue search to SQL: the nearest issues of one tenant to a text, by meaning (the embeddings'
//! cosine distance through pgvector), by words (PostgreSQL full-text search) or both, fused by a
//! weighted sum of the cosine and the lexical score. The filters are a spec's filters (dimensions and metric conditions), checked
//! by the spec parser; every value is a bound parameter; pgvector's type and operator are qualified
//! with its schema, which the caller looks up (PostgreSQL 15 has no `@extschema:vector@`).

use super::compile::{filter_sql, find, formula_params, plain_base, quote, Column, Compiled};
use super::model::{FilterValue, Op, Spec};
use super::parse::{parse, SpecError};
use crate::catalog::params::{Bound, Query};
use crate::catalog::sql::render;
use crate::catalog::{Entity, MetricDef};
use serde_json::{json, Value};

/// How the neighbours are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The embeddings' cosine similarity only.
    Semantic,
    /// Full-text search over summary and description only.
    Lexical,
    /// Both: a weighted sum of the cosine and the lexical score ([`SEMANTIC_WEIGHT`]).
    Hybrid,
}

impl Mode {
    pub const NAMES: [&'static str; 3] = ["semantic", "lexical", "hybrid"];
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "semantic" => Some(Mode::Semantic),
            "lexical" => Some(Mode::Lexical),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Semantic => "semantic",
            Mode::Lexical => "lexical",
            Mode::Hybrid => "hybrid",
        }
    }
    pub fn uses_vectors(self) -> bool {
        self != Mode::Lexical
    }
}

/// The largest `k`.
pub const MAX_K: u32 = 1000;
/// Hybrid mode's weight of the cosine similarity; the lexical score has the rest. A row's score is
/// SEMANTIC_WEIGHT × its cosine (if among the nearest candidates, else 0) + (1 − SEMANTIC_WEIGHT) × its
/// lexical score (if among the best by words, else 0). Chosen on tests/search/queries.json (MRR@10:
/// 0.666 at 0.8, 0.668 at 0.9, 0.518 for reciprocal rank fusion, 0.619 for semantic alone) and
/// confirmed on the independently written tests/search/queries_b.json (0.618 at 0.8; semantic 0.586,
/// reciprocal rank fusion 0.556); docs/search.md.
pub const SEMANTIC_WEIGHT: f64 = 0.8;
/// In hybrid mode each ranking contributes at least this many candidates to the fusion.
pub const HYBRID_CANDIDATES: u32 = 50;

/// Where the embeddings of one model are and how the shared index reads them.
#[derive(Debug, Clone)]
pub struct Vectors<'a> {
    /// pgvector's schema (a name from pg_extension, quoted here).
    pub schema: &'a str,
    /// The model: rows of analytics.issue_embeddings with this `model`.
    pub model: &'a str,
    /// Its dimensions: the cast the model's HNSW index is built on (`embedding::vector(dims)`).
    pub dims: usize,
}

impl Vectors<'_> {
    /// The cast the model's HNSW index is built on, qualified: `"schema".vector(dims)`.
    pub fn typ(&self) -> String {
        format!("{}.vector({})", quote(self.schema), self.dims)
    }

    /// pgvector's cosine distance between `alias.embedding` and the bound query vector `param`,
    /// written so that the planner matches the model's index (the same cast on both sides, the
    /// operator qualified with pgvector's schema).
    pub fn distance(&self, alias: &str, param: &str) -> String {
        let typ = self.typ();
        format!("({alias}.embedding::{typ} OPERATOR({}.<=>) ({param})::{typ})", quote(self.schema))
    }

    /// The model name as an SQL literal. Model names are checked identifiers (the table's CHECK), so
    /// this only ever quotes letters, digits and `._:/-`; a literal (not a parameter) lets the planner
    /// match the model's partial index.
    pub fn model_literal(&self) -> String {
        let safe: String = self.model.chars().filter(|c| c.is_ascii_alphanumeric() || "._:/-".contains(*c)).collect();
        format!("'{safe}'")
    }
}

/// One search.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub mode: Mode,
    pub k: u32,
    /// The query text (lexical and hybrid modes).
    pub text: &'a str,
    /// The query's embedding in pgvector's text form `[x,y,…]` (semantic and hybrid modes).
    pub vector: Option<&'a str>,
    /// Rows whose cosine similarity to the query is below this are left out (semantic and hybrid:
    /// a lexical-only hit is judged by its own embedding's similarity, and passes when it has none yet);
    /// lexical mode: its own score.
    pub min_score: f64,
    /// An issue left out of the answer (the issue whose neighbours are asked for).
    pub exclude_issue_id: Option<i64>,
}

/// The text of an issue (alias `alias` of analytics.issues) that is embedded, as SQL: the summary, then
/// the description on the next line, each trimmed, an empty one left out. Its SHA-256 ([`hash_sql`]) is
/// the embedding's content hash, so one SQL expression decides both what is embedded and when it
/// changed.
pub fn document_sql(alias: &str) -> String {
    format!(
        "pg_catalog.concat_ws(E'\\n', NULLIF(pg_catalog.btrim({alias}.summary, E' \\t\\r\\n'), ''), NULLIF(pg_catalog.btrim({alias}.description, E' \\t\\r\\n'), ''))"
    )
}

/// The content hash of a text expression: SHA-256 of its UTF-8 bytes, in hex.
pub fn hash_sql(text: &str) -> String {
    format!("pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to({text}, 'UTF8')), 'hex')")
}

/// A vector in pgvector's text form.
pub fn vector_text(v: &[f32]) -> String {
    let mut out = String::with_capacity(v.len() * 11 + 2);
    out.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{x}"));
    }
    out.push(']');
    out
}

/// The filters of a search, in the spec's filter language, checked as a list spec's filters are.
/// Error paths are those of the spec (`$.filters[0].field`).
pub fn parse_filters(filters: &Value, catalog: &[MetricDef]) -> Result<Spec, Vec<SpecError>> {
    let filters = match filters {
        Value::Null => json!([]),
        Value::Object(o) if o.is_empty() => json!([]),
        other => other.clone(),
    };
    parse(&json!({"entity": "issue", "fields": ["key"], "filters": filters}), catalog)
}

/// The full-text expression of the GIN index `issues_fts_idx`, over the issues table aliased `alias`.
fn tsvector(alias: &str) -> String {
    format!(
        "pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, coalesce({alias}.summary, '') || ' ' || coalesce({alias}.description, ''))"
    )
}

/// The query's words as full-text queries with their inverse document frequency in the tenant's
/// issues, ln(1 + (N - df + 0.5) / (df + 0.5)) as in BM25: one row (q, idf) per lexeme of the query's
/// `english` tsvector (stop words have none; a lexeme is already normalised, so the `simple`
/// configuration only makes it a query). Each count reads the full-text index. PostgreSQL's own ranks know no
/// document frequencies, so a common word would weigh as much as a rare one.
fn weighted_words(text_param: &str, tenant_param: &str) -> String {
    let tsv = tsvector("x");
    format!(
        "SELECT w.q, pg_catalog.ln(1 + (c.n - c.df + 0.5) / (c.df + 0.5)) AS idf FROM \
         (SELECT pg_catalog.plainto_tsquery('pg_catalog.simple'::pg_catalog.regconfig, u.lexeme) AS q \
          FROM pg_catalog.unnest(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, {text_param})) AS u) AS w \
         CROSS JOIN LATERAL (SELECT (SELECT count(*) FROM analytics.issues AS x WHERE x.tenant_id = {tenant_param})::float8 AS n, \
         (SELECT count(*) FROM analytics.issues AS x WHERE x.tenant_id = {tenant_param} AND {tsv} @@ w.q)::float8 AS df) AS c \
         WHERE pg_catalog.numnode(w.q) > 0"
    )
}

/// The conditions of the filters on alias `f` (a row of analytics.issue_facts, or of analytics.issues
/// when they read only its columns).
fn conditions(filters: &Spec, catalog: &[MetricDef], q: &mut Query) -> Result<Vec<String>, String> {
    let mut wheres = Vec::new();
    for f in &filters.filters {
        wheres.push(filter_sql(f, Entity::Issue, q)?);
    }
    for m in &filters.metric_filters {
        let def = find(catalog, &m.metric)?;
        let bound = formula_params(def, &m.params, q)?;
        let value = render(&def.sql_expression, &bound)?;
        if let Some(own) = def.filter.as_deref() {
            wheres.push(format!("({})", render(own, &bound)?));
        }
        let mut num = |s: &str| q.bind(Bound::Text(s.to_string()), "numeric");
        match (m.op, &m.value) {
            (Some(Op::Gt), FilterValue::One(x)) => wheres.push(format!("({value}) > {}", num(x))),
            (Some(Op::Gte), FilterValue::One(x)) => wheres.push(format!("({value}) >= {}", num(x))),
            (Some(Op::Lt), FilterValue::One(x)) => wheres.push(format!("({value}) < {}", num(x))),
            (Some(Op::Lte), FilterValue::One(x)) => wheres.push(format!("({value}) <= {}", num(x))),
            (Some(Op::Between), FilterValue::Two(a, b)) => {
                let (pa, pb) = (num(a), num(b));
                wheres.push(format!("(({value}) >= {pa} AND ({value}) < {pb})"))
            }
            (Some(op), _) => return Err(format!("operator {} on a metric's value", op.as_str())),
            (None, _) if crate::spec::parse::list::listable(def) => wheres.push(format!("({value}) IS NOT NULL")),
            (None, _) => {}
        }
    }
    if filters.date_range.is_some() {
        return Err("a search takes no date_range".into());
    }
    Ok(wheres)
}

/// Compiles a search for `tenant`. Columns: issue_key, summary, status, score (semantic: cosine
/// similarity; lexical: the matched words' share of the query's inverse document frequencies; hybrid: the fused score divided by its largest
/// value, so 1 is first in both rankings). `vectors` is needed unless the mode is lexical.
pub fn compile(filters: &Spec, catalog: &[MetricDef], tenant: &str, s: &Search, vectors: Option<&Vectors>) -> Result<Compiled, String> {
    let mut q = Query::default();
    let tenant_param = q.bind(Bound::Text(tenant.to_string()), "text");
    let wheres = conditions(filters, catalog, &mut q)?;
    let mut cond = String::new();
    for w in &wheres {
        cond.push_str(" AND ");
        cond.push_str(w);
    }
    // The row the filters read is alias f: analytics.issues itself when they read only its columns,
    // else analytics.issue_facts joined to it. `d` is the issue (its text and id).
    let (from, d) = if plain_base(Entity::Issue, &[&cond], &tenant_param).is_some() {
        ("analytics.issues AS f".to_string(), "f")
    } else {
        ("analytics.issues AS d JOIN analytics.issue_facts AS f ON f.tenant_id = d.tenant_id AND f.id = d.id".to_string(), "d")
    };
    if let Some(id) = s.exclude_issue_id {
        let p = q.bind(Bound::Text(id.to_string()), "bigint");
        cond.push_str(&format!(" AND {d}.id <> {p}"));
    }
    let k = s.k.clamp(1, MAX_K);
    let legs = if s.mode == Mode::Hybrid { k.max(HYBRID_CANDIDATES) } else { k };
    let legs_param = q.bind(Bound::Integer(legs as i32), "integer");

    let vec_parts = match (s.mode.uses_vectors(), vectors, s.vector) {
        (false, _, _) => None,
        (true, Some(v), Some(text)) => {
            let p = q.bind(Bound::Text(text.to_string()), "text");
            Some((v.distance("e", &p), v.model_literal()))
        }
        (true, None, _) => return Err("a semantic search needs the model's vectors".into()),
        (true, _, None) => return Err("a semantic search needs the query's embedding".into()),
    };
    let text_param = q.bind(Bound::Text(s.text.to_string()), "text");
    let min_param = q.bind(Bound::Text(format!("{}", s.min_score)), "float8");
    let k_param = q.bind(Bound::Integer(k as i32), "integer");

    let semantic = vec_parts.as_ref().map(|(distance, model)| {
        format!(
            "SELECT n.id, n.dist, row_number() OVER (ORDER BY n.dist, n.id) AS r FROM (\
             SELECT {d}.id, {distance} AS dist FROM analytics.issue_embeddings AS e JOIN {from} ON {d}.tenant_id = e.tenant_id AND {d}.id = e.issue_id \
             WHERE e.model = {model} AND e.tenant_id = {tenant_param} AND {d}.tenant_id = {tenant_param}{cond} \
             ORDER BY {distance} LIMIT {legs_param}) AS n"
        )
    });
    // Words: the issues with any of the query's words, ranked by the sum of the matched words'
    // inverse document frequencies over the sum of all of them (so in [0, 1]).
    let lexical = (s.mode != Mode::Semantic).then(|| {
        let tsv = tsvector(d);
        format!(
            "SELECT n.id, n.rank, row_number() OVER (ORDER BY n.rank DESC, n.id) AS r FROM (\
             WITH words AS ({}) \
             SELECT {d}.id, sum(words.idf) / (SELECT sum(idf) FROM words) AS rank FROM {from} JOIN words ON {tsv} @@ words.q \
             WHERE {d}.tenant_id = {tenant_param}{cond} \
             GROUP BY {d}.id ORDER BY 2 DESC, {d}.id LIMIT {legs_param}) AS n",
            weighted_words(&text_param, &tenant_param)
        )
    });
    let out = "i.issue_key, i.summary, i.status";
    let join_issue = format!("JOIN analytics.issues AS i ON i.tenant_id = {tenant_param} AND i.id = h.id");
    q.sql = match (s.mode, semantic, lexical, &vec_parts) {
        (Mode::Semantic, Some(sem), _, _) => format!(
            "SELECT {out}, (1 - h.dist)::float8 AS score FROM ({sem}) AS h {join_issue} \
             WHERE (1 - h.dist) >= {min_param} ORDER BY h.r LIMIT {k_param}"
        ),
        (Mode::Lexical, _, Some(lex), _) => format!(
            "SELECT {out}, h.rank::float8 AS score FROM ({lex}) AS h {join_issue} \
             WHERE h.rank >= {min_param} ORDER BY h.r LIMIT {k_param}"
        ),
        (Mode::Hybrid, Some(sem), Some(lex), Some((distance, model))) => {
            let (ws, wl) = (SEMANTIC_WEIGHT, 1.0 - SEMANTIC_WEIGHT);
            format!(
                "SELECT {out}, h.fused::float8 AS score FROM (\
                 SELECT coalesce(s.id, l.id) AS id, {ws} * coalesce(1 - s.dist, 0) + {wl:.1} * coalesce(l.rank, 0) AS fused, s.dist \
                 FROM ({sem}) AS s FULL JOIN ({lex}) AS l ON s.id = l.id) AS h {join_issue} \
                 LEFT JOIN analytics.issue_embeddings AS e ON e.tenant_id = {tenant_param} AND e.issue_id = h.id AND e.model = {model} \
                 WHERE 1 - coalesce(h.dist, {distance}, 0) >= {min_param} \
                 ORDER BY h.fused DESC, h.id LIMIT {k_param}"
            )
        }
        _ => return Err("no ranking for this mode".into()),
    };
    let columns = ["issue_key", "summary", "status"]
        .iter()
        .map(|c| Column { name: c.to_string(), role: "field", unit: None })
        .chain(std::iter::once(Column { name: "score".into(), role: "metric", unit: None }))
        .collect();
    Ok(Compiled { sql: q.sql, params: q.params, columns, metrics: vec![], reads_sprint_stats: false })
}

/// How many of the tenant's issues a spec's `similar_to` keeps (an answer's explanation says it); None
/// without one. The spec's `similar_to` must be resolved.
pub fn similar_count(spec: &Spec, tenant: &str) -> Result<Option<Compiled>, String> {
    let mut q = Query::default();
    let tenant_param = q.bind(Bound::Text(tenant.to_string()), "text");
    let Some(cond) = super::compile::similar_sql(spec, &tenant_param, &mut q)? else { return Ok(None) };
    Ok(Some(Compiled {
        sql: format!(
            "SELECT pg_catalog.count(*)::bigint AS matched FROM analytics.issues AS f WHERE f.tenant_id = {tenant_param} AND {cond}"
        ),
        params: q.params,
        columns: vec![Column { name: "matched".into(), role: "metric", unit: None }],
        metrics: vec![],
        reads_sprint_stats: false,
    }))
}
