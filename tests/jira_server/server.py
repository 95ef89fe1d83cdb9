#!/usr/bin/env python3
"""A scripted Jira on 127.0.0.1 that speaks the wire formats of Jira's REST API (issue 18; the peer
cross-check of issue 20 points the `jira` Python library at it). Standard library only.

It serves a generated site (deterministic for a seed): N issues in projects, each with a status history,
estimate changes and comments, on boards with sprints:

  Cloud   POST /rest/api/3/search/approximate-count  body {"jql"} -> {"count"}
          POST /rest/api/3/search/jql            body {"jql", "nextPageToken", "maxResults", "fields", "expand"}
                                                 -> {"issues", "nextPageToken"?, "isLast"}   (no "total")
          GET  /rest/api/3/search, /rest/api/2/search -> 410 Gone (Atlassian CHANGE-2046)
          GET  /rest/api/3/issue/{key}/changelog  ?startAt&maxResults -> {"values", "total", "isLast", ...}
          GET  /rest/api/3/issue/{key}/comment    ?startAt&maxResults -> {"comments", "total", ...}
  Server  GET  /rest/api/2/search                 ?jql&startAt&maxResults&expand&fields -> {"issues", "total", ...}
          GET  /rest/api/2/issue/{key}            ?expand=changelog (the whole changelog)
          GET  /rest/api/2/issue/{key}/comment    ?startAt&maxResults
  Both    GET  /rest/agile/1.0/board/{id}/sprint  ?startAt&maxResults -> {"values", "isLast", ...}
          GET  /rest/agile/1.0/board              ?startAt&maxResults
          GET  /rest/api/2|3/status (every status with its category)
          GET  /rest/api/2/field, /rest/api/3/field, /rest/api/2/serverInfo, /rest/api/2/myself

A search embeds at most `embed` changelog entries and comments per issue (as Jira truncates them); the
rest must be paged from the issue's endpoints. JQL: `project in (A, B)`, `project = A`,
`updated >= "yyyy/MM/dd HH:mm"` (the site's time zone, UTC here), `ORDER BY updated` / `key`; other
clauses are ignored.

Control (not Jira; for tests):
  POST /_control/update {"keys": [...], "add": n, "at": "2026-...", "delete": [...]}   change, add, delete issues
  POST /_control/faults [{"on": "search", "after": k, "status": 429, "retry_after": 1, "times": 1}, ...]
       status 429/503 (with Retry-After), "reset" (the connection dropped mid-response), "malformed" (JSON
       with a field of the wrong type), "truncated" (not JSON), "delay" (answered late: "seconds")
  GET  /_control/export[?part=sprints]   every issue whole (or every sprint), for analytics_ingest_jira
  GET  /_control/log          every request served, in order (searches: their JQL and the keys returned)
Auth: Cloud Basic (email:api_token); Server Bearer (a personal access token) or Basic (user:password,
as JAM's client sends it); anything else is 401.

Usage: server.py --port P [--flavor cloud|server] [--issues N] [--seed S] [--embed E] [--page-limit M] [--history H]
                 [--email E --api-token T | --token T] [--port-file F]
"""

import argparse
import base64
import json
import random
import re
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATUSES = [("To Do", "new", 2), ("In Progress", "indeterminate", 3), ("In Review", "indeterminate", 4),
            ("QA", "indeterminate", 5), ("Done", "done", 6)]
POINTS_FIELD = "customfield_10016"
SPRINT_FIELD = "customfield_10020"
POINTS_FIELD_SERVER = "customfield_10002"
SPRINT_FIELD_SERVER = "customfield_10005"


def jira_time(t, flavor):
    # Jira writes 2025-03-01T10:00:00.000+0000 (Server) / +0000 with millis (Cloud alike).
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


class Site:
    """The generated data: issues with histories, comments, sprints per board."""

    def __init__(self, n, seed, flavor, start=datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc), history=None):
        self.flavor = flavor
        self.history = history
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.projects = ["PAY", "WEB"]
        self.boards = {1: ("Payments", "PAY"), 2: ("Web", "WEB")}
        self.sprints = {}  # id -> dict
        sid = 100
        for b, (_, _) in self.boards.items():
            t = start
            for k in range(12):
                sid += 1
                end = t + timedelta(days=14)
                closed = k < 10
                self.sprints[sid] = {"id": sid, "board": b, "name": f"{self.boards[b][0]} Sprint {k + 1}",
                                     "state": "closed" if closed else ("active" if k == 10 else "future"),
                                     "startDate": t if k <= 10 else None, "endDate": end if k <= 10 else None,
                                     "completeDate": (end - timedelta(hours=1)) if closed else None}
                t = end
        self.issues = []  # dicts, in creation order
        self.start = start
        self.generation = 0  # bumped by every update: the key of the caches below
        self.selected = {}  # (jql, generation) -> the issues it selects, in order
        for i in range(n):
            self.issues.append(self._make(i))

    def _make(self, i):
        rng = self.rng
        project = self.projects[i % len(self.projects)]
        board = 1 if project == "PAY" else 2
        number = sum(1 for x in self.issues if x["project"] == project) + 1
        created = self.start + timedelta(hours=rng.randrange(0, 24 * 7 * 20))
        board_sprints = [s for s in self.sprints.values() if s["board"] == board and s["startDate"]]
        sprint = next((s for s in board_sprints if s["startDate"] <= created + timedelta(days=2) < s["endDate"]), None)
        history = []
        t = created
        steps = rng.randrange(1, len(STATUSES)) if self.history is None else min(self.history - 1, len(STATUSES) - 1)
        hid = 10000 + i * 100
        for k in range(steps):
            t = t + timedelta(hours=rng.randrange(2, 96))
            hid += 1
            history.append({"id": str(hid), "author": {"displayName": f"dev{rng.randrange(1, 6)}"}, "created": t,
                            "items": [{"field": "status", "fieldtype": "jira", "from": str(STATUSES[k][2]),
                                       "fromString": STATUSES[k][0], "to": str(STATUSES[k + 1][2]),
                                       "toString": STATUSES[k + 1][0]}]})
        points = rng.choice([1, 2, 3, 5, 8, None]) if self.history is None else rng.choice([1, 2, 3, 5, 8])
        if points is not None:
            hid += 1
            history.insert(0, {"id": str(hid), "author": {"displayName": "po"}, "created": created + timedelta(minutes=5),
                               "items": [{"field": "Story Points", "fieldtype": "custom", "fieldId": POINTS_FIELD,
                                          "from": None, "fromString": None, "to": None, "toString": str(points)}]})
        while self.history is not None and len(history) < self.history:  # pad with reassignments
            t = t + timedelta(hours=1)
            hid += 1
            history.append({"id": str(hid), "author": {"displayName": "lead"}, "created": t,
                            "items": [{"field": "assignee", "fieldtype": "jira", "from": None, "fromString": "dev1",
                                       "to": None, "toString": f"dev{rng.randrange(2, 6)}"}]})
        comments = [{"id": str(500000 + i * 10 + c), "author": {"displayName": f"dev{c + 1}"},
                     "body": f"Comment {c + 1} on {project}-{number}", "created": created + timedelta(hours=c + 1)}
                    for c in range(2)]
        status = STATUSES[steps]
        return {"id": str(20000 + i), "key": f"{project}-{number}", "project": project, "created": created,
                "updated": max([created] + [h["created"] for h in history] + [c["created"] for c in comments]),
                "status": status, "points": points, "sprint": sprint["id"] if sprint else None,
                "history": history, "comments": comments, "summary": f"Issue {i + 1}", "type": "Story" if i % 4 else "Bug"}

    def update(self, keys, add, at, delete=()):
        with self.lock:
            self.issues = [i for i in self.issues if i["key"] not in delete]
            at = at or datetime.now(timezone.utc)
            changed = []
            for iss in self.issues:
                if iss["key"] in keys:
                    iss["summary"] += " (edited)"
                    iss["updated"] = at
                    changed.append(iss["key"])
            for _ in range(add):
                iss = self._make(len(self.issues))
                iss["created"] = iss["updated"] = at
                for h in iss["history"]:
                    h["created"] = at
                for c in iss["comments"]:
                    c["created"] = at
                self.issues.append(iss)
                changed.append(iss["key"])
            # Last, so that a search read during the update is not kept for the data after it.
            self.generation += 1
            self.selected = {}
            return changed

    # --- JSON shapes ---------------------------------------------------------------------------------
    def history_json(self, h):
        return {"id": h["id"], "author": h["author"], "created": jira_time(h["created"], self.flavor), "items": h["items"]}

    def comment_json(self, c):
        body = c["body"]
        if self.flavor == "cloud":  # Atlassian Document Format
            body = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": body}]}]}
        return {"id": c["id"], "author": c["author"], "body": body, "created": jira_time(c["created"], self.flavor)}

    def sprint_json(self, s):
        out = {"id": s["id"], "self": f"/rest/agile/1.0/sprint/{s['id']}", "state": s["state"], "name": s["name"],
               "originBoardId": s["board"], "goal": ""}
        for k in ("startDate", "endDate", "completeDate"):
            if s[k]:
                out[k] = s[k].strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return out

    def issue_json(self, iss, embed, changelog=True):
        st = iss["status"]
        pf, sf = (POINTS_FIELD, SPRINT_FIELD) if self.flavor == "cloud" else (POINTS_FIELD_SERVER, SPRINT_FIELD_SERVER)
        sprint_value = None
        if iss["sprint"]:
            s = self.sprints[iss["sprint"]]
            if self.flavor == "cloud":
                sprint_value = [{"id": s["id"], "name": s["name"], "state": s["state"], "boardId": s["board"]}]
            else:
                sprint_value = [f"com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id={s['id']},rapidViewId={s['board']},"
                                f"state={s['state'].upper()},name={s['name']},startDate=<null>,endDate=<null>,completeDate=<null>,sequence={s['id']}]"]
        fields = {
            "summary": iss["summary"], "issuetype": {"name": iss["type"]},
            "status": {"name": st[0], "id": str(st[2]), "statusCategory": {"key": st[1]}},
            "priority": {"name": "Medium"}, "assignee": {"displayName": "dev1"}, "reporter": {"displayName": "po"},
            "project": {"key": iss["project"]}, "labels": [], "components": [],
            "created": jira_time(iss["created"], self.flavor), "updated": jira_time(iss["updated"], self.flavor),
            "resolutiondate": jira_time(iss["history"][-1]["created"], self.flavor) if st[1] == "done" else None,
            "resolution": {"name": "Done"} if st[1] == "done" else None,
            pf: iss["points"], sf: sprint_value, "customfield_10021": None,
            "comment": {"startAt": 0, "maxResults": embed, "total": len(iss["comments"]),
                        "comments": [self.comment_json(c) for c in iss["comments"][:embed]]},
        }
        out = {"id": iss["id"], "key": iss["key"], "self": f"/rest/api/2/issue/{iss['id']}", "fields": fields}
        if changelog:
            h = iss["history"]
            shown = h if embed is None else h[:embed]
            out["changelog"] = {"startAt": 0, "maxResults": len(shown), "total": len(h), "histories": [self.history_json(x) for x in shown]}
        return out

    def names(self):
        pf, sf = (POINTS_FIELD, SPRINT_FIELD) if self.flavor == "cloud" else (POINTS_FIELD_SERVER, SPRINT_FIELD_SERVER)
        return {"summary": "Summary", "status": "Status", pf: "Story point estimate" if self.flavor == "cloud" else "Story Points",
                sf: "Sprint", "customfield_10021": "Flagged", "created": "Created", "updated": "Updated",
                "resolution": "Resolution", "resolutiondate": "Resolved", "issuetype": "Issue Type"}

    def select(self, jql):
        """The issues a JQL selects, in its order (updated or key; default key). Each page of a search
        asks again: the answer is kept until the next update, so paging 10,000 issues does not sort
        them again per page (the benchmark's HTTP floor is this server's cost)."""
        key = (jql, self.generation)
        if key not in self.selected:
            self.selected = {key: self._select(jql)}
        return self.selected[key]

    def _select(self, jql):
        items = list(self.issues)
        m = re.search(r"project\s*(?:in\s*\(([^)]*)\)|=\s*\"?(\w+)\"?)", jql or "", re.I)
        if m:
            keys = [k.strip().strip('"') for k in (m.group(1) or m.group(2)).split(",")]
            items = [i for i in items if i["project"] in keys]
        m = re.search(r"updated\s*>=\s*\"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d)\"", jql or "", re.I)
        if m:
            since = datetime(*map(int, m.groups()), tzinfo=timezone.utc)
            items = [i for i in items if i["updated"] >= since]
        if re.search(r"order\s+by\s+updated", jql or "", re.I):
            items.sort(key=lambda i: (i["updated"], int(i["id"])))
        else:
            items.sort(key=lambda i: int(i["id"]))
        return items


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall on kept-alive connections
    server_version = "ScriptedJira/1"

    def log_message(self, *args):  # quiet; the request log is /_control/log
        pass

    # --- plumbing ------------------------------------------------------------------------------------
    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        if hasattr(self, "entry"):
            self.entry["sent"] = round(time.time(), 4)  # with "received": the server's own time per request

    def body(self):
        """The JSON body, read once, before any answer (an unread body would be taken for the next
        request on a kept-alive connection)."""
        if not hasattr(self, "_body"):
            n = int(self.headers.get("Content-Length") or 0)
            self._body = json.loads(self.rfile.read(n) or b"{}") if n else {}
        return self._body

    def authorized(self):
        cfg = self.server.cfg
        auth = self.headers.get("Authorization") or ""
        basic = "Basic " + base64.b64encode(f"{cfg.email}:{cfg.api_token}".encode()).decode()
        # Server/DC takes a personal access token, or (as JAM's client sends) user and password.
        return auth == basic or (cfg.flavor == "server" and auth == f"Bearer {cfg.token}")

    def returned(self, jql, page):
        """Notes in the request log which issues a search returned."""
        with self.server.lock:
            self.entry["jql"] = jql
            self.entry["returned"] = [i["key"] for i in page]

    def fault(self, kind):
        """Applies the first matching fault: True when the request was answered by it."""
        with self.server.lock:
            self.server.counts[kind] = self.server.counts.get(kind, 0) + 1
            n = self.server.counts[kind]
            for f in self.server.faults:
                if f.get("on") in (kind, "any") and n > f.get("after", 0) and f.get("times", 1) > 0:
                    f["times"] = f.get("times", 1) - 1
                    break
            else:
                return False
        status = f.get("status")
        if status == "delay":  # answered normally, late (a slow page)
            time.sleep(float(f.get("seconds", 1)))
            return False
        if status == "reset":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"issues\": [")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return True
        if status == "malformed":
            self.send(200, {"startAt": 0, "maxResults": 1, "total": 1, "isLast": False, "nextPageToken": "x",
                            "issues": [{"id": "1", "key": "BROKEN-1", "fields": {"created": 42, "updated": "2026-01-01T00:00:00.000+0000"}}]})
            return True
        if status == "truncated":
            self.send(200, b'{"issues": [{"key": "BROKEN-1", "fields": {"created": 4')
            return True
        headers = {"Retry-After": str(f["retry_after"])} if "retry_after" in f else {}
        self.send(int(status), {"errorMessages": [f"scripted {status}"]}, headers)
        return True

    def route(self, method):
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if hasattr(self, "_body"):
            del self._body
        self.body()
        self.entry = {"method": method, "path": url.path, "query": q, "received": round(time.time(), 4)}
        with self.server.lock:
            self.server.log.append(self.entry)
        site, cfg = self.server.site, self.server.cfg
        p = url.path
        if p.startswith("/_control/"):
            return self.control(method, p)
        if not self.authorized():
            return self.send(401, {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."]})
        limit = cfg.page_limit
        if p in ("/rest/api/2/serverInfo", "/rest/api/3/serverInfo"):
            return self.send(200, {"baseUrl": f"http://127.0.0.1:{self.server.server_port}", "version": "9.12.0" if cfg.flavor == "server" else "1001.0.0",
                                   "versionNumbers": [9, 12, 0] if cfg.flavor == "server" else [1001, 0, 0],
                                   "deploymentType": "Cloud" if cfg.flavor == "cloud" else "Server"})
        if p in ("/rest/api/2/myself", "/rest/api/3/myself"):
            return self.send(200, {"displayName": "Scripted", "accountId": "scripted", "timeZone": "UTC"})
        if p in ("/rest/api/2/status", "/rest/api/3/status"):
            return self.send(200, [{"id": str(i), "name": n, "statusCategory": {"key": k}} for n, k, i in STATUSES])
        if p in ("/rest/api/2/field", "/rest/api/3/field"):
            return self.send(200, [{"id": k, "name": v, "custom": k.startswith("customfield_")} for k, v in site.names().items()])
        if cfg.flavor == "cloud" and p in ("/rest/api/3/search", "/rest/api/2/search"):
            return self.send(410, {"errorMessages": ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]})
        if cfg.flavor == "cloud" and p == "/rest/api/3/search/approximate-count" and method == "POST":
            return self.send(200, {"count": len(site.select(self.body().get("jql")))})
        if cfg.flavor == "cloud" and p == "/rest/api/3/search/jql" and method == "POST":
            if self.fault("search"):
                return
            b = self.body()
            n = min(int(b.get("maxResults") or 50), limit)
            items = site.select(b.get("jql"))
            start = int(b.get("nextPageToken") or "0") if str(b.get("nextPageToken") or "0").isdigit() else 0
            page = items[start:start + n]
            self.returned(b.get("jql"), page)
            out = {"issues": [site.issue_json(i, cfg.embed, "changelog" in str(b.get("expand") or "")) for i in page],
                   "isLast": start + n >= len(items)}
            if not out["isLast"]:
                out["nextPageToken"] = str(start + n)
            if "names" in str(b.get("expand") or ""):
                out["names"] = site.names()
            return self.send(200, out)
        if cfg.flavor == "server" and p == "/rest/api/2/search":
            if self.fault("search"):
                return
            n = min(int(q.get("maxResults", 50)), limit)
            start = int(q.get("startAt", 0))
            items = site.select(q.get("jql"))
            self.returned(q.get("jql"), items[start:start + n])
            out = {"expand": "names,schema", "startAt": start, "maxResults": n, "total": len(items),
                   "issues": [site.issue_json(i, cfg.embed, "changelog" in q.get("expand", "")) for i in items[start:start + n]]}
            if "names" in q.get("expand", ""):
                out["names"] = site.names()
            return self.send(200, out)
        m = re.fullmatch(r"/rest/api/(2|3)/issue/([A-Z]+-\d+)(/changelog|/comment)?", p)
        if m:
            iss = next((i for i in site.issues if i["key"] == m.group(2)), None)
            if iss is None:
                return self.send(404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]})
            if self.fault("issue"):
                return
            start, n = int(q.get("startAt", 0)), min(int(q.get("maxResults", 100)), limit)
            if m.group(3) == "/changelog" and cfg.flavor == "cloud":
                h = iss["history"][start:start + n]
                return self.send(200, {"self": p, "startAt": start, "maxResults": n, "total": len(iss["history"]),
                                       "isLast": start + n >= len(iss["history"]), "values": [site.history_json(x) for x in h]})
            if m.group(3) == "/comment":
                c = iss["comments"][start:start + n]
                return self.send(200, {"startAt": start, "maxResults": n, "total": len(iss["comments"]),
                                       "comments": [site.comment_json(x) for x in c]})
            if m.group(3) is None:
                return self.send(200, site.issue_json(iss, None, "changelog" in q.get("expand", "")))
        m = re.fullmatch(r"/rest/agile/1\.0/board/(\d+)/sprint", p)
        if m:
            if self.fault("sprints"):
                return
            board = int(m.group(1))
            if board not in site.boards:
                return self.send(404, {"errorMessages": [f"Board {board} does not exist."]})
            start, n = int(q.get("startAt", 0)), min(int(q.get("maxResults", 50)), limit)
            ss = [s for s in site.sprints.values() if s["board"] == board]
            return self.send(200, {"maxResults": n, "startAt": start, "isLast": start + n >= len(ss),
                                   "values": [site.sprint_json(s) for s in ss[start:start + n]]})
        if p == "/rest/agile/1.0/board":
            vals = [{"id": b, "name": name, "type": "scrum", "location": {"projectKey": proj}} for b, (name, proj) in site.boards.items()]
            return self.send(200, {"maxResults": 50, "startAt": 0, "total": len(vals), "isLast": True, "values": vals})
        return self.send(404, {"errorMessages": [f"no route {method} {p}"]})

    def control(self, method, p):
        if p == "/_control/log":
            with self.server.lock:
                return self.send(200, self.server.log)
        if p == "/_control/export":
            # The whole site as analytics_ingest_jira takes it: one search response with every issue whole
            # (changelog and comments), or (?part=sprints) every sprint.
            site = self.server.site
            if "part=sprints" in self.path:
                return self.send(200, {"values": [site.sprint_json(x) for x in site.sprints.values()]})
            return self.send(200, {"issues": [site.issue_json(i, None) for i in site.issues], "names": site.names()})
        if p == "/_control/update" and method == "POST":
            b = self.body()
            at = datetime.fromisoformat(b["at"]) if b.get("at") else None
            changed = self.server.site.update(set(b.get("keys", [])), int(b.get("add", 0)), at, set(b.get("delete", [])))
            return self.send(200, {"changed": changed})
        if p == "/_control/faults" and method == "POST":
            with self.server.lock:
                self.server.faults = self.body()
                self.server.counts = {}
            return self.send(200, {"ok": True})
        return self.send(404, {"errorMessages": ["unknown control"]})

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--flavor", choices=["cloud", "server"], default="cloud")
    ap.add_argument("--issues", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--embed", type=int, default=3, help="changelog entries and comments a search embeds per issue")
    ap.add_argument("--history", type=int, help="exactly this many changelog entries per issue (else 1 to 5)")
    ap.add_argument("--page-limit", type=int, default=100, help="the most items a page holds, whatever maxResults asks")
    ap.add_argument("--email", default="bot@example.com")
    ap.add_argument("--api-token", default="scripted-token")
    ap.add_argument("--token", default="scripted-pat")
    cfg = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    httpd.cfg, httpd.site, httpd.lock = cfg, Site(cfg.issues, cfg.seed, cfg.flavor, history=cfg.history), threading.Lock()
    httpd.log, httpd.faults, httpd.counts = [], [], {}
    if cfg.port_file:
        with open(cfg.port_file, "w") as f:
            f.write(str(httpd.server_port))
    httpd.serve_forever()


if __name__ == "__main__":
    main()
