//! The shipped catalog: the TOML files of `catalog/`, compiled in.

use super::{parse_toml, MetricDef};

pub const FILES: &[(&str, &str)] = &[
    ("throughput.toml", include_str!("../../../../catalog/throughput.toml")),
    ("lead_time.toml", include_str!("../../../../catalog/lead_time.toml")),
    ("sprint_health.toml", include_str!("../../../../catalog/sprint_health.toml")),
    ("quality.toml", include_str!("../../../../catalog/quality.toml")),
    ("flow.toml", include_str!("../../../../catalog/flow.toml")),
    ("collaboration.toml", include_str!("../../../../catalog/collaboration.toml")),
    ("composite.toml", include_str!("../../../../catalog/composite.toml")),
];

/// Every shipped metric, in file order. The files are tested to parse and validate, so this only
/// fails if a build ships broken files.
pub fn metrics() -> Result<Vec<MetricDef>, String> {
    let mut all = Vec::new();
    for (name, text) in FILES {
        all.extend(parse_toml(name, text)?);
    }
    Ok(all)
}
