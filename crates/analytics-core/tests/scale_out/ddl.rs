//! The relations and keys that DDL statements define: CREATE TABLE (columns, column and table
//! constraints, LIKE), ALTER TABLE (ADD/DROP COLUMN, ADD CONSTRAINT), CREATE [UNIQUE] INDEX and CREATE
//! MATERIALIZED VIEW. Any other statement that mentions a key (PRIMARY KEY, UNIQUE, REFERENCES, FOREIGN,
//! EXCLUDE), in its text or in a dollar-quoted body, fails loudly rather than being skipped.

use crate::sql_text::{close, has_words, qualified, split_commas, Tok};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Primary,
    Unique,
    /// A unique index (CREATE UNIQUE INDEX, not a constraint).
    UniqueIndex,
    Foreign,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub kind: KeyKind,
    pub name: Option<String>,
    pub relation: String,
    /// The key's columns; `(expression)` for an index expression.
    pub columns: Vec<String>,
    /// Foreign keys: the referenced relation and columns (empty: its primary key).
    pub references: Option<(String, Vec<String>)>,
    /// Where it is defined (file and statement number), for messages.
    pub origin: String,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Every table and materialized view with its columns.
    pub relations: BTreeMap<String, Vec<String>>,
    pub matviews: BTreeSet<String>,
    pub keys: Vec<Key>,
    /// Constraints and indexes dropped (ALTER TABLE ... DROP CONSTRAINT, DROP INDEX), by name.
    pub dropped: Vec<String>,
    /// Materialized views dropped (DROP MATERIALIZED VIEW), with their keys.
    pub dropped_relations: Vec<String>,
    /// Views the DDL does not describe column by column, with their columns (from the schema contract).
    pub known_views: BTreeMap<String, Vec<String>>,
}

const KEY_WORDS: &[&str] = &["primary key", "unique", "references", "foreign key", "exclude"];

fn mentions_keys(t: &[Tok]) -> Option<&'static str> {
    KEY_WORDS.iter().copied().find(|phrase| {
        let words: Vec<&str> = phrase.split(' ').collect();
        t.windows(words.len()).any(|w| w.iter().zip(&words).all(|(tok, word)| tok.is(word)))
            || t.iter().any(|tok| matches!(tok, Tok::Body(b) if has_words(b, phrase)))
    })
}

fn words(t: &[Tok], n: usize) -> Vec<&str> {
    t.iter().take(n).map(|tok| if let Tok::Word(w) = tok { w.as_str() } else { "" }).collect()
}

/// The column names of a `(a, b, ...)` list at `i`, and the index after it.
fn column_list(t: &[Tok], i: usize, what: &str) -> (Vec<String>, usize) {
    let end = close(t, i);
    let cols = split_commas(&t[i + 1..end])
        .into_iter()
        .map(|c| match c {
            [one] => one.ident().unwrap_or_else(|| panic!("{what}: cannot read column {c:?}")).to_string(),
            _ => panic!("{what}: cannot read column {c:?}"),
        })
        .collect();
    (cols, end + 1)
}

impl Schema {
    /// Reads one statement into the schema.
    pub fn read(&mut self, t: &[Tok], origin: &str) {
        let w = words(t, 4);
        match w.as_slice() {
            ["create", "table", ..] | ["create", "unlogged", "table", ..] => self.create_table(t, origin),
            ["create", "temp" | "temporary", ..] => panic!("{origin}: a temporary table in the extension's DDL"),
            ["create", "materialized", "view", ..] => self.matview(t, origin),
            ["create", "unique", "index", ..] => self.index(t, origin),
            ["alter", "table", ..] => self.alter_table(t, origin),
            ["drop", "materialized", "view", ..] => {
                let i = if t[3].is("if") { 5 } else { 3 };
                let (name, next) = qualified(t, i).unwrap_or_else(|| panic!("{origin}: DROP MATERIALIZED VIEW what?"));
                assert_eq!(next, t.len(), "{origin}: DROP MATERIALIZED VIEW of one view only, without CASCADE");
                assert!(self.relations.remove(&name).is_some() && self.matviews.remove(&name), "{origin}: drops an unknown {name}");
                self.keys.retain(|k| k.relation != name);
                self.dropped_relations.push(name);
            }
            ["drop", "index", ..] => {
                let mut i = 2 + usize::from(t[2].is("concurrently"));
                if t[i].is("if") {
                    i += 2;
                }
                for part in split_commas(&t[i..]) {
                    let (name, _) = qualified(part, 0).unwrap_or_else(|| panic!("{origin}: DROP INDEX what?"));
                    self.dropped.push(name.rsplit('.').next().unwrap().to_string());
                }
            }
            _ => {
                if let Some(word) = mentions_keys(t) {
                    panic!("{origin}: a statement this test cannot read mentions {word}: {t:?}");
                }
            }
        }
    }

    fn create_table(&mut self, t: &[Tok], origin: &str) {
        let mut i = t.iter().position(|x| x.is("table")).unwrap() + 1;
        if t[i].is("if") {
            i += 3;
        }
        let (name, open) = qualified(t, i).unwrap_or_else(|| panic!("{origin}: CREATE TABLE without a name"));
        let what = format!("{origin}: CREATE TABLE {name}");
        assert!(t.get(open).is_some_and(|x| x.is_p("(")), "{what}: no column list (PARTITION OF, AS ...?)");
        let end = close(t, open);
        assert_eq!(end + 1, t.len(), "{what}: cannot read what follows the column list: {:?}", &t[end + 1..]);
        let mut columns = Vec::new();
        for item in split_commas(&t[open + 1..end]) {
            match words(item, 1).as_slice() {
                ["constraint" | "primary" | "unique" | "foreign" | "check" | "exclude"] => self.table_constraint(&name, item, &what),
                ["like"] => {
                    let (source, mut j) = qualified(item, 1).unwrap_or_else(|| panic!("{what}: LIKE what?"));
                    while j < item.len() {
                        if item[j].is("including") && (item[j + 1].is("indexes") || item[j + 1].is("all")) {
                            panic!("{what}: LIKE ... INCLUDING {:?} copies keys, which this test does not follow", item[j + 1]);
                        }
                        j += 1;
                    }
                    let copied = self.relations.get(&source).unwrap_or_else(|| panic!("{what}: LIKE an unknown table {source}"));
                    columns.extend(copied.clone());
                }
                _ => {
                    let col = item[0].ident().unwrap_or_else(|| panic!("{what}: cannot read column {item:?}")).to_string();
                    self.column_constraints(&name, &col, &item[1..], &what);
                    columns.push(col);
                }
            }
        }
        assert!(self.relations.insert(name.clone(), columns).is_none(), "{what}: created twice");
    }

    /// The keys a column definition declares (PRIMARY KEY, UNIQUE, REFERENCES).
    fn column_constraints(&mut self, relation: &str, col: &str, t: &[Tok], what: &str) {
        let mut name = None;
        let mut i = 0;
        while i < t.len() {
            let key = |kind, references| Key {
                kind,
                name: None,
                relation: relation.to_string(),
                columns: vec![col.to_string()],
                references,
                origin: what.to_string(),
            };
            if t[i].is_p("(") {
                i = close(t, i) + 1;
                continue;
            }
            if t[i].is("constraint") {
                name = t.get(i + 1).and_then(Tok::ident).map(String::from);
                i += 2;
                continue;
            }
            if t[i].is("primary") && t.get(i + 1).is_some_and(|k| k.is("key")) {
                self.keys.push(Key { name: name.take(), ..key(KeyKind::Primary, None) });
                i += 2;
            } else if t[i].is("unique") {
                self.keys.push(Key { name: name.take(), ..key(KeyKind::Unique, None) });
                i += 1;
            } else if t[i].is("references") {
                let (target, j) = qualified(t, i + 1).unwrap_or_else(|| panic!("{what}: REFERENCES what?"));
                let (cols, j) = if t.get(j).is_some_and(|p| p.is_p("(")) { column_list(t, j, what) } else { (vec![], j) };
                self.keys.push(Key { name: name.take(), ..key(KeyKind::Foreign, Some((target, cols))) });
                i = j;
            } else if t[i].is("exclude") || t[i].is("foreign") {
                panic!("{what}: cannot read column {col}'s {:?}", t[i]);
            } else {
                i += 1;
            }
        }
    }

    /// A table constraint: `[CONSTRAINT name] PRIMARY KEY (...) | UNIQUE (...) | FOREIGN KEY (...) REFERENCES
    /// t [(...)] ... | CHECK (...)`.
    fn table_constraint(&mut self, relation: &str, t: &[Tok], what: &str) {
        let (name, i) = if t[0].is("constraint") { (t[1].ident().map(String::from), 2) } else { (None, 0) };
        let mut key = |kind, columns, references| {
            self.keys.push(Key { kind, name: name.clone(), relation: relation.to_string(), columns, references, origin: what.into() })
        };
        match words(&t[i..], 2).as_slice() {
            ["primary", "key"] => key(KeyKind::Primary, column_list(t, i + 2, what).0, None),
            ["unique", _] => {
                let mut j = i + 1;
                if t[j].is("nulls") {
                    j += if t[j + 1].is("not") { 3 } else { 2 };
                }
                key(KeyKind::Unique, column_list(t, j, what).0, None)
            }
            ["foreign", "key"] => {
                let (cols, j) = column_list(t, i + 2, what);
                assert!(t.get(j).is_some_and(|r| r.is("references")), "{what}: FOREIGN KEY without REFERENCES");
                let (target, k) = qualified(t, j + 1).unwrap_or_else(|| panic!("{what}: REFERENCES what?"));
                let target_cols = if t.get(k).is_some_and(|p| p.is_p("(")) { column_list(t, k, what).0 } else { vec![] };
                key(KeyKind::Foreign, cols, Some((target, target_cols)))
            }
            ["check", _] => {}
            _ => panic!("{what}: cannot read constraint {t:?}"),
        }
    }

    fn alter_table(&mut self, t: &[Tok], origin: &str) {
        let mut i = 2;
        if t[i].is("if") {
            i += 2;
        }
        if t[i].is("only") {
            i += 1;
        }
        let (name, i) = qualified(t, i).unwrap_or_else(|| panic!("{origin}: ALTER TABLE without a name"));
        let what = format!("{origin}: ALTER TABLE {name}");
        assert!(self.relations.contains_key(&name), "{what}: an unknown table");
        for action in split_commas(&t[i..]) {
            match words(action, 3).as_slice() {
                ["add", "constraint" | "primary" | "unique" | "foreign" | "check" | "exclude", ..] => {
                    self.table_constraint(&name, &action[1..], &what)
                }
                ["add", ..] => {
                    let mut j = 1;
                    if action[j].is("column") {
                        j += 1;
                    }
                    if action[j].is("if") {
                        j += 3;
                    }
                    let col = action[j].ident().unwrap_or_else(|| panic!("{what}: cannot read {action:?}")).to_string();
                    self.column_constraints(&name, &col, &action[j + 1..], &what);
                    self.relations.get_mut(&name).unwrap().push(col);
                }
                ["drop", "column", ..] => {
                    let j = if action[2].is("if") { 4 } else { 2 };
                    let col = action[j].ident().unwrap_or_else(|| panic!("{what}: cannot read {action:?}")).to_string();
                    self.relations.get_mut(&name).unwrap().retain(|c| *c != col);
                }
                ["drop", "constraint", ..] => {
                    let j = if action[2].is("if") { 4 } else { 2 };
                    self.dropped.push(action[j].ident().unwrap_or_else(|| panic!("{what}: cannot read {action:?}")).to_string());
                }
                _ => {
                    if let Some(word) = mentions_keys(action) {
                        panic!("{what}: cannot read an action that mentions {word}: {action:?}");
                    }
                }
            }
        }
    }

    /// CREATE UNIQUE INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON [ONLY] relation [USING m] (elements) ...
    fn index(&mut self, t: &[Tok], origin: &str) {
        let on = t.iter().position(|x| x.is("on")).unwrap_or_else(|| panic!("{origin}: CREATE UNIQUE INDEX without ON"));
        let name = t[on - 1].ident().filter(|n| !["index", "concurrently", "exists"].contains(n)).map(String::from);
        let mut i = on + 1;
        if t[i].is("only") {
            i += 1;
        }
        let (relation, mut i) = qualified(t, i).unwrap_or_else(|| panic!("{origin}: CREATE UNIQUE INDEX on what?"));
        if t[i].is("using") {
            i += 2;
        }
        let what = format!("{origin}: CREATE UNIQUE INDEX {} ON {relation}", name.as_deref().unwrap_or("(unnamed)"));
        let end = close(t, i);
        let columns = split_commas(&t[i + 1..end])
            .into_iter()
            .map(|e| match e {
                [c, ..] if c.ident().is_some() && !e.get(1).is_some_and(|p| p.is_p("(")) => c.ident().unwrap().to_string(),
                _ => "(expression)".to_string(),
            })
            .collect();
        self.keys.push(Key { kind: KeyKind::UniqueIndex, name, relation, columns, references: None, origin: what });
    }

    /// CREATE MATERIALIZED VIEW name [(columns)] AS SELECT ...: its output columns.
    fn matview(&mut self, t: &[Tok], origin: &str) {
        let mut i = 3;
        if t[i].is("if") {
            i += 3;
        }
        let (name, i) = qualified(t, i).unwrap_or_else(|| panic!("{origin}: CREATE MATERIALIZED VIEW without a name"));
        let what = format!("{origin}: CREATE MATERIALIZED VIEW {name}");
        let columns = if t[i].is_p("(") {
            column_list(t, i, &what).0
        } else {
            assert!(t[i].is("as") && t[i + 1].is("select"), "{what}: cannot read its query");
            let q = &t[i + 2..];
            if q[0].is_p("*") {
                assert!(q[1].is("from"), "{what}: SELECT * from what?");
                let (source, j) = qualified(q, 2).unwrap();
                assert!(q.get(j).is_none_or(|x| x.is("with")), "{what}: SELECT * from more than {source}");
                self.columns_of(&source).unwrap_or_else(|| panic!("{what}: SELECT * from {source}, whose columns are unknown"))
            } else {
                let mut depth = 0;
                let from = q
                    .iter()
                    .position(|x| {
                        depth += i32::from(x.is_p("(")) - i32::from(x.is_p(")"));
                        depth == 0 && x.is("from")
                    })
                    .unwrap_or(q.len());
                split_commas(&q[..from])
                    .into_iter()
                    .map(|item| {
                        let n = item.len();
                        if item[n - 1].is_p("*") && (n == 1 || item[n - 2].is_p(".")) {
                            panic!("{what}: a * in its select list");
                        }
                        let plain = n == 1 || item[n - 2].is_p(".") || item[n - 2].is("as");
                        match item[n - 1].ident() {
                            Some(c) if plain => c.to_string(),
                            _ => "?column?".to_string(),
                        }
                    })
                    .collect()
            }
        };
        self.matviews.insert(name.clone());
        assert!(self.relations.insert(name, columns).is_none(), "{what}: created twice");
    }

    /// The columns of a table, materialized view or known view.
    pub fn columns_of(&self, relation: &str) -> Option<Vec<String>> {
        self.relations.get(relation).or_else(|| self.known_views.get(relation)).cloned()
    }

    /// Whether a relation is tenant-scoped (has a tenant_id column); None for a relation it does not know.
    pub fn is_tenant(&self, relation: &str) -> Option<bool> {
        self.columns_of(relation).map(|c| c.iter().any(|c| c == "tenant_id"))
    }

    /// The primary key's columns of a relation.
    pub fn primary_key(&self, relation: &str) -> Option<&[String]> {
        self.keys.iter().find(|k| k.kind == KeyKind::Primary && k.relation == relation).map(|k| k.columns.as_slice())
    }
}

/// What is wrong with `keys` (read from DDL) for distribution by tenant_id, judged against `schema`
/// (which relations are tenant-scoped, what their primary keys are):
/// - a primary key, unique constraint or unique index of a tenant relation without tenant_id;
/// - a foreign key of a tenant table, or to one, that does not map tenant_id to tenant_id;
/// - a foreign key that does not reference its parent's primary key.
pub fn key_problems(schema: &Schema, keys: &[Key]) -> Vec<String> {
    let mut problems = Vec::new();
    let tenant = |rel: &str, k: &Key| schema.is_tenant(rel).unwrap_or_else(|| panic!("{}: a key on an unknown relation {rel}", k.origin));
    for k in keys {
        let label =
            format!("{}: {:?} {} on {} ({})", k.origin, k.kind, k.name.as_deref().unwrap_or("(unnamed)"), k.relation, k.columns.join(", "));
        match &k.references {
            None => {
                if tenant(&k.relation, k) && !k.columns.iter().any(|c| c == "tenant_id") {
                    problems.push(format!("{label}: lacks tenant_id"));
                }
            }
            Some((parent, parent_cols)) => {
                let pk = schema.primary_key(parent).unwrap_or_else(|| panic!("{label}: {parent} has no primary key"));
                let parent_cols = if parent_cols.is_empty() { pk.to_vec() } else { parent_cols.clone() };
                if parent_cols != pk {
                    problems.push(format!(
                        "{label}: references {parent} ({}), not its primary key ({})",
                        parent_cols.join(", "),
                        pk.join(", ")
                    ));
                }
                if tenant(&k.relation, k) || tenant(parent, k) {
                    let at = k.columns.iter().position(|c| c == "tenant_id");
                    if at.is_none_or(|p| parent_cols.get(p).map(String::as_str) != Some("tenant_id")) {
                        problems.push(format!("{label}: does not match {parent}'s tenant_id with its own"));
                    }
                }
            }
        }
    }
    problems
}
