#!/usr/bin/env python3
"""Writes a Jira /rest/api/2/search response with N issues, each with a changelog of status, sprint,
story point and flag changes and two comments (the shape of tests/fixtures/jira/search_v2_server.json).
Usage: bench_ingest.py N > payload.json"""
import json, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
def t(day, hour):
    return f"2025-{1 + day // 28:02d}-{1 + day % 28:02d}T{hour:02d}:00:00.000+0000"
sprints = [f"com.atlassian.greenhopper.service.sprint.Sprint@{i:x}[id={i},rapidViewId={1 + i % 20},state=CLOSED,name=Sprint {i},goal=,startDate={t(i % 300, 9).replace('+0000', 'Z')},endDate={t(i % 300 + 14, 9).replace('+0000', 'Z')},completeDate={t(i % 300 + 14, 8).replace('+0000', 'Z')},sequence={i}]" for i in range(1, 201)]
issues = []
for k in range(1, n + 1):
    d = k % 280
    s = 1 + k % 200
    issues.append({"id": str(k), "key": f"BEN-{k}", "fields": {
        "summary": f"Issue {k}", "issuetype": {"name": "Story" if k % 4 else "Bug"}, "project": {"key": "BEN"},
        "status": {"name": "Done", "statusCategory": {"key": "done"}}, "priority": {"name": "Medium"},
        "assignee": {"displayName": f"dev{k % 12}"}, "reporter": {"displayName": "rita"},
        "created": t(d, 9), "updated": t(d + 9, 10), "resolutiondate": t(d + 9, 10), "labels": ["production"] if k % 7 == 0 else [],
        "components": [{"name": "backend"}], "description": "x" * 200, "customfield_10002": float(1 + k % 8), "customfield_10005": [sprints[s - 1]],
        "comment": {"comments": [{"author": {"displayName": "dev1"}, "body": "Looking.", "created": t(d + 1, 11)},
                                 {"author": {"displayName": "qa"}, "body": "Verified.", "created": t(d + 8, 11)}]}},
        "changelog": {"startAt": 0, "maxResults": 6, "total": 6, "histories": [
            {"created": t(d, 9), "items": [{"field": "Story Points", "fromString": None, "toString": str(1 + k % 8)}]},
            {"created": t(d, 10), "items": [{"field": "Sprint", "from": "", "to": str(s)}]},
            {"created": t(d + 2, 10), "items": [{"field": "status", "fromString": "To Do", "toString": "In Progress"}]},
            {"created": t(d + 3, 10), "items": [{"field": "Flagged", "fromString": None, "toString": "Impediment"}]},
            {"created": t(d + 4, 10), "items": [{"field": "Flagged", "fromString": "Impediment", "toString": None}]},
            {"created": t(d + 9, 10), "items": [{"field": "status", "fromString": "In Progress", "toString": "Done"}]}]}})
json.dump({"startAt": 0, "maxResults": n, "total": n, "issues": issues, "names": {"customfield_10002": "Story Points", "customfield_10005": "Sprint"}}, sys.stdout)
