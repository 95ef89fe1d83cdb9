//! Rows the generator emits, one struct per base table of schema `analytics`.
//! Times are Unix seconds (UTC). Ids are final: the loader copies them verbatim.

#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub id: i64,
    pub tenant: String,
    pub issue_key: String,
    pub project_key: String,
    pub summary: String,
    pub description: String,
    pub issue_type: &'static str,
    pub status: &'static str,
    pub status_category: &'static str,
    pub priority: &'static str,
    pub assignee: Option<String>,
    pub reporter: String,
    pub story_points: Option<u32>,
    pub labels: Vec<&'static str>,
    pub components: Vec<&'static str>,
    pub epic_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: i64,
    pub tenant: String,
    pub issue_id: i64,
    pub from_status: Option<&'static str>,
    pub to_status: &'static str,
    pub changed_at: i64,
    pub author: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: i64,
    pub tenant: String,
    pub issue_id: i64,
    pub field: &'static str,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub changed_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub tenant: String,
    pub issue_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sprint {
    pub id: i64,
    pub tenant: String,
    pub external_id: i64,
    pub board: String,
    pub name: String,
    pub goal: String,
    pub state: &'static str,
    pub start_date: i64,
    pub end_date: i64,
    pub complete_date: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub id: i64,
    pub tenant: String,
    pub sprint_id: i64,
    pub issue_id: i64,
    pub added_at: i64,
    pub removed_at: Option<i64>,
}

/// The status category of a workflow status name (the generator's workflows only).
pub fn category(status: &str) -> &'static str {
    match status {
        "To Do" => "todo",
        "Done" => "done",
        _ => "in_progress",
    }
}

/// Receives generated rows. `CsvSink` writes COPY files; tests collect rows in memory.
pub trait Sink {
    fn issue(&mut self, row: &Issue) -> std::io::Result<()>;
    fn transition(&mut self, row: &Transition) -> std::io::Result<()>;
    fn change(&mut self, row: &Change) -> std::io::Result<()>;
    fn comment(&mut self, row: &Comment) -> std::io::Result<()>;
    fn sprint(&mut self, row: &Sprint) -> std::io::Result<()>;
    fn membership(&mut self, row: &Membership) -> std::io::Result<()>;
}

/// Collects every row in memory (tests, small scales).
#[derive(Debug, Default)]
pub struct VecSink {
    pub issues: Vec<Issue>,
    pub transitions: Vec<Transition>,
    pub changes: Vec<Change>,
    pub comments: Vec<Comment>,
    pub sprints: Vec<Sprint>,
    pub memberships: Vec<Membership>,
}

impl Sink for VecSink {
    fn issue(&mut self, row: &Issue) -> std::io::Result<()> {
        self.issues.push(row.clone());
        Ok(())
    }
    fn transition(&mut self, row: &Transition) -> std::io::Result<()> {
        self.transitions.push(row.clone());
        Ok(())
    }
    fn change(&mut self, row: &Change) -> std::io::Result<()> {
        self.changes.push(row.clone());
        Ok(())
    }
    fn comment(&mut self, row: &Comment) -> std::io::Result<()> {
        self.comments.push(row.clone());
        Ok(())
    }
    fn sprint(&mut self, row: &Sprint) -> std::io::Result<()> {
        self.sprints.push(row.clone());
        Ok(())
    }
    fn membership(&mut self, row: &Membership) -> std::io::Result<()> {
        self.memberships.push(row.clone());
        Ok(())
    }
}
