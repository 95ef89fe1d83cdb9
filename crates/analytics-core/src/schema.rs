//! The base tables of schema `analytics` as a contract. Column names are written by loaders and read by
//! the compiler, so they must not drift: the extension's tests compare the installed tables with this list.

/// A column: name, PostgreSQL type as `format_type` prints it, and whether it may be NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub sql_type: &'static str,
    pub nullable: bool,
}

/// A base table and whether row-level security scopes it to one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub tenant_scoped: bool,
    pub columns: &'static [Column],
}

const fn col(name: &'static str, sql_type: &'static str, nullable: bool) -> Column {
    Column { name, sql_type, nullable }
}

const NULL: bool = true;
const NOT_NULL: bool = false;

pub const ISSUES: Table = Table {
    name: "issues",
    tenant_scoped: true,
    columns: &[
        col("id", "bigint", NOT_NULL),
        col("tenant_id", "text", NOT_NULL),
        col("instance_id", "text", NOT_NULL),
        col("issue_key", "text", NOT_NULL),
        col("project_key", "text", NULL),
        col("summary", "text", NULL),
        col("description", "text", NULL),
        col("issue_type", "text", NULL),
        col("status", "text", NULL),
        col("status_category", "text", NULL),
        col("priority", "text", NULL),
        col("assignee", "text", NULL),
        col("reporter", "text", NULL),
        col("story_points", "numeric", NULL),
        col("labels", "text[]", NOT_NULL),
        col("components", "text[]", NOT_NULL),
        col("epic_key", "text", NULL),
        col("created_at", "timestamp with time zone", NOT_NULL),
        col("updated_at", "timestamp with time zone", NULL),
        col("resolved_at", "timestamp with time zone", NULL),
    ],
};

pub const ISSUE_TRANSITIONS: Table = Table {
    name: "issue_transitions",
    tenant_scoped: true,
    columns: &[
        col("id", "bigint", NOT_NULL),
        col("tenant_id", "text", NOT_NULL),
        col("issue_id", "bigint", NOT_NULL),
        col("from_status", "text", NULL),
        col("to_status", "text", NOT_NULL),
        col("from_category", "text", NULL),
        col("to_category", "text", NULL),
        col("changed_at", "timestamp with time zone", NOT_NULL),
        col("author", "text", NULL),
    ],
};

pub const ISSUE_CHANGES: Table = Table {
    name: "issue_changes",
    tenant_scoped: true,
    columns: &[
        col("id", "bigint", NOT_NULL),
        col("tenant_id", "text", NOT_NULL),
        col("issue_id", "bigint", NOT_NULL),
        col("field", "text", NOT_NULL),
        col("from_value", "text", NULL),
        col("to_value", "text", NULL),
        col("changed_at", "timestamp with time zone", NOT_NULL),
    ],
};

pub const ISSUE_COMMENTS: Table = Table {
    name: "issue_comments",
    tenant_scoped: true,
    columns: &[
        col("id", "bigint", NOT_NULL),
        col("tenant_id", "text", NOT_NULL),
        col("issue_id", "bigint", NOT_NULL),
        col("author", "text", NULL),
        col("body", "text", NULL),
        col("created_at", "timestamp with time zone", NOT_NULL),
    ],
};

pub const SPRINTS: Table = Table {
    name: "sprints",
    tenant_scoped: true,
    columns: &[
        col("id", "bigint", NOT_NULL),
        col("tenant_id", "text", NOT_NULL),
        col("instance_id", "text", NOT_NULL),
        col("external_id", "bigint", NULL),
        col("board", "text", NOT_NULL),
        col("name", "text", NOT_NULL),
        col("goal", "text", NULL),
        col("state", "text", NOT_NULL),
        col("start_date", "timestamp with time zone", NULL),
        col("end_date", "timestamp with time zone", NULL),
        col("complete_date", "timestamp with time zone", NULL),
    ],
};

pub const SPRINT_ISSUES: Table = Table {
    name: "sprint_issues",
    tenant_scoped: true,
    columns: &[
        col("id", "bigint", NOT_NULL),
        col("tenant_id", "text", NOT_NULL),
        col("sprint_id", "bigint", NOT_NULL),
        col("issue_id", "bigint", NOT_NULL),
        col("added_at", "timestamp with time zone", NOT_NULL),
        col("removed_at", "timestamp with time zone", NULL),
    ],
};

/// Every tenant-scoped base table, parents before children (the order to load or delete them in).
pub const BASE_TABLES: &[Table] = &[ISSUES, ISSUE_TRANSITIONS, ISSUE_CHANGES, ISSUE_COMMENTS, SPRINTS, SPRINT_ISSUES];

/// Columns of `analytics.issue_facts`, the base relation of issue metrics (alias `f`).
pub const ISSUE_FACTS_COLUMNS: &[&str] = &[
    "id",
    "tenant_id",
    "instance_id",
    "issue_key",
    "project_key",
    "issue_type",
    "status",
    "status_category",
    "priority",
    "assignee",
    "reporter",
    "story_points",
    "labels",
    "components",
    "epic_key",
    "created_at",
    "updated_at",
    "resolved_at",
    "lead_time_days",
    "first_in_progress_at",
    "cycle_time_days",
    "reopen_count",
    "last_reopened_at",
    "last_transition_at",
    "comment_count",
    "first_response_hours",
    "board",
    "sprint",
    "summary",
];

/// The columns `analytics.issue_facts` passes through from `analytics.issues` unchanged (one row per issue):
/// a spec query that reads no others reads the table itself.
pub const ISSUE_FACTS_FROM_ISSUES: &[&str] = &[
    "id",
    "tenant_id",
    "instance_id",
    "issue_key",
    "project_key",
    "issue_type",
    "status",
    "status_category",
    "priority",
    "assignee",
    "reporter",
    "story_points",
    "labels",
    "components",
    "epic_key",
    "created_at",
    "updated_at",
    "resolved_at",
    "summary",
];

/// The columns `analytics.sprint_facts` takes from `analytics.sprints` unchanged (one row per sprint,
/// `sprint_id` being the sprint's id): a spec query that reads no others reads the sprints themselves
/// ([`SPRINTS_AS_FACTS`]), not the view that computes every statistic of every sprint.
pub const SPRINT_FACTS_FROM_SPRINTS: &[&str] =
    &["sprint_id", "tenant_id", "instance_id", "board", "name", "state", "start_date", "end_date", "complete_date"];

/// `analytics.sprints` of one tenant under the column names of `analytics.sprint_facts`
/// ([`SPRINT_FACTS_FROM_SPRINTS`]); `{tenant}` is the tenant parameter (filtered inside as well, so that
/// each relation a query reads names its tenant: the scale-out rule).
pub const SPRINTS_AS_FACTS: &str = "(SELECT s.id AS sprint_id, s.tenant_id, s.instance_id, s.board, s.name, s.state, \
     s.start_date, s.end_date, s.complete_date FROM analytics.sprints AS s WHERE s.tenant_id = {tenant})";

/// Sprint statistics that get a z-score column `<name>_z` (against the board's closed sprints).
pub const SPRINT_Z_SCORED: &[&str] =
    &["planned_sp", "added_sp", "removed_sp", "completed_sp", "spillover_ratio", "scope_churn_ratio", "accuracy_abs", "velocity"];

/// Columns of `analytics.sprint_facts`, the base relation of sprint metrics (alias `f`), which is also the
/// column list of `analytics.mv_sprint_stats_enriched` and `analytics.sprint_stats`.
pub const SPRINT_FACTS_COLUMNS: &[&str] = &[
    "sprint_id",
    "tenant_id",
    "instance_id",
    "board",
    "name",
    "state",
    "start_date",
    "end_date",
    "complete_date",
    "planned_issues",
    "planned_sp",
    "added_sp",
    "removed_sp",
    "completed_issues",
    "completed_sp",
    "spilled_sp",
    "spillover_ratio",
    "scope_churn_ratio",
    "accuracy_abs",
    "velocity",
    "planned_sp_z",
    "added_sp_z",
    "removed_sp_z",
    "completed_sp_z",
    "spillover_ratio_z",
    "scope_churn_ratio_z",
    "accuracy_abs_z",
    "velocity_z",
    "sprint_problematic_score",
];

/// The status categories every metric speaks in.
pub const STATUS_CATEGORIES: &[&str] = &["todo", "in_progress", "done"];

/// Sprint states.
pub const SPRINT_STATES: &[&str] = &["future", "active", "closed"];

/// Looks a base table up by name.
pub fn table(name: &str) -> Option<&'static Table> {
    BASE_TABLES.iter().find(|t| t.name == name)
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_id_and_tenant_first() {
        for t in BASE_TABLES {
            assert_eq!(t.columns[0], col("id", "bigint", NOT_NULL), "{}", t.name);
            assert_eq!(t.columns[1], col("tenant_id", "text", NOT_NULL), "{}", t.name);
            assert!(t.tenant_scoped);
        }
    }

    #[test]
    fn column_names_are_unique_per_table() {
        for t in BASE_TABLES {
            let mut names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
            names.sort();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "duplicate column in {}", t.name);
        }
    }

    #[test]
    fn every_z_scored_statistic_has_its_z_column() {
        for s in SPRINT_Z_SCORED {
            assert!(SPRINT_FACTS_COLUMNS.contains(s), "{s}");
            assert!(SPRINT_FACTS_COLUMNS.contains(&format!("{s}_z").as_str()), "{s}_z");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(table("sprints").map(|t| t.name), Some("sprints"));
        assert!(table("pg_authid").is_none());
        assert_eq!(ISSUES.column("story_points").map(|c| c.sql_type), Some("numeric"));
        assert!(ISSUES.column("password").is_none());
    }

    #[test]
    fn children_come_after_their_parents() {
        let pos = |n: &str| BASE_TABLES.iter().position(|t| t.name == n).unwrap();
        for child in ["issue_transitions", "issue_changes", "issue_comments", "sprint_issues"] {
            assert!(pos("issues") < pos(child));
        }
        assert!(pos("sprints") < pos("sprint_issues"));
    }

    #[test]
    fn sprint_facts_passes_sprint_columns_through() {
        for c in SPRINT_FACTS_FROM_SPRINTS {
            assert!(SPRINT_FACTS_COLUMNS.contains(c), "{c} is a column of sprint_facts");
            let col = if *c == "sprint_id" { "id" } else { c };
            assert!(table("sprints").unwrap().column(col).is_some(), "{col} is a column of sprints");
            assert!(SPRINTS_AS_FACTS.contains(&format!("s.{col}")), "{c} is selected");
        }
    }

    #[test]
    fn issue_facts_passes_issue_columns_through() {
        for c in ISSUE_FACTS_FROM_ISSUES {
            assert!(ISSUES.column(c).is_some(), "{c} is a column of issues");
            assert!(ISSUE_FACTS_COLUMNS.contains(c), "{c} is a column of issue_facts");
        }
    }
}
