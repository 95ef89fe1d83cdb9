//! Writes rows as PostgreSQL `COPY ... (FORMAT csv)` files: an unquoted empty field is NULL, a quoted
//! empty field is the empty string, arrays are array literals.

use crate::model::*;
use chrono::DateTime;
use std::fs::File;
use std::io::{BufWriter, Result, Write};
use std::path::Path;

/// The file and column list of each table, in the order `CsvSink` writes the fields.
pub const TABLES: &[(&str, &str)] = &[
    ("issues", "id,tenant_id,issue_key,project_key,summary,description,issue_type,status,status_category,priority,assignee,reporter,story_points,labels,components,epic_key,created_at,updated_at,resolved_at"),
    ("issue_transitions", "id,tenant_id,issue_id,from_status,to_status,from_category,to_category,changed_at,author"),
    ("issue_changes", "id,tenant_id,issue_id,field,from_value,to_value,changed_at"),
    ("issue_comments", "id,tenant_id,issue_id,author,body,created_at"),
    ("sprints", "id,tenant_id,external_id,board,name,goal,state,start_date,end_date,complete_date"),
    ("sprint_issues", "id,tenant_id,sprint_id,issue_id,added_at,removed_at"),
];

pub struct CsvSink {
    out: Vec<BufWriter<File>>,
}

impl CsvSink {
    /// Creates `<dir>/<table>.csv` for every table in [`TABLES`].
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let out = TABLES
            .iter()
            .map(|(t, _)| File::create(dir.join(format!("{t}.csv"))).map(|f| BufWriter::with_capacity(1 << 20, f)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { out })
    }

    /// psql commands that load the files of `dir` (in parent-before-child order) with `\copy`.
    pub fn load_script(dir: &Path) -> String {
        let order = ["sprints", "issues", "issue_transitions", "issue_changes", "issue_comments", "sprint_issues"];
        order
            .iter()
            .filter_map(|t| TABLES.iter().find(|(name, _)| name == t))
            .map(|(t, cols)| {
                let file = dir.join(format!("{t}.csv"));
                format!("\\copy analytics.{t} ({cols}) FROM '{}' WITH (FORMAT csv)\n", file.display())
            })
            .collect()
    }

    pub fn finish(mut self) -> Result<()> {
        for w in &mut self.out {
            w.flush()?;
        }
        Ok(())
    }
}

/// One CSV field. `None` is NULL (unquoted empty); strings needing it are quoted with doubled quotes.
fn field(s: Option<&str>) -> String {
    match s {
        None => String::new(),
        Some(v) if v.is_empty() || v.contains([',', '"', '\n', '\r']) => format!("\"{}\"", v.replace('"', "\"\"")),
        Some(v) => v.to_string(),
    }
}

pub fn ts(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0).map(|d| d.format("%Y-%m-%d %H:%M:%S+00").to_string()).unwrap_or_default()
}

fn array(items: &[&str]) -> String {
    format!("{{{}}}", items.join(","))
}

fn line(w: &mut BufWriter<File>, fields: &[Option<&str>]) -> Result<()> {
    let s: Vec<String> = fields.iter().map(|f| field(*f)).collect();
    w.write_all(s.join(",").as_bytes())?;
    w.write_all(b"\n")
}

impl Sink for CsvSink {
    fn issue(&mut self, r: &Issue) -> Result<()> {
        let (id, sp, created, updated) = (r.id.to_string(), r.story_points.map(|p| p.to_string()), ts(r.created_at), ts(r.updated_at));
        let resolved = r.resolved_at.map(ts);
        let (labels, components) = (array(&r.labels), array(&r.components));
        line(
            &mut self.out[0],
            &[
                Some(&id),
                Some(&r.tenant),
                Some(&r.issue_key),
                Some(&r.project_key),
                Some(&r.summary),
                Some(&r.description),
                Some(r.issue_type),
                Some(r.status),
                Some(r.status_category),
                Some(r.priority),
                r.assignee.as_deref(),
                Some(&r.reporter),
                sp.as_deref(),
                Some(&labels),
                Some(&components),
                r.epic_key.as_deref(),
                Some(&created),
                Some(&updated),
                resolved.as_deref(),
            ],
        )
    }
    fn transition(&mut self, r: &Transition) -> Result<()> {
        let (id, issue, at) = (r.id.to_string(), r.issue_id.to_string(), ts(r.changed_at));
        line(
            &mut self.out[1],
            &[
                Some(&id),
                Some(&r.tenant),
                Some(&issue),
                r.from_status,
                Some(r.to_status),
                r.from_status.map(category),
                Some(category(r.to_status)),
                Some(&at),
                r.author.as_deref(),
            ],
        )
    }
    fn change(&mut self, r: &Change) -> Result<()> {
        let (id, issue, at) = (r.id.to_string(), r.issue_id.to_string(), ts(r.changed_at));
        line(
            &mut self.out[2],
            &[Some(&id), Some(&r.tenant), Some(&issue), Some(r.field), r.from_value.as_deref(), r.to_value.as_deref(), Some(&at)],
        )
    }
    fn comment(&mut self, r: &Comment) -> Result<()> {
        let (id, issue, at) = (r.id.to_string(), r.issue_id.to_string(), ts(r.created_at));
        line(&mut self.out[3], &[Some(&id), Some(&r.tenant), Some(&issue), Some(&r.author), Some(&r.body), Some(&at)])
    }
    fn sprint(&mut self, r: &Sprint) -> Result<()> {
        let (id, ext, start, end) = (r.id.to_string(), r.external_id.to_string(), ts(r.start_date), ts(r.end_date));
        let complete = r.complete_date.map(ts);
        line(
            &mut self.out[4],
            &[
                Some(&id),
                Some(&r.tenant),
                Some(&ext),
                Some(&r.board),
                Some(&r.name),
                Some(&r.goal),
                Some(r.state),
                Some(&start),
                Some(&end),
                complete.as_deref(),
            ],
        )
    }
    fn membership(&mut self, r: &Membership) -> Result<()> {
        let (id, sprint, issue, added) = (r.id.to_string(), r.sprint_id.to_string(), r.issue_id.to_string(), ts(r.added_at));
        let removed = r.removed_at.map(ts);
        line(&mut self.out[5], &[Some(&id), Some(&r.tenant), Some(&sprint), Some(&issue), Some(&added), removed.as_deref()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_copy_csv_rules() {
        assert_eq!(field(None), "");
        assert_eq!(field(Some("")), "\"\"");
        assert_eq!(field(Some("plain")), "plain");
        assert_eq!(field(Some("a,b")), "\"a,b\"");
        assert_eq!(field(Some("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(field(Some("two\nlines")), "\"two\nlines\"");
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(ts(0), "1970-01-01 00:00:00+00");
        assert_eq!(ts(1_767_225_600), "2026-01-01 00:00:00+00");
    }

    #[test]
    fn load_script_copies_every_table_parents_first() {
        let script = CsvSink::load_script(Path::new("/d"));
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines.len(), TABLES.len());
        assert!(lines[0].starts_with("\\copy analytics.sprints (id,tenant_id,external_id,"));
        assert!(lines[1].starts_with("\\copy analytics.issues (id,"));
        assert!(lines[5].ends_with("FROM '/d/sprint_issues.csv' WITH (FORMAT csv)"));
    }

    #[test]
    fn arrays_are_literals() {
        assert_eq!(array(&[]), "{}");
        assert_eq!(array(&["production", "customer"]), "{production,customer}");
    }
}
