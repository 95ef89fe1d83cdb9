//! The metric catalog model: what a metric definition is, how it is parsed (catalog TOML files, JSON
//! from `analytics_metric_upsert`, rows of `analytics.metrics_catalog`) and validated on its own.
//! Whole-catalog checks (dependencies, cycles, weights) are in [`check`]; SQL rendering in [`sql`].

pub mod builtin;
pub mod check;
pub mod params;
pub mod sql;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Issue,
    Sprint,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Issue => "issue",
            Entity::Sprint => "sprint",
        }
    }
    /// The base relation metrics of this entity are computed on.
    pub fn base_relation(self) -> &'static str {
        match self {
            Entity::Issue => "analytics.issue_facts",
            Entity::Sprint => "analytics.sprint_facts",
        }
    }
    /// Columns of the base relation (alias `f`).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Entity::Issue => crate::schema::ISSUE_FACTS_COLUMNS,
            Entity::Sprint => crate::schema::SPRINT_FACTS_COLUMNS,
        }
    }
}

/// How a metric aggregates its per-row values. `Formula` metrics combine other metrics' aggregates (or,
/// without dependencies, are an aggregate expression over the rows themselves, like the forecasts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    P50,
    P70,
    P75,
    P85,
    P90,
    P95,
    Formula,
}

impl Aggregation {
    pub const ALL: [Aggregation; 12] = [
        Aggregation::Count,
        Aggregation::Sum,
        Aggregation::Avg,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::P50,
        Aggregation::P70,
        Aggregation::P75,
        Aggregation::P85,
        Aggregation::P90,
        Aggregation::P95,
        Aggregation::Formula,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Count => "count",
            Aggregation::Sum => "sum",
            Aggregation::Avg => "avg",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::P50 => "p50",
            Aggregation::P70 => "p70",
            Aggregation::P75 => "p75",
            Aggregation::P85 => "p85",
            Aggregation::P90 => "p90",
            Aggregation::P95 => "p95",
            Aggregation::Formula => "formula",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Points,
    Days,
    Hours,
    Ratio,
    Score,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Points => "points",
            Unit::Days => "days",
            Unit::Hours => "hours",
            Unit::Ratio => "ratio",
            Unit::Score => "score",
        }
    }
}

/// `measure`: aggregate a per-row value; `formula`: combine other metrics' aggregates; `snapshot`: a
/// measure taken at one moment (`{{as_of}}`, the end of the period) instead of over rows in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Measure,
    Formula,
    Snapshot,
}

/// Types a metric parameter may have; each maps to one PostgreSQL type for binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamType {
    #[serde(rename = "text")]
    Text,
    #[serde(rename = "text[]")]
    TextArray,
    #[serde(rename = "integer")]
    Integer,
    #[serde(rename = "numeric")]
    Numeric,
    #[serde(rename = "timestamptz")]
    Timestamptz,
}

impl ParamType {
    pub fn sql_type(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::TextArray => "text[]",
            ParamType::Integer => "integer",
            ParamType::Numeric => "numeric",
            ParamType::Timestamptz => "timestamptz",
        }
    }

    /// Whether a JSON value fits this type. Timestamps are strings (`"now"` or an ISO date/time).
    pub fn accepts(self, v: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (self, v) {
            (ParamType::Text, Value::String(_)) => true,
            (ParamType::TextArray, Value::Array(items)) => items.iter().all(Value::is_string),
            (ParamType::Integer, Value::Number(n)) => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            (ParamType::Numeric, Value::Number(_)) => true,
            (ParamType::Timestamptz, Value::String(s)) => is_timestamp_text(s),
            _ => false,
        }
    }
}

/// `now`, a calendar date `YYYY-MM-DD`, or such a date followed by a time `HH:MM[:SS[.fff]]` and an
/// optional zone (`Z`, `+02`, `+02:00`, ...). Impossible dates and times (2025-02-30, 25:00) are refused.
pub fn is_timestamp_text(s: &str) -> bool {
    if s == "now" {
        return true;
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&m) || y == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(m - 1) as usize];
    if d == 0 || d > days {
        return false;
    }
    let rest = &s[10..];
    if rest.is_empty() {
        return true;
    }
    let rest = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('T')).unwrap_or("");
    let tb = rest.as_bytes();
    let tnum = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = tb.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let (Some(h), Some(mi)) = (tnum(0..2), tnum(3..5)) else { return false };
    if tb.get(2) != Some(&b':') || h > 23 || mi > 59 {
        return false;
    }
    let mut i = 5;
    if tb.get(i) == Some(&b':') {
        match tnum(i + 1..i + 3) {
            Some(sec) if sec <= 59 => i += 3,
            _ => return false,
        }
        if tb.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while tb.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start || i - start > 6 {
                return false;
            }
        }
    }
    let zone = &rest[i..];
    zone.is_empty()
        || zone == "Z"
        || zone == "z"
        || ((zone.starts_with('+') || zone.starts_with('-'))
            && matches!(zone.len(), 3 | 5 | 6)
            && zone[1..].chars().all(|c| c.is_ascii_digit() || c == ':'))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    #[serde(rename = "type")]
    pub param_type: ParamType,
    pub default: serde_json::Value,
    #[serde(default)]
    pub description: String,
}

/// One metric definition. Field names are the columns of `analytics.metrics_catalog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricDef {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub category: String,
    /// 0 means "not given" (a catalog file must give it; upsert computes it).
    #[serde(default)]
    pub version: u32,
    pub entity: Entity,
    #[serde(default)]
    pub kind: Kind,
    pub base_relation: String,
    pub sql_expression: String,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub time_field: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamDef>,
    pub default_aggregation: Aggregation,
    pub allowed_aggregations: Vec<Aggregation>,
    pub unit: Unit,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub weights: Option<BTreeMap<String, f64>>,
}

/// Field names of [`MetricDef`]: a row of the catalog table is reduced to these before parsing.
pub const FIELDS: &[&str] = &[
    "name",
    "display_name",
    "description",
    "category",
    "version",
    "entity",
    "kind",
    "base_relation",
    "sql_expression",
    "filter",
    "time_field",
    "parameters",
    "default_aggregation",
    "allowed_aggregations",
    "unit",
    "tags",
    "synonyms",
    "dependencies",
    "weights",
];

/// A problem with one definition or with the catalog as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub metric: String,
    /// Machine-readable kind, e.g. `unknown_dependency`, `dependency_cycle`, `invalid_sql`.
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    fn new(metric: &str, code: &'static str, message: impl Into<String>) -> Self {
        Problem { metric: metric.to_string(), code, message: message.into() }
    }
}

impl MetricDef {
    /// Parses a definition given as JSON (e.g. to `analytics_metric_upsert`), refusing unknown keys.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        serde_json::from_value(v.clone()).map_err(|e| e.to_string())
    }

    /// Parses a row of the catalog table (as `to_jsonb(row)`), ignoring bookkeeping columns and NULLs.
    pub fn from_row(row: &serde_json::Value) -> Result<Self, String> {
        let obj = row.as_object().ok_or("a catalog row must be a JSON object")?;
        let kept: serde_json::Map<String, serde_json::Value> =
            obj.iter().filter(|(k, v)| FIELDS.contains(&k.as_str()) && !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
        Self::from_json(&serde_json::Value::Object(kept))
    }

    /// Whether two definitions mean the same (everything but the version).
    pub fn same_definition(&self, other: &MetricDef) -> bool {
        let mut a = self.clone();
        a.version = other.version;
        &a == other
    }

    /// Checks this definition on its own. An empty list means valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        let n = self.name.as_str();
        let mut bad = |code: &'static str, msg: String| p.push(Problem::new(n, code, msg));
        if !is_identifier(n) {
            bad(
                "invalid_name",
                format!("metric name {n:?} must be snake_case: a lower-case letter, then letters, digits or _ (at most 63)"),
            );
        }
        if self.version == 0 {
            bad("missing_version", "the version is missing (it must be 1 or more)".into());
        }
        for (field, value) in [("display_name", &self.display_name), ("description", &self.description), ("category", &self.category)] {
            if value.trim().is_empty() {
                bad("missing_field", format!("{field} must not be empty"));
            }
        }
        if self.base_relation != self.entity.base_relation() {
            bad(
                "invalid_base_relation",
                format!("{} metrics are computed on {}, not {:?}", self.entity.as_str(), self.entity.base_relation(), self.base_relation),
            );
        }
        if self.allowed_aggregations.is_empty() {
            bad("invalid_aggregation", "allowed_aggregations must not be empty".into());
        }
        if !self.allowed_aggregations.contains(&self.default_aggregation) {
            bad(
                "invalid_aggregation",
                format!("default_aggregation {} is not among allowed_aggregations", self.default_aggregation.as_str()),
            );
        }
        let formula = self.kind == Kind::Formula;
        if formula != (self.default_aggregation == Aggregation::Formula)
            || (formula && self.allowed_aggregations != [Aggregation::Formula])
            || (!formula && self.allowed_aggregations.contains(&Aggregation::Formula))
        {
            bad("invalid_aggregation", "formula metrics, and only they, use the aggregation formula".into());
        }
        match (self.kind, &self.time_field) {
            (Kind::Snapshot, Some(_)) => {
                bad("invalid_time_field", "snapshot metrics have no time_field: they are measured at {{as_of}}".into())
            }
            (Kind::Snapshot, None) if !self.parameters.contains_key("as_of") => {
                bad("missing_parameter", "snapshot metrics need an as_of parameter".into())
            }
            (Kind::Measure, None) => bad("invalid_time_field", "measures need a time_field".into()),
            (_, Some(f)) if !self.entity.columns().contains(&f.as_str()) => {
                bad("invalid_time_field", format!("time_field {f:?} is not a column of {}", self.entity.base_relation()))
            }
            _ => {}
        }
        for (name, param) in &self.parameters {
            if !is_identifier(name) {
                bad("invalid_parameter", format!("parameter name {name:?} must be snake_case"));
            }
            if !param.param_type.accepts(&param.default) {
                bad("invalid_parameter", format!("default of parameter {name} is not a {}", param.param_type.sql_type()));
            }
        }
        for (what, text) in [("sql_expression", Some(&self.sql_expression)), ("filter", self.filter.as_ref())] {
            let Some(text) = text else { continue };
            if let Err(e) = sql::check_fragment(text) {
                bad("unsafe_sql", format!("{what}: {e}"));
            }
            match sql::placeholders(text) {
                Err(e) => bad("invalid_placeholder", format!("{what}: {e}")),
                Ok(names) => {
                    for ph in names {
                        // A formula's expression names its dependencies and its own parameters.
                        let known = if formula && what == "sql_expression" {
                            self.dependencies.contains(&ph) || self.parameters.contains_key(&ph)
                        } else {
                            self.parameters.contains_key(&ph)
                        };
                        if !known {
                            let expected = if formula && what == "sql_expression" { "a dependency or a parameter" } else { "a parameter" };
                            bad("invalid_placeholder", format!("{what} uses {{{{{ph}}}}}, which is not {expected}"));
                        }
                    }
                }
            }
        }
        if formula && self.filter.is_some() {
            bad("invalid_filter", "formula metrics take no filter (their dependencies have theirs)".into());
        }
        if let Some(w) = &self.weights {
            let sum: f64 = w.values().sum();
            if (sum - 1.0).abs() > 1e-9 {
                bad("invalid_weights", format!("weights sum to {sum}, not 1"));
            }
            if w.values().any(|x| !x.is_finite() || *x < 0.0) {
                bad("invalid_weights", "weights must be finite and non-negative".into());
            }
            for k in w.keys() {
                if !self.dependencies.contains(k) {
                    bad("invalid_weights", format!("weight for {k}, which is not a dependency"));
                }
            }
        }
        p
    }
}

/// A snake_case SQL-safe identifier of at most 63 bytes.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    metric: Vec<MetricDef>,
}

/// Parses one catalog TOML file.
pub fn parse_toml(file_name: &str, text: &str) -> Result<Vec<MetricDef>, String> {
    toml::from_str::<CatalogFile>(text).map(|f| f.metric).map_err(|e| format!("{file_name}: {e}"))
}

#[cfg(test)]
mod tests;
