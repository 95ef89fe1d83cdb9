//! A validated AnalyticsSpec, its canonical JSON form and its hash. Only `parse` builds one, so every
//! name in it is known to the catalog or the dimension whitelist and every value has the right shape.

use crate::catalog::{Aggregation, Entity};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct MetricSel {
    pub name: String,
    /// None for formula metrics (they combine their dependencies' own aggregations).
    pub aggregation: Option<Aggregation>,
    pub alias: String,
    /// Every parameter of the metric (and of a formula's dependencies), defaults filled in.
    pub params: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupBy {
    pub field: String,
    /// For timestamp dimensions: day, week, month, quarter or year.
    pub interval: Option<String>,
    /// For number dimensions: the bucket width (the group is floor(value / width) * width).
    pub bucket: Option<f64>,
}

impl GroupBy {
    /// Whether this is the series group (`as_of` with an interval).
    pub fn is_series(&self) -> bool {
        self.field == super::dims::SERIES
    }

    /// The output column name: the dimension, or `<field>_<interval>` for date groups.
    pub fn column(&self) -> String {
        match &self.interval {
            Some(i) => format!("{}_{}", self.field, i),
            None => self.field.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Between,
    Contains,
    IsNull,
    IsNotNull,
}

impl Op {
    pub const ALL: [Op; 12] =
        [Op::Eq, Op::Ne, Op::Gt, Op::Gte, Op::Lt, Op::Lte, Op::In, Op::NotIn, Op::Between, Op::Contains, Op::IsNull, Op::IsNotNull];
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Between => "between",
            Op::Contains => "contains",
            Op::IsNull => "is_null",
            Op::IsNotNull => "is_not_null",
        }
    }
    pub fn parse(s: &str) -> Option<Op> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A filter value, already checked against the operator and the dimension's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    None,
    One(String),
    Many(Vec<String>),
    Two(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub op: Op,
    pub value: FilterValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelUnit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl RelUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            RelUnit::Day => "days",
            RelUnit::Week => "weeks",
            RelUnit::Month => "months",
            RelUnit::Quarter => "quarters",
            RelUnit::Year => "years",
        }
    }
    /// As a PostgreSQL interval text (PostgreSQL has no quarter unit).
    pub fn interval(self, n: u32) -> String {
        match self {
            RelUnit::Quarter => format!("{} months", n * 3),
            other => format!("{n} {}", other.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DateRange {
    /// Half-open [from, to); either side may be open. `field` None: each metric's own time field.
    Absolute { field: Option<String>, from: Option<String>, to: Option<String> },
    /// The last `n` units up to now.
    Relative { field: Option<String>, n: u32, unit: RelUnit },
    /// Sprint entity: each board's last `n` closed sprints.
    LastSprints(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub field: String,
    pub descending: bool,
}

/// Where a list column's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    /// A column of the entity's base relation, from the list whitelist (`dims::list_column`).
    Column,
    /// A catalog metric's value for each row (NULL where the row is not one the metric measures), with
    /// every parameter, defaults filled in.
    Metric(BTreeMap<String, Value>),
}

/// A column of a list spec.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSel {
    pub name: String,
    pub alias: String,
    pub source: FieldSource,
}

/// A list spec's condition on a catalog metric: the rows the metric counts or measures (its own filter,
/// and its time window when the date range names no field); with an operator, also a comparison of the
/// metric's value for the row (`{"metric": "blocked_hours", "operator": "gt", "value": 24}`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFilter {
    pub metric: String,
    pub params: BTreeMap<String, Value>,
    /// None, or a comparison (gt, gte, lt, lte, between) with its number(s) in `value`.
    pub op: Option<Op>,
    pub value: FilterValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub entity: Entity,
    /// Empty for a list spec (`fields` set).
    pub metrics: Vec<MetricSel>,
    /// A list spec's columns: rows of the entity, not aggregates. Empty for an aggregate spec.
    pub fields: Vec<FieldSel>,
    /// A list spec's conditions on metrics (empty for aggregate specs).
    pub metric_filters: Vec<MetricFilter>,
    pub group_by: Vec<GroupBy>,
    pub filters: Vec<Filter>,
    pub date_range: Option<DateRange>,
    pub sort_by: Vec<Sort>,
    pub limit: u32,
    /// Only the issues nearest in meaning to a text (issue specs).
    pub similar_to: Option<SimilarTo>,
}

/// `similar_to`: the `k` issues whose embeddings are nearest to the text's, of those at least
/// `min_score` similar (cosine).
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarTo {
    pub text: String,
    pub k: u32,
    pub min_score: f64,
    /// The text's embedding and where the embeddings are, set by the caller (which embeds) before
    /// compiling; not part of the canonical form.
    pub resolved: Option<Resolved>,
}

/// What compiling a `similar_to` needs besides the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// pgvector's schema.
    pub schema: String,
    /// The model whose embeddings are compared (rows of analytics.issue_embeddings).
    pub model: String,
    /// Its dimensions (the cast of its HNSW index).
    pub dims: usize,
    /// The text's embedding in pgvector's text form.
    pub vector: String,
}

pub const DEFAULT_LIMIT: u32 = 100;

/// SHA-256 of a text, as 64 lower-case hex digits.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn filter_value_json(v: &FilterValue) -> Value {
    match v {
        FilterValue::None => Value::Null,
        FilterValue::One(s) => json!(s),
        FilterValue::Many(v) => json!(v),
        FilterValue::Two(a, b) => json!([a, b]),
    }
}

impl Spec {
    /// The canonical form: every default filled in, metric entries as objects, keys sorted (serde_json's
    /// map is ordered). Two specs that mean the same have the same canonical form.
    pub fn canonical(&self) -> Value {
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("name".into(), json!(m.name));
                o.insert("alias".into(), json!(m.alias));
                o.insert("aggregation".into(), m.aggregation.map(|a| json!(a.as_str())).unwrap_or(json!("formula")));
                o.insert("params".into(), Value::Object(m.params.clone().into_iter().collect()));
                Value::Object(o)
            })
            .collect();
        let group_by: Vec<Value> = self
            .group_by
            .iter()
            .map(|g| match (&g.interval, g.bucket) {
                (Some(i), _) => json!({"field": g.field, "interval": i}),
                (None, Some(b)) => json!({"field": g.field, "bucket": b}),
                (None, None) => json!({"field": g.field}),
            })
            .collect();
        let mut filters: Vec<Value> = self
            .filters
            .iter()
            .map(|f| json!({"field": f.field, "operator": f.op.as_str(), "value": filter_value_json(&f.value)}))
            .collect();
        for m in &self.metric_filters {
            let mut o = json!({"metric": m.metric, "params": Value::Object(m.params.clone().into_iter().collect())});
            if let Some(op) = m.op {
                o["operator"] = json!(op.as_str());
                o["value"] = filter_value_json(&m.value);
            }
            filters.push(o);
        }
        let date_range = match &self.date_range {
            None => Value::Null,
            Some(DateRange::Absolute { field, from, to }) => json!({"field": field, "from": from, "to": to}),
            Some(DateRange::Relative { field, n, unit }) => json!({"field": field, "last": format!("{n} {}", unit.as_str())}),
            Some(DateRange::LastSprints(n)) => json!({"last_sprints": n}),
        };
        let sort_by: Vec<Value> =
            self.sort_by.iter().map(|s| json!({"field": s.field, "direction": if s.descending { "desc" } else { "asc" }})).collect();
        let mut out = json!({
            "entity": self.entity.as_str(),
            "metrics": metrics,
            "group_by": group_by,
            "filters": filters,
            "date_range": date_range,
            "sort_by": sort_by,
            "limit": self.limit,
        });
        // Only a spec with similar_to has the key (the others keep the hashes they always had).
        if let (Some(s), Some(o)) = (&self.similar_to, out.as_object_mut()) {
            o.insert("similar_to".into(), json!({"text": s.text, "k": s.k, "min_score": s.min_score}));
        }
        // A list has fields instead of metrics and groups (aggregate specs keep the form, and the
        // hashes, they always had).
        if self.is_list() {
            let fields: Vec<Value> = self
                .fields
                .iter()
                .map(|f| match &f.source {
                    FieldSource::Column => json!({"name": f.name, "alias": f.alias}),
                    FieldSource::Metric(p) => {
                        json!({"name": f.name, "alias": f.alias, "params": Value::Object(p.clone().into_iter().collect())})
                    }
                })
                .collect();
            if let Some(o) = out.as_object_mut() {
                o.remove("metrics");
                o.remove("group_by");
                o.insert("fields".into(), Value::Array(fields));
            }
        }
        out
    }

    /// Whether the spec lists rows (`fields`) instead of aggregating them.
    pub fn is_list(&self) -> bool {
        !self.fields.is_empty()
    }

    /// SHA-256 (hex) of the compact canonical JSON.
    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical().to_string())
    }

    /// The series group, if the spec is a series.
    pub fn series(&self) -> Option<&GroupBy> {
        self.group_by.iter().find(|g| g.is_series())
    }

    /// Output column names, in order: group columns, then metric aliases (a list's: its fields).
    pub fn columns(&self) -> Vec<String> {
        if self.is_list() {
            return self.fields.iter().map(|f| f.alias.clone()).collect();
        }
        self.group_by.iter().map(GroupBy::column).chain(self.metrics.iter().map(|m| m.alias.clone())).collect()
    }
}
