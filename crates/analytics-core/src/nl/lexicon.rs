//! The fixed vocabulary of the builtin translator: words for dimensions, ranking, aggregations and
//! negation, value aliases, and the filler words a question may contain without changing its meaning.
//! Lists are written as plain words and stemmed with [`super::text::stem`] when used.

use super::text::stem;
use std::collections::HashSet;
use std::sync::OnceLock;

/// Words that introduce a grouping: "by board", "per assignee", "for each sprint", "which team".
pub const GROUP_CUES: &[&str] = &["by", "per", "each", "every", "across", "which", "what", "between", "among", "compare", "comparing"];

/// Words allowed between a grouping cue and its dimension word: "by their board", "which of our teams".
pub const GROUP_FILLER: &[&str] =
    &["the", "a", "an", "our", "their", "my", "of", "all", "different", "issue", "ticket", "calendar", "single"];

/// Dimension words (stemmed phrases) and the dimension they name. Time words map to an interval of the
/// metric's own date (`@week` etc.).
pub const DIMENSION_WORDS: &[(&str, &str)] = &[
    ("board", "board"),
    ("team", "board"),
    ("squad", "board"),
    ("assignee", "assignee"),
    ("person", "assignee"),
    ("people", "assignee"),
    ("developer", "assignee"),
    ("engineer", "assignee"),
    ("dev", "assignee"),
    ("owner", "assignee"),
    ("team member", "assignee"),
    ("member", "assignee"),
    ("individual", "assignee"),
    ("user", "assignee"),
    ("who", "assignee"),
    ("whom", "assignee"),
    ("reporter", "reporter"),
    ("issue type", "issue_type"),
    ("type", "issue_type"),
    ("work type", "issue_type"),
    ("kind", "issue_type"),
    ("priority", "priority"),
    ("priority level", "priority"),
    ("severity", "priority"),
    ("project", "project"),
    ("product", "project"),
    ("sprint", "sprint"),
    ("iteration", "sprint"),
    ("status", "status"),
    ("state", "status"),
    ("status category", "status_category"),
    ("stage", "status_category"),
    ("label", "label"),
    ("tag", "label"),
    ("component", "component"),
    ("module", "component"),
    ("epic", "epic"),
    ("day", "@day"),
    ("week", "@week"),
    ("month", "@month"),
    ("quarter", "@quarter"),
    ("year", "@year"),
];

/// Adjectives that group by a time interval wherever they appear ("weekly bugs", "monthly lead time");
/// `trend` is by month for issue metrics and sprint by sprint for sprint metrics.
pub const INTERVAL_WORDS: &[(&str, &str)] = &[
    ("daily", "day"),
    ("weekly", "week"),
    ("monthly", "month"),
    ("quarterly", "quarter"),
    ("yearly", "year"),
    ("annual", "year"),
    ("annually", "year"),
    ("week over week", "week"),
    ("month over month", "month"),
    ("over time", "trend"),
    ("trend", "trend"),
    ("trending", "trend"),
];

/// Names of standard reports, read as the metrics they chart: a cumulative flow diagram is the backlog,
/// the work in progress and the work done, at the end of each day (an as_of series).
pub const REPORT_NAMES: &[(&str, &str)] = &[
    ("cumulative flow diagram", "backlog vs wip vs done to date daily"),
    ("cumulative flow chart", "backlog vs wip vs done to date daily"),
    ("cumulative flow", "backlog vs wip vs done to date daily"),
    ("cfd", "backlog vs wip vs done to date daily"),
    ("created vs resolved", "created vs closed"),
    ("created versus resolved", "created vs closed"),
    // A sprint's burndown and burnup, day by day (the current sprint unless one is named).
    ("burndown chart", "sprint_remaining_sp vs sprint_guideline_sp daily"),
    ("burn down chart", "sprint_remaining_sp vs sprint_guideline_sp daily"),
    ("burn-down chart", "sprint_remaining_sp vs sprint_guideline_sp daily"),
    ("burndown", "sprint_remaining_sp vs sprint_guideline_sp daily"),
    ("burn down", "sprint_remaining_sp vs sprint_guideline_sp daily"),
    ("burn-down", "sprint_remaining_sp vs sprint_guideline_sp daily"),
    ("burnup chart", "sprint_done_sp vs sprint_scope_sp daily"),
    ("burn up chart", "sprint_done_sp vs sprint_scope_sp daily"),
    ("burn-up chart", "sprint_done_sp vs sprint_scope_sp daily"),
    ("burnup", "sprint_done_sp vs sprint_scope_sp daily"),
    ("burn up", "sprint_done_sp vs sprint_scope_sp daily"),
    ("burn-up", "sprint_done_sp vs sprint_scope_sp daily"),
];

/// Ranking words and their direction: `desc` (largest first), `asc`, or `worse`/`better` (depends on
/// whether the metric is better high or low).
pub const RANK_WORDS: &[(&str, &str)] = &[
    ("top", "desc"),
    ("most", "desc"),
    ("highest", "desc"),
    ("biggest", "desc"),
    ("largest", "desc"),
    ("longest", "desc"),
    ("slowest", "desc"),
    ("maximum", "desc"),
    ("greatest", "desc"),
    ("heaviest", "desc"),
    ("lowest", "asc"),
    ("least", "asc"),
    ("fewest", "asc"),
    ("smallest", "asc"),
    ("shortest", "asc"),
    ("fastest", "asc"),
    ("quickest", "asc"),
    ("bottom", "asc"),
    ("minimum", "asc"),
    ("worst", "worse"),
    ("best", "better"),
    ("poorest", "worse"),
    ("weakest", "worse"),
    ("strongest", "better"),
];

/// Aggregation words (stemmed phrases) and the aggregation they ask for.
pub const AGGREGATION_WORDS: &[(&str, &str)] = &[
    ("average", "avg"),
    ("mean", "avg"),
    ("avg", "avg"),
    ("median", "p50"),
    ("typical", "p50"),
    ("p50", "p50"),
    ("p70", "p70"),
    ("70th percentile", "p70"),
    ("p75", "p75"),
    ("75th percentile", "p75"),
    ("p85", "p85"),
    ("85th percentile", "p85"),
    ("p90", "p90"),
    ("90th percentile", "p90"),
    ("p95", "p95"),
    ("95th percentile", "p95"),
    ("total", "sum"),
    ("sum", "sum"),
    ("sum of", "sum"),
    ("overall", "sum"),
    ("max", "max"),
    ("min", "min"),
];

/// Words that negate the value after them: "excluding bugs", "not in the Web team", "non-bug issues".
pub const NEGATIONS: &[&str] = &["not", "excluding", "exclude", "except", "without", "besides", "ignoring", "ignore", "minus"];
/// Two-word negations.
pub const NEGATION_PHRASES: &[&str] = &["other than", "apart from", "aside from", "leaving out", "leave out", "outside of", "outside"];

/// Words for values that are not spelled as in the data: (dimension, stemmed phrase, value as stored).
/// An alias applies only when the tenant really has that value.
pub const VALUE_ALIASES: &[(&str, &str, &str)] = &[
    ("issue_type", "defect", "Bug"),
    ("issue_type", "user story", "Story"),
    ("issue_type", "feature", "Story"),
    ("issue_type", "spike", "Spike"),
    ("issue_type", "chore", "Task"),
    ("status_category", "unresolved", "!done"),
    ("status_category", "open", "!done"),
    ("status_category", "not done", "!done"),
    ("status_category", "unfinished", "!done"),
    ("status_category", "outstanding", "!done"),
    ("status_category", "pending", "!done"),
    ("priority", "critical", "Highest"),
    ("priority", "urgent", "Highest"),
    ("priority", "blocker", "Highest"),
    ("priority", "p1", "Highest"),
    ("priority", "p2", "High"),
    ("priority", "p3", "Medium"),
    ("priority", "p4", "Low"),
];

/// Filler: words that carry no meaning for the spec. A question word that is none of filler, a metric
/// phrase, a value, a period or one of the lists above makes the translator ask instead of guessing.
pub const FILLER: &[&str] = &[
    "a",
    // Forecast questions: "the remaining stories", "how many are left".
    "remaining",
    "left",
    "about",
    "across",
    "actually",
    "after",
    "again",
    "all",
    "along",
    "also",
    "am",
    "amount",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "around",
    "as",
    "at",
    "average",
    "be",
    "been",
    "before",
    "being",
    "both",
    "breakdown",
    "broken",
    "bucket",
    "by",
    "can",
    "chart",
    "check",
    "compare",
    "compared",
    "comparison",
    "could",
    "count",
    "current",
    "currently",
    "data",
    "did",
    "do",
    "doe",
    "doing",
    "done",
    "down",
    "during",
    "each",
    "ever",
    "every",
    "far",
    "figure",
    "find",
    "for",
    "from",
    "get",
    "give",
    "go",
    "going",
    "got",
    "graph",
    "group",
    "grouped",
    "ha",
    "had",
    "has",
    "have",
    "having",
    "how",
    "i",
    "in",
    "including",
    "into",
    "is",
    "it",
    "item",
    "its",
    "just",
    "know",
    "last",
    "latest",
    "let",
    "level",
    "like",
    "list",
    "look",
    "looking",
    "many",
    "me",
    "measure",
    "metric",
    "much",
    "my",
    "need",
    "number",
    "of",
    "on",
    "our",
    "over",
    "per",
    "please",
    "quick",
    "rank",
    "ranked",
    "ranking",
    "report",
    "see",
    "show",
    "so",
    "sorted",
    "split",
    "stat",
    "statistic",
    "summary",
    "tell",
    "than",
    "that",
    "the",
    "their",
    "them",
    "there",
    "these",
    "they",
    "this",
    "those",
    "ticket",
    "time",
    "to",
    "us",
    "value",
    "vs",
    "versus",
    "want",
    "wa",
    "was",
    "we",
    "well",
    "were",
    "what",
    "whats",
    "what's",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "work",
    "would",
    "you",
    "your",
    "issue",
    "overview",
    "currently",
    "right",
    "now",
    "recently",
    "so",
    "far",
    "versu",
    "pull",
    "display",
    "calculate",
    "compute",
    "return",
    "ha",
    "up",
    "going",
    "trend",
    "along",
    "across",
    "team's",
    "teams'",
    "s",
    "had",
    "getting",
    "got",
    "most",
    "more",
    "less",
    "make",
    "made",
    "take",
    "took",
    "taken",
    "taking",
    "lately",
    "across",
    "whole",
    "entire",
    "everyone",
    "everybody",
    "anyone",
    "here",
    "some",
    "should",
    "been",
    "biggest",
    "only",
    "were",
    "still",
    "yet",
    "already",
    "happen",
    "happened",
    "happening",
    "there",
    "look",
    "like",
    "kind",
    "sort",
    "one",
    "ones",
];

/// Words in the spec vocabulary that are also ordinary words: a value spelled only with these needs its
/// dimension named next to it ("high priority", "status done", "label performance") to count as a filter.
pub const COMMON: &[&str] = &[
    "done",
    "open",
    "closed",
    "new",
    "high",
    "low",
    "medium",
    "highest",
    "lowest",
    "todo",
    "to",
    "do",
    "in",
    "progress",
    "data",
    "core",
    "web",
    "performance",
    "security",
    "review",
    "ready",
    "backlog",
    "active",
    "future",
    "api",
    "doc",
    "ops",
    "search",
    "design",
    "mobile",
    "infra",
    "ux",
    "none",
    "other",
    "misc",
    "general",
    "test",
    "testing",
    "qa",
];

fn stemmed(list: &'static [&'static str]) -> HashSet<String> {
    list.iter().map(|w| stem(w)).collect()
}

/// Whether a stemmed word is filler.
pub fn is_filler(w: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| stemmed(FILLER)).contains(w)
}

/// Whether a stemmed word is an ordinary word (filler or [`COMMON`]).
pub fn is_common(w: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| stemmed(COMMON)).contains(w) || is_filler(w)
}

/// Whether a stemmed word may stand between a grouping cue and its dimension word.
pub fn is_group_filler(w: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| stemmed(GROUP_FILLER)).contains(w)
}

/// Whether a stemmed word is a grouping cue.
pub fn is_group_cue(w: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| stemmed(GROUP_CUES)).contains(w)
}

/// Words that ask to compare values side by side ("A vs B", "compare A and B").
pub const COMPARE_WORDS: &[&str] = &["vs", "versus", "compare", "compared", "comparing", "comparison", "between", "against"];

pub fn is_compare(w: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| stemmed(COMPARE_WORDS)).contains(w)
}

/// Number words up to twelve, for "last six sprints", "top three boards".
pub fn number_word(w: &str) -> Option<u32> {
    const N: [&str; 12] = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    N.iter().position(|n| *n == w).map(|i| i as u32 + 1)
}
