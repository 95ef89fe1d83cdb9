//! Whole-catalog checks: each definition valid, names unique, dependencies present, no cycles, and a
//! formula's dependencies of the same entity.

use super::{Kind, MetricDef, Problem};
use std::collections::{BTreeMap, BTreeSet};

/// Every problem of the catalog; empty when it is consistent.
pub fn check(defs: &[MetricDef]) -> Vec<Problem> {
    let mut problems: Vec<Problem> = defs.iter().flat_map(MetricDef::validate).collect();
    let mut by_name: BTreeMap<&str, &MetricDef> = BTreeMap::new();
    for d in defs {
        if by_name.insert(d.name.as_str(), d).is_some() {
            problems.push(Problem::new(&d.name, "duplicate_name", format!("{} is defined twice", d.name)));
        }
    }
    for d in defs {
        for dep in &d.dependencies {
            match by_name.get(dep.as_str()) {
                None => {
                    problems.push(Problem::new(&d.name, "missing_dependency", format!("depends on {dep}, which is not in the catalog")))
                }
                Some(other) if d.kind == Kind::Formula && other.entity != d.entity => problems.push(Problem::new(
                    &d.name,
                    "invalid_dependency",
                    format!("formula over {dep}, a metric of another entity ({})", other.entity.as_str()),
                )),
                Some(other) if d.kind == Kind::Formula && other.kind == Kind::Formula => {
                    problems.push(Problem::new(&d.name, "invalid_dependency", format!("formula over {dep}, which is itself a formula")))
                }
                _ => {}
            }
        }
    }
    for cycle in cycles(&by_name) {
        problems.push(Problem::new(&cycle[0], "dependency_cycle", format!("dependency cycle: {}", cycle.join(" -> "))));
    }
    problems
}

/// Each dependency cycle once, as the path from its smallest name back to it.
fn cycles(by_name: &BTreeMap<&str, &MetricDef>) -> Vec<Vec<String>> {
    fn visit<'a>(
        n: &'a str,
        by_name: &BTreeMap<&'a str, &'a MetricDef>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        if let Some(pos) = path.iter().position(|p| *p == n) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            let min = cycle.iter().enumerate().min_by_key(|(_, s)| s.as_str()).map(|(i, _)| i).unwrap_or(0);
            cycle.rotate_left(min);
            cycle.push(cycle[0].clone());
            found.insert(cycle);
            return;
        }
        if done.contains(n) {
            return;
        }
        let Some(def) = by_name.get(n) else { return };
        path.push(n);
        for dep in &def.dependencies {
            visit(dep.as_str(), by_name, path, done, found);
        }
        path.pop();
        done.insert(n);
    }
    let mut found = BTreeSet::new();
    let mut done = BTreeSet::new();
    for n in by_name.keys() {
        visit(n, by_name, &mut Vec::new(), &mut done, &mut found);
    }
    found.into_iter().collect()
}
