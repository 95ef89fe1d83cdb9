//! The dimensions a spec may group and filter by: a whitelist per entity. Each maps to SQL over the
//! base relation (alias `f`); nothing else from a spec ever becomes an identifier in SQL.

use crate::catalog::Entity;

/// How a dimension is stored, which decides how it groups and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A text column.
    Text,
    /// A text array (labels, components): grouping unnests it, `eq` means "has".
    TextArray,
    /// A timestamp: groups by an interval, filters by dates.
    Timestamp,
    /// A number per issue (lead time, cycle time, story points): groups into buckets of a width
    /// (`{"field", "bucket": 2}`, default 1; the group is the bucket's lower bound), filters by comparison.
    Number,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimension {
    /// The name a spec uses, and the output column name.
    pub name: &'static str,
    /// The base-relation column (a constant from this list, never from a spec).
    pub column: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

const fn d(name: &'static str, column: &'static str, kind: Kind, description: &'static str) -> Dimension {
    Dimension { name, column, kind, description }
}

pub const ISSUE_DIMENSIONS: &[Dimension] = &[
    d("project", "project_key", Kind::Text, "project key, e.g. PAY"),
    d("issue_type", "issue_type", Kind::Text, "Story, Bug, Task, ..."),
    d("status", "status", Kind::Text, "current status name"),
    d("status_category", "status_category", Kind::Text, "todo, in_progress or done"),
    d("priority", "priority", Kind::Text, "Highest, High, Medium, Low, Lowest"),
    d("assignee", "assignee", Kind::Text, "current assignee"),
    d("reporter", "reporter", Kind::Text, "reporter"),
    d("label", "labels", Kind::TextArray, "one of the issue's labels (an issue counts once per label)"),
    d("component", "components", Kind::TextArray, "one of the issue's components (an issue counts once per component)"),
    d("epic", "epic_key", Kind::Text, "key of the parent epic"),
    d("board", "board", Kind::Text, "board of the sprint the issue was last added to"),
    d("sprint", "sprint", Kind::Text, "sprint the issue was last added to"),
    d("created_at", "created_at", Kind::Timestamp, "when the issue was created"),
    d("updated_at", "updated_at", Kind::Timestamp, "when the issue last changed"),
    d("resolved_at", "resolved_at", Kind::Timestamp, "when the issue was resolved"),
    d("lead_time_days", "lead_time_days", Kind::Number, "days from creation to resolution (resolved issues; others NULL)"),
    d("cycle_time_days", "cycle_time_days", Kind::Number, "days from first in progress to last done (done issues; others NULL)"),
    d("story_points", "story_points", Kind::Number, "the current estimate"),
];

pub const SPRINT_DIMENSIONS: &[Dimension] = &[
    d("board", "board", Kind::Text, "the sprint's board"),
    d("sprint", "name", Kind::Text, "sprint name"),
    d("state", "state", Kind::Text, "future, active or closed"),
    d("start_date", "start_date", Kind::Timestamp, "when the sprint started"),
    d("end_date", "end_date", Kind::Timestamp, "planned end"),
    d("complete_date", "complete_date", Kind::Timestamp, "when the sprint was completed"),
];

/// Columns a list spec may show besides its entity's dimensions (which it may show too): what names an
/// issue and the per-issue counts that are not dimensions.
pub const ISSUE_LIST_COLUMNS: &[Dimension] = &[
    d("key", "issue_key", Kind::Text, "the issue key, e.g. PAY-12"),
    d("summary", "summary", Kind::Text, "the issue's title"),
    d("reopen_count", "reopen_count", Kind::Number, "times the issue went from done back to not done"),
    d("comment_count", "comment_count", Kind::Number, "comments on the issue"),
];

/// A list spec's column `name` of `entity`: a dimension or one of the list columns.
pub fn list_column(entity: Entity, name: &str) -> Option<&'static Dimension> {
    let extra: &[Dimension] = match entity {
        Entity::Issue => ISSUE_LIST_COLUMNS,
        Entity::Sprint => &[],
    };
    find(entity, name).or_else(|| extra.iter().find(|d| d.name == name))
}

/// Every list column name of `entity` (dimensions first).
pub fn list_column_names(entity: Entity) -> Vec<&'static str> {
    let extra: &[Dimension] = match entity {
        Entity::Issue => ISSUE_LIST_COLUMNS,
        Entity::Sprint => &[],
    };
    dimensions(entity).iter().chain(extra).map(|d| d.name).collect()
}

pub fn dimensions(entity: Entity) -> &'static [Dimension] {
    match entity {
        Entity::Issue => ISSUE_DIMENSIONS,
        Entity::Sprint => SPRINT_DIMENSIONS,
    }
}

pub fn find(entity: Entity, name: &str) -> Option<&'static Dimension> {
    dimensions(entity).iter().find(|d| d.name == name)
}

/// The series group: `{"field": "as_of", "interval": "day"}` evaluates every metric once per bucket of the
/// spec's date range (issue entity only): measures count the rows whose own time field falls in the
/// bucket, snapshots are taken at the bucket's end. Not a column: nothing reads `f.as_of`.
pub const SERIES: &str = "as_of";

/// Date intervals for grouping by a timestamp dimension.
pub const INTERVALS: &[&str] = &["day", "week", "month", "quarter", "year"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_is_a_column_of_its_base_relation() {
        for e in [Entity::Issue, Entity::Sprint] {
            for dim in dimensions(e) {
                assert!(e.columns().contains(&dim.column), "{}.{}", e.as_str(), dim.column);
            }
            for name in list_column_names(e) {
                let dim = list_column(e, name).expect("listed");
                assert!(e.columns().contains(&dim.column), "{}.{}", e.as_str(), dim.column);
            }
        }
    }

    #[test]
    fn the_required_dimensions_exist() {
        for n in [
            "project",
            "issue_type",
            "status",
            "status_category",
            "priority",
            "assignee",
            "reporter",
            "label",
            "component",
            "epic",
            "board",
            "sprint",
            "created_at",
            "resolved_at",
        ] {
            assert!(find(Entity::Issue, n).is_some(), "{n}");
        }
        for n in ["board", "sprint", "state", "start_date", "complete_date"] {
            assert!(find(Entity::Sprint, n).is_some(), "{n}");
        }
        assert!(find(Entity::Issue, "tenant_id").is_none(), "tenant_id is never a dimension");
    }
}
