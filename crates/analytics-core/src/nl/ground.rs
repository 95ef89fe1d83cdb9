//! Whether a spec's filter values exist in the data the question was asked about. The builtin
//! translator only ever picks known values; a model can write any string, and a filter on a value that
//! does not exist (a team or a status the tracker does not have) silently answers with nothing.

use serde_json::Value;
use std::collections::BTreeMap;

/// The values a question may name are read with at most this many per dimension (most frequent
/// first: `analytics._ask_values`); a shorter list is all of them, so a value outside it does not exist.
pub const VALUES_PER_DIMENSION: usize = 500;

/// One message per filter value that is not in `values` (only dimensions whose list is complete are
/// checked). An empty list: every value exists.
pub fn problems(spec: &Value, values: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(filters) = spec.get("filters").and_then(Value::as_array) else { return out };
    for (i, f) in filters.iter().enumerate() {
        let (Some(field), Some(op)) = (f.get("field").and_then(Value::as_str), f.get("operator").and_then(Value::as_str)) else {
            continue;
        };
        if !matches!(op, "eq" | "ne" | "in" | "not_in") {
            continue;
        }
        let Some(known) = values.get(field).filter(|k| !k.is_empty() && k.len() < VALUES_PER_DIMENSION) else { continue };
        let given: Vec<&str> = match f.get("value") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        for v in given {
            if known.iter().any(|k| k == v) {
                continue;
            }
            let field_words = field.replace('_', " ");
            match known.iter().find(|k| k.eq_ignore_ascii_case(v)) {
                Some(k) => out.push(format!("filters[{i}]: the {field_words} is written \"{k}\", not \"{v}\"")),
                None => out.push(format!("filters[{i}]: \"{v}\" is not a {field_words} in the data")),
            }
        }
    }
    out
}

/// Nouns that name a thing by its name ("the mobile team", "project XYZ") and their dimension.
const NAMED: &[(&str, &str)] = &[
    ("team", "board"),
    ("board", "board"),
    ("squad", "board"),
    ("project", "project"),
    ("product", "project"),
    ("epic", "epic"),
    ("component", "component"),
    ("module", "component"),
    ("label", "label"),
    ("tag", "label"),
];

/// A question that names a team, project, epic, component or label the data does not have ("lead time
/// for the mobile team", "bugs in project XYZ"): why it cannot be answered as asked, naming some of the
/// values there are. `raw`: the question's words as written (lower case); `unknown`: the ones the
/// translator does not know. Only dimensions whose values are all known are judged.
pub fn unknown_name(raw: &[String], unknown: &[String], values: &BTreeMap<String, Vec<String>>) -> Option<String> {
    let named = |w: &str| NAMED.iter().find(|(n, _)| *n == w || format!("{n}s") == w).map(|(_, d)| *d);
    for (i, w) in raw.iter().enumerate() {
        if !unknown.contains(w) {
            continue;
        }
        // "mobile team"; or "in project xyz" (after the noun only behind a preposition, so that
        // "the PAY project cost" is not a project called "cost").
        let before = raw.get(i + 1).and_then(|n| named(n));
        let after = match (i.checked_sub(1).map(|j| &raw[j]), i.checked_sub(2).map(|j| raw[j].as_str())) {
            (Some(n), Some("in" | "for" | "of" | "from" | "on")) => named(n),
            _ => None,
        };
        let Some(dim) = before.or(after) else { continue };
        let Some(known) = values.get(dim).filter(|k| !k.is_empty() && k.len() < VALUES_PER_DIMENSION) else { continue };
        let some: Vec<String> = known.iter().take(5).map(|k| format!("\"{k}\"")).collect();
        let more = if known.len() > 5 { ", ..." } else { "" };
        return Some(format!(
            "there is no {} \"{w}\" in the data (the {}s are {}{more})",
            dim.replace('_', " "),
            dim.replace('_', " "),
            some.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problems;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn values() -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([
            ("status".to_string(), vec!["Done".to_string(), "In Progress".to_string(), "To Do".to_string()]),
            ("board".to_string(), vec!["Payments team".to_string()]),
        ])
    }

    #[test]
    fn known_values_pass_and_unknown_ones_are_named() {
        let ok = json!({"metrics": ["wip"], "filters": [{"field": "status", "operator": "in", "value": ["Done", "To Do"]}]});
        assert!(problems(&ok, &values()).is_empty());
        let bad = json!({"metrics": ["velocity"], "entity": "sprint", "filters": [
            {"field": "board", "operator": "eq", "value": "Mobile team"},
            {"field": "status", "operator": "ne", "value": "done"},
            {"field": "priority", "operator": "eq", "value": "Urgent"},
            {"field": "status", "operator": "contains", "value": "prog"}]});
        assert_eq!(
            problems(&bad, &values()),
            vec![
                "filters[0]: \"Mobile team\" is not a board in the data".to_string(),
                "filters[1]: the status is written \"Done\", not \"done\"".to_string()
            ]
        );
    }

    #[test]
    fn a_name_the_data_does_not_have_is_said_so() {
        let words = |q: &str| q.split(' ').map(String::from).collect::<Vec<_>>();
        let v = values();
        let unknown = |w: &str| vec![w.to_string()];
        assert_eq!(
            super::unknown_name(&words("lead time for the mobile team"), &unknown("mobile"), &v).as_deref(),
            Some("there is no board \"mobile\" in the data (the boards are \"Payments team\")")
        );
        let projects = BTreeMap::from([("project".to_string(), vec!["PAY".to_string(), "WEB".to_string()])]);
        assert!(super::unknown_name(&words("bugs in project xyz"), &unknown("xyz"), &projects).is_some());
        // Not a name: a word after the noun without a preposition, or a word next to no such noun.
        assert_eq!(super::unknown_name(&words("how much did the pay project cost us"), &unknown("cost"), &projects), None);
        assert_eq!(super::unknown_name(&words("whats our deployment frequency"), &unknown("deployment"), &projects), None);
        // A dimension whose values are not all known is not judged.
        assert_eq!(super::unknown_name(&words("bugs of the mobile team"), &unknown("mobile"), &BTreeMap::new()), None);
    }

    #[test]
    fn a_list_cut_at_the_limit_is_not_checked() {
        let many: Vec<String> = (0..super::VALUES_PER_DIMENSION).map(|i| format!("user{i}")).collect();
        let values = BTreeMap::from([("assignee".to_string(), many)]);
        let spec = json!({"metrics": ["closed"], "filters": [{"field": "assignee", "operator": "eq", "value": "someone else"}]});
        assert!(problems(&spec, &values).is_empty());
    }
}
