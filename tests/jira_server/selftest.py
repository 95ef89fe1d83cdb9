#!/usr/bin/env python3
"""Checks the scripted Jira (server.py) against the shapes the sync relies on: both flavours page through
every issue (by token and by offset), truncated changelogs and comments complete from the issue
endpoints, the removed search endpoints answer 410 on Cloud, bad credentials 401, sprints page by
isLast, `updated >=` selects changed issues, and faults come as scripted. Exits non-zero on a mismatch.
Usage: selftest.py   (starts its own servers on free ports of 127.0.0.1)"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def start(flavor, issues=120):
    pf = tempfile.mktemp()
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--flavor", flavor, "--issues", str(issues),
                          "--port-file", pf, "--page-limit", "25"])
    for _ in range(100):
        if os.path.exists(pf) and open(pf).read():
            return p, int(open(pf).read())
        time.sleep(0.05)
    raise SystemExit("server did not start")


def call(port, method, path, body=None, auth=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **({"Authorization": auth} if auth else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def check(cond, what):
    if not cond:
        raise SystemExit(f"selftest: {what}")


def main():
    cloud, cport = start("cloud")
    server, sport = start("server")
    try:
        basic = "Basic " + base64.b64encode(b"bot@example.com:scripted-token").decode()
        bearer = "Bearer scripted-pat"
        check(call(cport, "POST", "/rest/api/3/search/jql", {"jql": ""}, "Basic eA==")[0] == 401, "bad credentials are 401")
        check(call(cport, "GET", "/rest/api/2/search?jql=", auth=basic)[0] == 410, "the old search is gone on Cloud")
        # Cloud: token paging, 25 per page whatever is asked, no total.
        keys, token, pages = [], None, 0
        while True:
            st, page, _ = call(cport, "POST", "/rest/api/3/search/jql",
                               {"jql": "project in (PAY, WEB) ORDER BY key", "maxResults": 100, "nextPageToken": token,
                                "fields": ["*all"], "expand": "changelog,names"}, basic)
            check(st == 200 and "total" not in page and "names" in page, f"cloud page {pages}: {st}")
            pages += 1
            keys += [i["key"] for i in page["issues"]]
            if page["isLast"]:
                break
            token = page["nextPageToken"]
        check(pages >= 5 and len(keys) == 120 == len(set(keys)), f"cloud paging: {pages} pages, {len(keys)} keys")
        # A truncated changelog is completed from the issue's changelog endpoint.
        st, page, _ = call(cport, "POST", "/rest/api/3/search/jql", {"jql": "", "maxResults": 100, "expand": "changelog"}, basic)
        long = next(i for i in page["issues"] if i["changelog"]["total"] > len(i["changelog"]["histories"]))
        st, cl, _ = call(cport, "GET", f"/rest/api/3/issue/{long['key']}/changelog?startAt=0&maxResults=100", auth=basic)
        check(st == 200 and len(cl["values"]) == cl["total"] == long["changelog"]["total"] and cl["isLast"], "changelog completed")
        check(isinstance(long["fields"]["comment"]["comments"][0]["body"], dict), "cloud comments are ADF")
        # Server: offset paging with a total; the whole changelog from the issue.
        st, first, _ = call(sport, "GET", "/rest/api/2/search?jql=&startAt=0&maxResults=100&expand=changelog", auth=bearer)
        check(st == 200 and first["total"] == 120 and first["maxResults"] == 25, f"server paging: {first.get('total')}")
        seen = set()
        for start_at in range(0, 120, 25):
            seen |= {i["key"] for i in call(sport, "GET", f"/rest/api/2/search?jql=&startAt={start_at}&maxResults=25", auth=bearer)[1]["issues"]}
        check(len(seen) == 120, "server offsets cover every issue")
        key = first["issues"][0]["key"]
        st, full, _ = call(sport, "GET", f"/rest/api/2/issue/{key}?expand=changelog", auth=bearer)
        check(len(full["changelog"]["histories"]) == full["changelog"]["total"], "server issue has its whole changelog")
        check(full["fields"]["customfield_10005"] is None or full["fields"]["customfield_10005"][0].startswith("com.atlassian.greenhopper"), "server sprint strings")
        # Sprints page by isLast.
        vals, start_at = [], 0
        while True:
            st, sp, _ = call(cport, "GET", f"/rest/agile/1.0/board/1/sprint?startAt={start_at}&maxResults=5", auth=basic)
            vals += sp["values"]
            if sp["isLast"]:
                break
            start_at += 5
        check(len(vals) == 12 and {v["state"] for v in vals} == {"closed", "active", "future"}, f"sprints: {len(vals)}")
        # Incremental: 3 changed and 2 new are exactly what `updated >=` selects.
        st, ch, _ = call(cport, "POST", "/_control/update", {"keys": keys[:3], "add": 2, "at": "2027-01-01T00:00:00+00:00"})
        st, page, _ = call(cport, "POST", "/rest/api/3/search/jql", {"jql": 'updated >= "2027/01/01 00:00" ORDER BY updated', "maxResults": 100}, basic)
        check(sorted(i["key"] for i in page["issues"]) == sorted(ch["changed"]) and len(ch["changed"]) == 5, "incremental selection")
        # Faults: a 429 with Retry-After once, then a 503, then normal service; a malformed page.
        call(cport, "POST", "/_control/faults", [{"on": "search", "status": 429, "retry_after": 2, "times": 1},
                                                 {"on": "search", "status": 503, "times": 1}])
        st1, _, h1 = call(cport, "POST", "/rest/api/3/search/jql", {"jql": ""}, basic)
        st2, _, _ = call(cport, "POST", "/rest/api/3/search/jql", {"jql": ""}, basic)
        st3, _, _ = call(cport, "POST", "/rest/api/3/search/jql", {"jql": ""}, basic)
        check((st1, h1.get("Retry-After"), st2, st3) == (429, "2", 503, 200), f"faults: {st1} {h1.get('Retry-After')} {st2} {st3}")
        log = call(cport, "GET", "/_control/log")[1]
        check(all("Authorization" not in json.dumps(e) for e in log) and len(log) > 10, "the request log")
    finally:
        cloud.terminate()
        server.terminate()
    print("selftest: scripted Jira ok (cloud and server)")


if __name__ == "__main__":
    main()
