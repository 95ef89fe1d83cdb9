//! The scale-out precondition (docs/operations.md, "Scale-out"): a Citus deployment distributes the tenant
//! relations by tenant_id, which needs
//! (a) every PRIMARY KEY, UNIQUE constraint, unique index and FOREIGN KEY of a tenant relation (a table or
//!     materialized view with a tenant_id column) to include tenant_id: read from the DDL in sql/, the
//!     fresh install's files and the upgrade script, which must make the same keys from 0.1.0's;
//! (b) every query a spec compiles to to filter each tenant relation it reads by `<alias>.tenant_id = $1`,
//!     the tenant parameter, so that the router sends it to the tenant's node.
//! A statement or query the readers here cannot follow fails the test rather than being skipped.

mod ddl;
mod reads;
mod sql_text;

use analytics_core::catalog::params::Bound;
use analytics_core::catalog::{builtin, Entity, Kind as MetricKind, MetricDef};
use analytics_core::schema::{BASE_TABLES, ISSUE_FACTS_COLUMNS, SPRINT_FACTS_COLUMNS};
use analytics_core::spec::dims::{self, Kind};
use analytics_core::spec::{compile, parse};
use ddl::{key_problems, Key, KeyKind, Schema};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn sql_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sql")
}

/// Reads SQL files into `schema`, statement by statement.
fn read_files(schema: &mut Schema, files: &[PathBuf]) {
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for (n, stmt) in sql_text::statements(&text).iter().enumerate() {
            schema.read(stmt, &format!("{name} statement {}", n + 1));
        }
    }
}

fn with_known_views() -> Schema {
    let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let known_views = BTreeMap::from([
        ("analytics.issue_facts".to_string(), cols(ISSUE_FACTS_COLUMNS)),
        ("analytics.sprint_facts".to_string(), cols(SPRINT_FACTS_COLUMNS)),
    ]);
    Schema { known_views, ..Schema::default() }
}

/// The schema a fresh install makes: sql/NNN_*.sql in name order (the order pgrx loads them in).
fn fresh() -> Schema {
    let mut files: Vec<PathBuf> = std::fs::read_dir(sql_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sql") && p.file_name().unwrap().to_string_lossy().starts_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the DDL files of sql/: {files:?}");
    let mut s = with_known_views();
    read_files(&mut s, &files);
    s
}

/// The names PostgreSQL gives unnamed keys (short names only: no truncation or numbering).
fn key_name(k: &Key) -> String {
    let table = k.relation.rsplit('.').next().unwrap();
    k.name.clone().unwrap_or_else(|| match k.kind {
        KeyKind::Primary => format!("{table}_pkey"),
        KeyKind::Unique => format!("{table}_{}_key", k.columns.join("_")),
        KeyKind::Foreign => format!("{table}_{}_fkey", k.columns.join("_")),
        KeyKind::UniqueIndex => panic!("{}: an unnamed unique index", k.origin),
    })
}

/// A key as the schema comparison sees it: name -> (kind, relation, columns, references).
type KeyDefs = BTreeMap<String, (KeyKind, String, Vec<String>, Option<(String, Vec<String>)>)>;

fn defs(keys: &[Key], pk_of: &dyn Fn(&str) -> Vec<String>) -> KeyDefs {
    let mut out = KeyDefs::new();
    for k in keys {
        // A foreign key without columns references the primary key: spell it out.
        let refs = k.references.clone().map(|(p, c)| if c.is_empty() { (p.clone(), pk_of(&p)) } else { (p, c) });
        out.insert(key_name(k), (k.kind, k.relation.clone(), k.columns.clone(), refs));
    }
    out
}

#[test]
fn every_key_of_a_tenant_relation_includes_tenant_id() {
    let s = fresh();
    let tenant: BTreeSet<&str> = s.relations.keys().filter(|r| s.is_tenant(r) == Some(true)).map(String::as_str).collect();
    let mut expected: Vec<String> = BASE_TABLES.iter().filter(|t| t.tenant_scoped).map(|t| format!("analytics.{}", t.name)).collect();
    expected.extend(
        ["analytics.analytics_cache", "analytics.data_versions", "analytics.mv_sprint_stats_enriched", "analytics.mv_issue_comment_stats"]
            .map(String::from),
    );
    for r in &expected {
        assert!(tenant.contains(r.as_str()), "{r} is read as a tenant relation (found: {tenant:?})");
    }
    for t in BASE_TABLES {
        assert_eq!(s.primary_key(&format!("analytics.{}", t.name)), Some(&["tenant_id".to_string(), "id".to_string()][..]), "{}", t.name);
    }
    let problems = key_problems(&s, &s.keys);
    assert!(problems.is_empty(), "keys unfit for distribution by tenant_id:\n{}", problems.join("\n"));

    // No key repeats another's columns (a UNIQUE (tenant_id, id) beside that primary key, say).
    let mut seen = BTreeMap::new();
    for k in s.keys.iter().filter(|k| k.kind != KeyKind::Foreign) {
        if let Some(other) = seen.insert((k.relation.clone(), k.columns.clone()), k.origin.clone()) {
            panic!("{}: {:?} {:?} on {} repeats the key of {other}", k.origin, k.kind, k.name, k.relation);
        }
    }
    // REFRESH ... CONCURRENTLY needs a unique index on plain columns of each materialized view.
    for mv in &s.matviews {
        assert!(
            s.keys.iter().any(|k| k.kind == KeyKind::UniqueIndex && k.relation == *mv && !k.columns.iter().any(|c| c.starts_with('('))),
            "{mv} has a unique index on columns"
        );
    }
    let checked = s.keys.iter().filter(|k| tenant.contains(k.relation.as_str())).count();
    assert!(checked >= 18, "only {checked} keys of tenant relations were found: the reader misses some");
}

/// The upgrade script adds only keys fit for distribution, each as the fresh install defines it, and
/// 0.1.0's keys, minus what it drops, plus what it adds, are the fresh install's keys.
#[test]
fn the_upgrade_from_0_1_0_makes_the_fresh_keys() {
    let fresh = fresh();
    let mut old = with_known_views();
    read_files(&mut old, &[sql_dir().join("versions/agile_analytics--0.1.0.sql")]);
    let mut up = Schema { keys: Vec::new(), dropped: Vec::new(), dropped_relations: Vec::new(), ..old.clone() };
    read_files(&mut up, &[sql_dir().join("agile_analytics--0.1.0--0.2.0.sql")]);
    let problems = key_problems(&fresh, &up.keys);
    assert!(problems.is_empty(), "keys the upgrade adds:\n{}", problems.join("\n"));

    let fresh_pk = |r: &str| fresh.primary_key(r).map(<[String]>::to_vec).unwrap_or_default();
    let old_pk = |r: &str| old.primary_key(r).map(<[String]>::to_vec).unwrap_or_default();
    let want = defs(&fresh.keys, &fresh_pk);
    let mut got = defs(&old.keys, &old_pk);
    for name in &up.dropped {
        assert!(got.remove(name).is_some(), "the upgrade drops {name}, which 0.1.0 does not have");
    }
    // A materialized view dropped takes its keys along.
    for k in old.keys.iter().filter(|k| up.dropped_relations.contains(&k.relation)) {
        got.remove(k.name.as_deref().unwrap_or_default());
    }
    for (name, def) in defs(&up.keys, &fresh_pk) {
        assert!(got.insert(name.clone(), def).is_none(), "the upgrade adds {name} without dropping 0.1.0's");
    }
    let show =
        |d: &KeyDefs, other: &KeyDefs| d.iter().filter(|(n, v)| other.get(*n) != Some(v)).map(|x| format!("{x:?}")).collect::<Vec<_>>();
    assert!(
        got == want,
        "after the upgrade, not as fresh:\n{}\nfresh has:\n{}",
        show(&got, &want).join("\n"),
        show(&want, &got).join("\n")
    );
    assert!(want.contains_key("sprint_issues_interval") && !want.contains_key("issues_tenant_id_id"));
}

/// Specs that reach every part of the compiler: each metric alone, grouped by each of its entity's
/// dimensions, filtered on each, in each kind of date range, and all of an entity's metrics at once.
fn specs(catalog: &[MetricDef]) -> Vec<(Vec<String>, Value)> {
    let group = |d: &dims::Dimension| match d.kind {
        Kind::Timestamp => json!({"field": d.name, "interval": "month"}),
        Kind::Number => json!({"field": d.name, "bucket": 2.5}),
        _ => json!(d.name),
    };
    let filters = |d: &dims::Dimension| match d.kind {
        Kind::Text => {
            vec![json!({"field": d.name, "operator": "in", "value": ["a", "b"]}), json!({"field": d.name, "operator": "is_null"})]
        }
        Kind::TextArray => {
            vec![json!({"field": d.name, "operator": "eq", "value": "a"}), json!({"field": d.name, "operator": "not_in", "value": ["a"]})]
        }
        Kind::Timestamp => vec![json!({"field": d.name, "operator": "between", "value": ["2025-01-01", "2025-02-01"]})],
        Kind::Number => {
            vec![json!({"field": d.name, "operator": "gt", "value": 3}), json!({"field": d.name, "operator": "in", "value": [1, 2.5]})]
        }
    };
    let ranges = |e: Entity| {
        let mut r = vec![json!({"last": "30 days"}), json!({"from": "2025-01-01", "to": "2025-04-01"})];
        r.extend(dims::dimensions(e).iter().filter(|d| d.kind == Kind::Timestamp).map(|d| json!({"field": d.name, "from": "2025-01-01"})));
        if e == Entity::Sprint {
            r.push(json!({"last_sprints": 3}));
        }
        r
    };
    let mut out = Vec::new();
    for e in [Entity::Issue, Entity::Sprint] {
        let names: Vec<String> = catalog.iter().filter(|m| m.entity == e).map(|m| m.name.clone()).collect();
        let snapshot = |n: &String| catalog.iter().any(|m| m.name == *n && m.kind == MetricKind::Snapshot);
        let mut sets: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
        // Every metric together, in sets of at most 20 (the parser's limit).
        sets.extend(names.chunks(20).map(<[String]>::to_vec));
        sets.extend(names.iter().filter(|n| !snapshot(n)).cloned().collect::<Vec<_>>().chunks(20).map(<[String]>::to_vec));
        for metrics in sets {
            // A snapshot metric (measured at one moment) cannot be grouped by date: the parser says so.
            let by_date = !metrics.iter().any(snapshot);
            let base = json!({"entity": e.as_str(), "metrics": metrics});
            let with = |k: &str, v: Value| {
                let mut s = base.clone();
                s[k] = v;
                s
            };
            out.push((metrics.clone(), base.clone()));
            for d in dims::dimensions(e) {
                if by_date || d.kind != Kind::Timestamp {
                    out.push((metrics.clone(), with("group_by", json!([group(d)]))));
                }
                out.extend(filters(d).into_iter().map(|f| (metrics.clone(), with("filters", json!([f])))));
            }
            out.extend(ranges(e).into_iter().map(|r| (metrics.clone(), with("date_range", r))));
            // Forecasts aggregate their whole history at once: they are no series (the parser says so).
            let whole = |n: &String| catalog.iter().any(|m| m.name == *n && m.kind == MetricKind::Formula && m.dependencies.is_empty());
            if e == Entity::Issue && !metrics.iter().any(whole) {
                // As series (every other metric may be one), alone and with a list dimension and filters.
                let mut series = with("group_by", json!([{"field": "as_of", "interval": "week"}]));
                series["date_range"] = json!({"last": "30 days"});
                out.push((metrics.clone(), series.clone()));
                series["group_by"] = json!([{"field": "as_of", "interval": "day"}, "label", "board"]);
                series["filters"] =
                    json!([{"field": "priority", "operator": "eq", "value": "High"}, {"field": "label", "operator": "eq", "value": "a"}]);
                series["date_range"] = json!({"from": "2025-01-01", "to": "2025-02-01"});
                out.push((metrics.clone(), series));
            }
            if e == Entity::Sprint && metrics.iter().all(snapshot) {
                // Burndown and burnup: sprint series over the sprints' lives, the last sprints, or a range.
                for (groups, range) in [
                    (json!([{"field": "as_of", "interval": "day"}]), Value::Null),
                    (json!([{"field": "as_of", "interval": "day"}, "sprint", "board"]), json!({"last_sprints": 2})),
                    (json!([{"field": "as_of", "interval": "week"}]), json!({"from": "2025-01-01", "to": "2025-02-01"})),
                ] {
                    let mut series = with("group_by", groups);
                    if !range.is_null() {
                        series["date_range"] = range;
                    }
                    series["filters"] = json!([{"field": "state", "operator": "eq", "value": "closed"}]);
                    out.push((metrics.clone(), series));
                }
            }
            let d = dims::dimensions(e);
            let mut groups = vec![group(&d[0])];
            if by_date {
                groups.push(group(d.iter().find(|d| d.kind == Kind::Timestamp).unwrap()));
            }
            let mut all = with("group_by", json!(groups));
            all["filters"] = json!(d.iter().map(|d| filters(d).remove(0)).collect::<Vec<_>>());
            all["date_range"] = ranges(e).pop().unwrap();
            all["sort_by"] = json!([{"field": metrics[0], "direction": "desc"}]);
            all["limit"] = json!(10);
            out.push((metrics, all));
        }
    }
    out
}

/// Reads known not to be filtered by tenant (metric, relation), each with the reason in a comment. None
/// today; the test fails when a listed read is filtered after all, so the list cannot go stale.
const KNOWN_UNFILTERED: &[(&str, &str)] = &[];

#[test]
fn every_compiled_spec_filters_each_tenant_relation_by_the_tenant() {
    let schema = fresh();
    let catalog = builtin::metrics().unwrap();
    let (mut compiled, mut read, mut seen_known) = (0, 0, BTreeSet::new());
    let mut problems = Vec::new();
    for (metrics, spec) in specs(&catalog) {
        let parsed = parse(&spec, &catalog).unwrap_or_else(|e| panic!("{spec}: {e:#?}"));
        let c = compile(&parsed, &catalog, "tenant-x").unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(c.params.first(), Some(&Bound::Text("tenant-x".into())), "$1 is the tenant: {spec}");
        assert!(!c.params[1..].contains(&Bound::Text("tenant-x".into())), "the tenant is bound once, as $1: {}", c.sql);
        compiled += 1;
        for r in reads::reads(&c.sql) {
            let tenant =
                schema.is_tenant(&r.relation).unwrap_or_else(|| panic!("{}: a relation the test does not know: {}", r.relation, c.sql));
            read += 1;
            if !tenant || r.constrained {
                continue;
            }
            match KNOWN_UNFILTERED.iter().find(|(m, rel)| metrics.iter().any(|x| x == m) && *rel == r.relation) {
                Some(known) => {
                    seen_known.insert(*known);
                }
                None => problems.push(format!("{} {} is not filtered by {}.tenant_id = $1 in\n  {}", r.relation, r.alias, r.alias, c.sql)),
            }
        }
    }
    problems.dedup();
    assert!(problems.is_empty(), "{} unfiltered reads:\n{}", problems.len(), problems.join("\n"));
    for k in KNOWN_UNFILTERED {
        assert!(seen_known.contains(k), "{k:?} is filtered now: take it off KNOWN_UNFILTERED");
    }
    assert!(compiled > 500 && read > compiled, "{compiled} specs compiled, {read} relation reads checked");
}

#[test]
fn the_read_checker_tells_filtered_from_unfiltered() {
    let constrained = |sql: &str| reads::reads(sql).into_iter().map(|r| (r.alias, r.constrained)).collect::<Vec<_>>();
    let yes = |a: &str| (a.to_string(), true);
    let no = |a: &str| (a.to_string(), false);
    assert_eq!(constrained("SELECT count(*) FROM analytics.issues AS f WHERE f.tenant_id = $1::text AND f.x = $2"), [yes("f")]);
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE f.x = $2 AND $1 = f.tenant_id GROUP BY 1"), [yes("f")]);
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id = $2"), [no("f")], "not the tenant parameter");
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id = $10"), [no("f")]);
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE f.x = 1 OR f.tenant_id = $1"), [no("f")], "under an OR");
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id = $1 OR true"), [no("f")]);
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id >= $1"), [no("f")]);
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f WHERE g.tenant_id = $1"), [no("f")], "another alias");
    assert_eq!(
        constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id = $1::text || 'x'"),
        [no("f")],
        "an expression of the tenant"
    );
    assert_eq!(
        constrained("SELECT count(*) FILTER (WHERE f.tenant_id = $1) FROM analytics.issues f"),
        [no("f")],
        "an aggregate's filter does not limit the rows read"
    );
    assert_eq!(
        constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id = $1 AND EXISTS (SELECT FROM analytics.issue_changes c WHERE c.issue_id = f.id)"),
        [yes("f"), no("c")],
        "a subquery is a query of its own"
    );
    assert_eq!(
        constrained("SELECT 1 FROM analytics.issues f WHERE f.tenant_id = $1 AND EXISTS (SELECT FROM analytics.issue_changes c WHERE c.tenant_id = f.tenant_id)"),
        [yes("f"), yes("c")],
        "matched with a constrained outer relation's tenant"
    );
    assert_eq!(
        constrained("SELECT 1 FROM analytics.issues f JOIN analytics.sprints s ON s.tenant_id = f.tenant_id WHERE f.tenant_id = $1"),
        [yes("f"), yes("s")]
    );
    assert_eq!(
        constrained("SELECT 1 FROM analytics.issues f JOIN analytics.sprints s ON s.id = f.id WHERE f.tenant_id = $1"),
        [yes("f"), no("s")]
    );
    assert_eq!(constrained("SELECT 1 FROM analytics.issues f, analytics.sprints s WHERE f.tenant_id = $1"), [yes("f"), no("s")]);
    assert_eq!(constrained("SELECT analytics.points_at(f.id, now()) FROM analytics.issues f WHERE f.tenant_id = $1"), [yes("f")]);
}

#[test]
#[should_panic(expected = "cannot follow")]
fn the_read_checker_refuses_what_it_cannot_follow() {
    reads::reads("SELECT 1 FROM unnest($2::text[]) u, analytics.issues f WHERE f.tenant_id = $1");
}

#[test]
fn the_key_checker_finds_keys_without_tenant_id() {
    let mut s = with_known_views();
    let ddl = "CREATE TABLE analytics.p (id bigint PRIMARY KEY, tenant_id text, k text UNIQUE, CONSTRAINT p_tk UNIQUE (tenant_id, k));
        CREATE TABLE analytics.c (id bigint, tenant_id text, p_id bigint REFERENCES analytics.p, CONSTRAINT c_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT c_p_fk FOREIGN KEY (tenant_id, p_id) REFERENCES analytics.p (tenant_id, k));
        CREATE TABLE analytics.r (name text PRIMARY KEY);
        ALTER TABLE analytics.r ADD COLUMN tenant_id text, ADD CONSTRAINT r_x UNIQUE (name);
        CREATE MATERIALIZED VIEW analytics.m AS SELECT p.id AS pid, p.tenant_id FROM analytics.p p;
        CREATE UNIQUE INDEX m_pk ON analytics.m (pid);
        CREATE UNIQUE INDEX m_ok ON analytics.m USING btree (tenant_id, pid) WHERE pid > 0;";
    for (n, stmt) in sql_text::statements(ddl).iter().enumerate() {
        s.read(stmt, &format!("statement {}", n + 1));
    }
    let problems = key_problems(&s, &s.keys);
    let expect = [
        "statement 1: CREATE TABLE analytics.p: Primary (unnamed) on analytics.p (id): lacks tenant_id",
        "statement 1: CREATE TABLE analytics.p: Unique (unnamed) on analytics.p (k): lacks tenant_id",
        "statement 2: CREATE TABLE analytics.c: Foreign (unnamed) on analytics.c (p_id): does not match analytics.p's tenant_id with its own",
        "statement 2: CREATE TABLE analytics.c: Foreign c_p_fk on analytics.c (tenant_id, p_id): references analytics.p (tenant_id, k), not its primary key (id)",
        "statement 3: CREATE TABLE analytics.r: Primary (unnamed) on analytics.r (name): lacks tenant_id",
        "statement 4: ALTER TABLE analytics.r: Unique r_x on analytics.r (name): lacks tenant_id",
        "statement 6: CREATE UNIQUE INDEX m_pk ON analytics.m: UniqueIndex m_pk on analytics.m (pid): lacks tenant_id",
    ];
    assert_eq!(problems, expect);
}

#[test]
fn the_key_checker_refuses_statements_it_cannot_read() {
    let cases = [
        ("CREATE TABLE analytics.x PARTITION OF analytics.y FOR VALUES IN ('a')", "no column list"),
        ("CREATE TABLE analytics.x (id bigint, EXCLUDE USING gist (id WITH =))", "cannot read constraint"),
        ("CREATE TABLE analytics.x (LIKE analytics.issues INCLUDING ALL)", "copies keys"),
        ("ALTER TABLE analytics.issues ADD CONSTRAINT k PRIMARY KEY USING INDEX i", "expected ("),
        ("DO $$ BEGIN EXECUTE 'ALTER TABLE analytics.issues ADD PRIMARY KEY (id)'; END $$", "mentions primary key"),
        ("CREATE TABLE analytics.x AS SELECT 1", "no column list"),
    ];
    for (sql, message) in cases {
        let mut s = with_known_views();
        s.relations.insert("analytics.issues".into(), vec!["id".into(), "tenant_id".into()]);
        let stmt = sql_text::statements(sql).remove(0);
        let err = std::panic::catch_unwind(move || s.read(&stmt, "test")).expect_err(sql);
        let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(text.contains(message), "{sql}: {text}");
    }
}
