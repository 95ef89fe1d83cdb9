//! The relations `analytics.<name>` a query reads (after FROM or JOIN, in subqueries and CTEs too), and
//! whether each is constrained to the tenant in its own query: a conjunct `<alias>.tenant_id = $1` (the
//! tenant parameter; a `::text` cast allowed, either side) of its WHERE or ON, or `<alias>.tenant_id =
//! <other>.tenant_id` where `other` is a constrained relation of the same or an enclosing query. A conjunct
//! counts only where an OR or a CASE cannot undo it.

use crate::sql_text::{statements, Tok};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub relation: String,
    pub alias: String,
    /// The `(` that opens the query it is read in (None: the top level).
    scope: Option<usize>,
    pub constrained: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Side {
    Tenant,
    TenantOf(String),
}

const NOT_ALIAS: &[&str] = &[
    "where", "join", "on", "left", "right", "inner", "cross", "full", "natural", "group", "order", "limit", "lateral", "using", "union",
    "window", "having", "offset",
];
/// Where a WHERE or ON condition ends, looking forward at its own depth.
const ENDS_AFTER: &[&str] = &[
    "group",
    "order",
    "limit",
    "having",
    "window",
    "join",
    "left",
    "right",
    "inner",
    "cross",
    "full",
    "natural",
    "where",
    "union",
    "except",
    "intersect",
    "offset",
    "returning",
    "then",
    "when",
    "else",
    "end",
];
/// What a condition cannot start after, looking back at its own depth for its WHERE or ON.
const STARTS_AFTER: &[&str] =
    &["select", "from", "join", "when", "then", "else", "case", "end", "having", "group", "order", "limit", "set"];

/// Every relation of schema analytics that `sql` (one statement) reads, with whether it is constrained.
/// Panics on a use of `analytics.<name>` it cannot follow (a function in FROM, a comma list it missed).
pub fn reads(sql: &str) -> Vec<Read> {
    let stmts = statements(sql);
    assert_eq!(stmts.len(), 1, "one statement expected: {sql}");
    let t = &stmts[0];
    let (mut scope, mut depth) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
    let mut stack: Vec<usize> = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        if tok.is_p(")") {
            stack.pop();
        }
        scope.push(stack.last().copied());
        depth.push(stack.len());
        if tok.is_p("(") {
            stack.push(i);
        }
    }

    let mut found = Vec::new();
    let mut consumed = BTreeSet::new();
    let relation_at = |j: usize| t.get(j).is_some_and(|x| x.is("analytics")) && t.get(j + 1).is_some_and(|x| x.is_p("."));
    for i in 0..t.len() {
        if !(t[i].is("from") || t[i].is("join")) {
            continue;
        }
        let mut j = i + 1;
        while relation_at(j) {
            let name = t[j + 2].ident().unwrap_or_else(|| panic!("analytics.{:?} in {sql}", t[j + 2]));
            assert!(
                !t.get(j + 3).is_some_and(|x| x.is_p("(")),
                "a function analytics.{name}(...) in FROM: cannot see what it reads: {sql}"
            );
            consumed.insert(j);
            let mut k = j + 3;
            if t.get(k).is_some_and(|x| x.is("as")) {
                k += 1;
            }
            let alias = match t.get(k) {
                Some(Tok::Word(w)) if !NOT_ALIAS.contains(&w.as_str()) => w.clone(),
                Some(Tok::Quoted(q)) => q.clone(),
                _ => name.to_string(),
            };
            if t.get(k).and_then(Tok::ident) == Some(alias.as_str()) {
                k += 1;
            }
            found.push(Read { relation: format!("analytics.{name}"), alias, scope: scope[j], constrained: false });
            if !t.get(k).is_some_and(|x| x.is_p(",")) {
                break;
            }
            j = k + 1;
        }
    }
    for j in 0..t.len() {
        if relation_at(j) && !consumed.contains(&j) && !t.get(j + 3).is_some_and(|x| x.is_p("(")) {
            panic!("analytics.{:?} is read in a way this test cannot follow: {sql}", t.get(j + 2));
        }
    }

    // The operand at `k` and the index after it: `$1`, `$1::type` or `<alias>.tenant_id`.
    let operand = |k: usize| -> Option<(Side, usize)> {
        match t.get(k)? {
            Tok::Param(1) if t.get(k + 1).is_some_and(|c| c.is_p("::")) => Some((Side::Tenant, k + 3)),
            Tok::Param(1) => Some((Side::Tenant, k + 1)),
            x if x.ident().is_some() && t.get(k + 1)?.is_p(".") && t.get(k + 2)?.is("tenant_id") => {
                Some((Side::TenantOf(x.ident()?.to_string()), k + 3))
            }
            _ => None,
        }
    };
    // Whether the condition t[start..end] is a conjunct of a WHERE or ON, at its own depth.
    let conjunct = |start: usize, end: usize| -> bool {
        let d = depth[start];
        if !(start > 0 && (t[start - 1].is("where") || t[start - 1].is("and") || t[start - 1].is("on"))) {
            return false;
        }
        let mut x = start;
        let started = loop {
            if x == 0 {
                break false;
            }
            x -= 1;
            if depth[x] < d {
                break false;
            }
            if depth[x] > d {
                continue;
            }
            match &t[x] {
                w if w.is("where") || w.is("on") => break true,
                Tok::Word(w) if w == "or" || STARTS_AFTER.contains(&w.as_str()) => break false,
                _ => {}
            }
        };
        let ended =
            t[end..].iter().zip(&depth[end..]).take_while(|(_, &dx)| dx >= d).filter(|(_, &dx)| dx == d).find_map(|(x, _)| match x {
                Tok::Word(w) if w == "or" => Some(false),
                Tok::Word(w) if ENDS_AFTER.contains(&w.as_str()) => Some(true),
                _ => None,
            });
        let next_ok =
            t.get(end).is_none_or(|n| n.is("and") || n.is_p(")") || matches!(n, Tok::Word(w) if ENDS_AFTER.contains(&w.as_str())));
        started && ended != Some(false) && next_ok
    };
    let mut conjuncts: Vec<(Option<usize>, String, Side)> = Vec::new();
    for e in 0..t.len() {
        if !t[e].is_p("=") {
            continue;
        }
        let left = (1..=3).filter(|n| e >= *n).find_map(|n| operand(e - n).filter(|(_, after)| *after == e).map(|(s, _)| (s, e - n)));
        let (Some((l, start)), Some((r, end))) = (left, operand(e + 1)) else { continue };
        if !conjunct(start, end) {
            continue;
        }
        for (a, b) in [(&l, &r), (&r, &l)] {
            if let Side::TenantOf(alias) = a {
                conjuncts.push((scope[e], alias.clone(), b.clone()));
            }
        }
    }

    let encloses = |outer: Option<usize>, inner: Option<usize>| {
        let mut cur = inner;
        loop {
            if cur == outer {
                return true;
            }
            match cur {
                None => return false,
                Some(p) => cur = scope[p],
            }
        }
    };
    loop {
        let mut changed = false;
        for r in 0..found.len() {
            let ok = !found[r].constrained
                && conjuncts.iter().any(|(sc, alias, side)| {
                    *sc == found[r].scope
                        && *alias == found[r].alias
                        && match side {
                            Side::Tenant => true,
                            Side::TenantOf(b) => found.iter().any(|o| o.constrained && o.alias == *b && encloses(o.scope, found[r].scope)),
                        }
                });
            if ok {
                found[r].constrained = true;
                changed = true;
            }
        }
        if !changed {
            return found;
        }
    }
}
