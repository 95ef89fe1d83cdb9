#!/usr/bin/env python3
"""Generates hostile.json: hostile or broken AnalyticsSpecs, each with the outcome it must have.

Large cases are written compactly and expanded by the runners: `@@MB@@` stands for 1 MiB of "x", and
`@@10K:<json>@@` for that JSON repeated 10,000 times, comma-separated.
expect: "22023" (rejected by validation), "ok" (runs, every value bound as a parameter), or another
SQLSTATE raised before our code runs (e.g. 22P05: jsonb refuses \\u0000). `spec_text` is the JSON text
sent as-is (so cases can be invalid JSON for jsonb); both tiers run every case:
crates/analytics-core/src/spec/tests.rs (parse + compile, no panic) and src/tests/hostile.rs (in PostgreSQL).
Run: python3 tests/specs/hostile.py > tests/specs/hostile.json
"""
import json
import re

PAYLOADS = [
    "x'; DROP TABLE analytics.issues; --",
    '" OR 1=1 --',
    "1); SELECT pg_sleep(10); --",
    "$1",
    "$$; DROP TABLE analytics.issues; $$",
    "lead_time_p50; DELETE FROM analytics.issues",
    "f.id) FROM analytics.issues --",
    "tenant_id",
    "analytics.issues",
    "pg_catalog.pg_authid",
    "/* comment */ created",
    "{{labels}}",
]

cases = []

def add(name, spec, expect):
    text = spec if isinstance(spec, str) else json.dumps(spec)
    cases.append({"name": name, "spec_text": text, "expect": expect})

# SQL in every string position: rejected where a name is expected, bound where a value is expected.
for i, p in enumerate(PAYLOADS):
    add(f"sql in metric name #{i}", {"metrics": [p]}, "22023")
    add(f"sql in metric object name #{i}", {"metrics": [{"name": p}]}, "22023")
    # An alias that happens to be a plain identifier (e.g. "tenant_id") is just a column name.
    add(f"sql in alias #{i}", {"metrics": [{"name": "created", "alias": p}]}, "ok" if re.fullmatch(r"[a-z][a-z0-9_]*", p) else "22023")
    add(f"sql in aggregation #{i}", {"metrics": [{"name": "cycle_time", "aggregation": p}]}, "22023")
    add(f"sql in parameter name #{i}", {"metrics": [{"name": "escaped_defects", "params": {p: ["x"]}}]}, "22023")
    add(f"sql in group_by #{i}", {"metrics": ["created"], "group_by": [p]}, "22023")
    add(f"sql in interval #{i}", {"metrics": ["created"], "group_by": [{"field": "created_at", "interval": p}]}, "22023")
    add(f"sql in filter field #{i}", {"metrics": ["created"], "filters": [{"field": p, "operator": "eq", "value": "x"}]}, "22023")
    add(f"sql in operator #{i}", {"metrics": ["created"], "filters": [{"field": "priority", "operator": p, "value": "x"}]}, "22023")
    add(f"sql in date_range field #{i}", {"metrics": ["created"], "date_range": {"field": p, "from": "2025-01-01"}}, "22023")
    add(f"sql in date_range from #{i}", {"metrics": ["created"], "date_range": {"from": p}}, "22023")
    add(f"sql in date_range last #{i}", {"metrics": ["created"], "date_range": {"last": p}}, "22023")
    add(f"sql in sort field #{i}", {"metrics": ["created"], "sort_by": [p]}, "22023")
    add(f"sql in sort direction #{i}", {"metrics": ["created"], "sort_by": [{"field": "created", "direction": p}]}, "22023")
    add(f"sql in entity #{i}", {"entity": p, "metrics": ["created"]}, "22023")
    # Values are parameters: these run, safely.
    add(f"sql in filter value #{i}", {"metrics": ["created"], "filters": [{"field": "assignee", "operator": "eq", "value": p}]}, "ok")
    add(f"sql in filter list #{i}", {"metrics": ["created"], "filters": [{"field": "label", "operator": "in", "value": [p, "x"]}]}, "ok")
    add(f"sql in contains #{i}", {"metrics": ["created"], "filters": [{"field": "project", "operator": "contains", "value": p}]}, "ok")
    add(f"sql in parameter value #{i}", {"metrics": [{"name": "escaped_defects", "params": {"labels": [p]}}]}, "ok")
    # Lists: names are whitelisted, values bound.
    add(f"sql in list field #{i}", {"fields": ["key", p]}, "22023")
    add(f"sql in list field object #{i}", {"fields": [{"name": p}]}, "22023")
    add(f"sql in list alias #{i}", {"fields": [{"name": "summary", "alias": p}]}, "ok" if re.fullmatch(r"[a-z][a-z0-9_]*", p) else "22023")
    add(f"sql in metric filter #{i}", {"fields": ["key"], "filters": [{"metric": p}]}, "22023")
    add(f"sql in list filter value #{i}", {"fields": ["key", "summary"], "filters": [{"field": "assignee", "operator": "eq", "value": p}]}, "ok")
    add(f"sql in list parameter value #{i}", {"fields": ["key", {"name": "blocked_hours", "params": {"statuses": [p]}}]}, "ok")

# Unknown keys and wrong types.
for k in ["tenant_id", "sql", "where", "query", "raw_sql", "Metrics"]:
    add(f"unknown top-level key {k}", {"metrics": ["created"], k: "x'; DROP TABLE t; --"}, "22023")
add("unknown key in metric", {"metrics": [{"name": "created", "sql": "1"}]}, "22023")
add("unknown key in filter", {"metrics": ["created"], "filters": [{"field": "priority", "operator": "eq", "value": "High", "raw": "1=1"}]}, "22023")
add("unknown key in date_range", {"metrics": ["created"], "date_range": {"from": "2025-01-01", "until": "x"}}, "22023")
for v in [1, True, None, [], {}]:
    add(f"spec is {json.dumps(v)}", v, "22023")
for v in [1, True, "created", {}, [[1]], [None], [True], [[]]]:
    add(f"metrics is {json.dumps(v)}", {"metrics": v}, "22023")
for v in [1, "priority", {}, [1], [None], [{"field": 1}]]:
    add(f"group_by is {json.dumps(v)}", {"metrics": ["created"], "group_by": v}, "22023")
for v in [1, "x", {}, [1], [[]], [{"field": "priority"}], [{"field": "priority", "operator": "eq", "value": {"a": 1}}], [{"field": "priority", "operator": "eq", "value": ["a"]}]]:
    add(f"filters is {json.dumps(v)}", {"metrics": ["created"], "filters": v}, "22023")
for v in [1, "last 90 days", [], {"last": 90}, {"from": 20250101}, {"last_sprints": "6"}]:
    add(f"date_range is {json.dumps(v)}", {"metrics": ["created"], "date_range": v}, "22023")
for v in [1, "created", {}, [1], [{"direction": "desc"}]]:
    add(f"sort_by is {json.dumps(v)}", {"metrics": ["created"], "sort_by": v}, "22023" if v != "created" else "22023")
add("params not an object", {"metrics": [{"name": "stuck_count", "params": ["days", 3]}]}, "22023")
add("param of the wrong type", {"metrics": [{"name": "stuck_count", "params": {"days": "3; DROP"}}]}, "22023")
add("param too big for integer", {"metrics": [{"name": "stuck_count", "params": {"days": 99999999999}}]}, "22023")
add("param timestamp garbage", {"metrics": [{"name": "wip", "params": {"as_of": "yesterday; DROP"}}]}, "22023")

# Unicode tricks.
add("zero-width space in a name", {"metrics": ["cycle\u200btime"]}, "22023")
add("cyrillic a in a name", {"metrics": ["le\u0430d_time_p50"]}, "22023")
add("right-to-left override", {"metrics": ["\u202ecreated"]}, "22023")
add("full-width letters", {"metrics": ["\uff43reated"]}, "22023")
add("combining accent", {"metrics": ["created\u0301"]}, "22023")
add("unicode alias", {"metrics": [{"name": "created", "alias": "cr\u00e9\u00e9s"}]}, "22023")
add("unicode filter value runs", {"metrics": ["created"], "filters": [{"field": "assignee", "operator": "eq", "value": "J\u00fcrgen \u202e\u200b"}]}, "ok")
add("emoji in group field", {"metrics": ["created"], "group_by": ["\U0001F600"]}, "22023")

# NUL bytes never reach us: jsonb refuses them.
add("NUL in a metric name", '{"metrics": ["created\\u0000"]}', "22P05")
add("NUL in a filter value", '{"metrics": ["created"], "filters": [{"field": "assignee", "operator": "eq", "value": "a\\u0000b"}]}', "22P05")

# Sizes.
add("1 MB metric name", '{"metrics": ["@@MB@@"]}', "22023")
add("1 MB filter value", '{"metrics": ["created"], "filters": [{"field": "assignee", "operator": "eq", "value": "@@MB@@"}]}', "22023")
add("1 MB alias", '{"metrics": [{"name": "created", "alias": "@@MB@@"}]}', "22023")
add("1 MB parameter value", '{"metrics": [{"name": "escaped_defects", "params": {"labels": ["@@MB@@"]}}]}', "22023")
add("10k metrics", '{"metrics": [@@10K:"created"@@]}', "22023")
add("10k group_by", '{"metrics": ["created"], "group_by": [@@10K:"priority"@@]}', "22023")
add("10k filter values", '{"metrics": ["created"], "filters": [{"field": "priority", "operator": "in", "value": [@@10K:"High"@@]}]}', "22023")
add("1000 filter values run", {"metrics": ["created"], "filters": [{"field": "priority", "operator": "in", "value": [f"p{i}" for i in range(1000)]}]}, "ok")
add("10k filters", '{"metrics": ["created"], "filters": [@@10K:{"field": "priority", "operator": "eq", "value": "High"}@@]}', "22023")
deep = 1
for _ in range(500):
    deep = [deep]
add("deeply nested metrics", {"metrics": deep}, "22023")
deep_obj = {"a": 1}
for _ in range(500):
    deep_obj = {"a": deep_obj}
add("deeply nested unknown key", {"metrics": ["created"], "x": deep_obj}, "22023")

# Limits.
for v in [-1, 0, 1001, 10**20, 1.5, "10", None]:
    add(f"limit {json.dumps(v)}", {"metrics": ["created"], "limit": v}, "ok" if v is None else "22023")
add("limit 1000 runs", {"metrics": ["created"], "limit": 1000}, "ok")

# Dates.
add("inverted range", {"metrics": ["created"], "date_range": {"from": "2025-04-01", "to": "2025-01-01"}}, "22023")
add("empty range", {"metrics": ["created"], "date_range": {"from": "2025-04-01", "to": "2025-04-01"}}, "22023")
for v in ["0 days", "-5 days", "1000000 years", "5 fortnights", "days", "5"]:
    add(f"last {v}", {"metrics": ["created"], "date_range": {"last": v}}, "22023")
add("not a date", {"metrics": ["created"], "date_range": {"from": "2025-13-45x"}}, "22023")
add("impossible date", {"metrics": ["created"], "date_range": {"from": "2025-02-30"}}, "22023")
add("impossible month in a filter", {"metrics": ["created"], "filters": [{"field": "created_at", "operator": "gte", "value": "2025-13-01"}]}, "22023")
add("hour 25", {"metrics": ["created"], "date_range": {"to": "2025-01-01 25:00:00"}}, "22023")
add("last_sprints on issues", {"metrics": ["created"], "date_range": {"last_sprints": 3}}, "22023")
add("last_sprints 0", {"metrics": ["velocity"], "date_range": {"last_sprints": 0}}, "22023")
add("last_sprints and from", {"metrics": ["velocity"], "date_range": {"last_sprints": 3, "from": "2025-01-01"}}, "22023")
add("between inverted", {"metrics": ["created"], "filters": [{"field": "created_at", "operator": "between", "value": ["2025-05-01", "2025-01-01"]}]}, "22023")

# Duplicates, sorting, tenant.
add("duplicate metric", {"metrics": ["created", "created"]}, "22023")
add("duplicate alias", {"metrics": [{"name": "created", "alias": "n"}, {"name": "closed", "alias": "n"}]}, "22023")
add("alias equals a group column", {"metrics": [{"name": "created", "alias": "priority"}], "group_by": ["priority"]}, "22023")
add("duplicate group", {"metrics": ["created"], "group_by": ["priority", "priority"]}, "22023")
add("sort by something not selected", {"metrics": ["created"], "sort_by": ["closed"]}, "22023")
add("sort by a dimension not grouped", {"metrics": ["created"], "sort_by": ["priority"]}, "22023")
add("filter on tenant_id", {"metrics": ["created"], "filters": [{"field": "tenant_id", "operator": "eq", "value": "other"}]}, "22023")
add("filter on TENANT_ID", {"metrics": ["created"], "filters": [{"field": "TENANT_ID", "operator": "in", "value": ["other"]}]}, "22023")
add("group by tenant", {"metrics": ["created"], "group_by": ["tenant_id"]}, "22023")
add("aggregation not allowed", {"metrics": [{"name": "bug_count", "aggregation": "sum"}]}, "22023")
add("aggregation formula asked", {"metrics": [{"name": "created", "aggregation": "formula"}]}, "22023")
add("snapshot by date", {"metrics": ["wip"], "group_by": [{"field": "created_at", "interval": "month"}]}, "22023")
add("entities mixed", {"metrics": ["velocity", "created"]}, "22023")
add("operator does not fit field", {"metrics": ["created"], "filters": [{"field": "label", "operator": "between", "value": ["a", "b"]}]}, "22023")
add("list field tenant_id", {"fields": ["key", "tenant_id"]}, "22023")
add("list field id", {"fields": ["id"]}, "22023")
add("list of a count metric", {"fields": ["bug_count"]}, "22023")
add("list with metrics", {"fields": ["key"], "metrics": ["created"]}, "22023")
add("list with groups", {"fields": ["key"], "group_by": ["assignee"]}, "22023")
add("metric filter in an aggregate", {"metrics": ["created"], "filters": [{"metric": "stuck_count"}]}, "22023")
add("metric filter comparing a count", {"fields": ["key"], "filters": [{"metric": "bug_count", "operator": "gt", "value": 1}]}, "22023")
add("metric filter value is SQL", {"fields": ["key"], "filters": [{"metric": "blocked_hours", "operator": "gt", "value": "1); DROP TABLE t; --"}]}, "22023")
add("list sorted by a column not listed", {"fields": ["key"], "sort_by": ["priority"]}, "22023")
add("list fields is a string", {"fields": "key, summary"}, "22023")
add("is_null with a value", {"metrics": ["created"], "filters": [{"field": "assignee", "operator": "is_null", "value": "x"}]}, "22023")

print(json.dumps(cases, indent=1, ensure_ascii=True))
