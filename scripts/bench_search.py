#!/usr/bin/env python3
"""Semantic search speed (issue 16; docs/search.md), printed by `make bench` (scripts/bench_search.sh).
Not a test: it prints figures and their ratios to the goals.

On the database PGHOST/PGPORT/PGDATABASE names, as a superuser:
1. the 4,753 real Deep-SE issues (tenant `deepse`, as scripts/search_eval.py loads them) embedded by
   analytics_embed_issues() in this server: in-database throughput of the builtin model;
2. a shared index of >= 100,000 vectors: tenant `sb_big` gets N issues whose embeddings mix three
   random real ones (random weights, normalised), inserted through the HNSW index, then REINDEXed for
   the bulk build time;
3. recall@10 of the HNSW index (iterative_scan = strict_order, ef_search 40, 100, 200) against an
   exact scan, for the 91 frozen queries of tests/search/queries.json embedded by the
   builtin model (tenant `sb_q`), over the whole of `sb_big`;
4. a tenant of 50 real issues (`sb_small`) beside them: p50 of analytics_similar_issues (semantic and
   hybrid, the query embedded in the call) and of analytics_similar_to_issue (its stored embedding, no
   model call), k = 10, with the rows it got;
5. the same semantic query through `openai_compatible` against a scripted server on 127.0.0.1 that
   answers at once, for comparison.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import search_eval  # noqa: E402  (the Deep-SE loader)

MODEL = "all-MiniLM-L6-v2"
BIG = int(os.environ.get("BENCH_SEARCH_VECTORS", "100000"))


def psql(sql, tenant="deepse"):
    return search_eval.psql(sql, tenant=tenant)


def one(sql, tenant="deepse"):
    return psql(sql, tenant).strip()


def embed_real():
    have = int(one(f"SELECT count(*) FROM analytics.issue_embeddings WHERE tenant_id = 'deepse' AND model = '{MODEL}'"))
    n = search_eval.load()
    if have >= n:
        return None
    psql("DELETE FROM analytics.issue_embeddings WHERE tenant_id = 'deepse'")
    started = time.time()
    total = 0
    while True:
        k = int(one("SELECT analytics.analytics_embed_issues(1000)"))
        total += k
        if k == 0:
            break
    return total, time.time() - started


def build_big():
    # content_hash '1' * 64 marks this way of making them.
    have = int(one("SELECT count(*) FROM analytics.issue_embeddings WHERE tenant_id = 'sb_big' AND content_hash = repeat('1', 64)"))
    if have != BIG:
        psql("DELETE FROM analytics.issues WHERE tenant_id = 'sb_big'", tenant="sb_big")
        psql(
            f"INSERT INTO analytics.issues (tenant_id, issue_key, summary, created_at) "
            f"SELECT 'sb_big', 'B-' || g, 'synthetic ' || g, '2020-01-01' FROM generate_series(1, {BIG}) g",
            tenant="sb_big",
        )
        started = time.time()
        # Each vector mixes three random real embeddings (weights uniform in [0, 1]) and is normalised:
        # points spread over the region real issue texts occupy, without tight clusters of copies.
        psql(
            f"""
            SELECT setseed(0.20261204);
            CREATE TEMP TABLE base AS
              SELECT row_number() OVER (ORDER BY issue_id) - 1 AS n, embedding::vector(384) AS v
              FROM analytics.issue_embeddings WHERE tenant_id = 'deepse' AND model = '{MODEL}';
            CREATE TEMP TABLE pick AS
              SELECT i.id, (random() * 4752)::int AS a, (random() * 4752)::int AS b, (random() * 4752)::int AS c,
                     random() AS wa, random() AS wb, random() AS wc
              FROM analytics.issues i WHERE i.tenant_id = 'sb_big';
            INSERT INTO analytics.issue_embeddings (tenant_id, issue_id, model, content_hash, embedding)
            SELECT 'sb_big', p.id, '{MODEL}', repeat('1', 64),
                   l2_normalize((SELECT array_agg(x.a * p.wa + x.b * p.wb + x.c * p.wc ORDER BY x.n)
                                 FROM unnest(ba.v::real[], bb.v::real[], bc.v::real[]) WITH ORDINALITY AS x(a, b, c, n))::vector(384))
            FROM pick p JOIN base ba ON ba.n = p.a JOIN base bb ON bb.n = p.b JOIN base bc ON bc.n = p.c;
            """,
            tenant="sb_big",
        )
        inserted = time.time() - started
    else:
        inserted = None
    psql("VACUUM ANALYZE analytics.issue_embeddings", tenant="sb_big")
    started = time.time()
    psql("SET maintenance_work_mem = '1GB'; REINDEX INDEX analytics.issue_embeddings_minilm_hnsw", tenant="sb_big")
    return inserted, time.time() - started


def query_vectors():
    queries = json.load(open(os.path.join(ROOT, "tests", "search", "queries.json")))["queries"]
    if int(one("SELECT count(*) FROM analytics.issue_embeddings WHERE tenant_id = 'sb_q'", "sb_q")) != len(queries):
        psql("DELETE FROM analytics.issues WHERE tenant_id = 'sb_q'", "sb_q")
        values = ",".join(f"('sb_q', 'Q-{q['id']}', {search_eval.dollar(q['query'])}, '2020-01-01')" for q in queries)
        psql(f"INSERT INTO analytics.issues (tenant_id, issue_key, summary, created_at) VALUES {values}", "sb_q")
        psql("SELECT analytics.analytics_embed_issues()", "sb_q")
    return len(queries)


def recall():
    def top(settings):
        return psql(
            f"""{settings}
            SELECT q.issue_id, array_agg(n.issue_id ORDER BY n.d, n.issue_id)
            FROM analytics.issue_embeddings q CROSS JOIN LATERAL (
                SELECT e.issue_id, e.embedding::vector(384) <=> q.embedding::vector(384) AS d FROM analytics.issue_embeddings e
                WHERE e.model = '{MODEL}' AND e.tenant_id = 'sb_big'
                ORDER BY e.embedding::vector(384) <=> q.embedding::vector(384) LIMIT 10) n
            WHERE q.tenant_id = 'sb_q' GROUP BY 1""",
            "sb_big",
        )

    def parse(out):
        return {line.split("|")[0]: set(line.split("|")[1].strip("{}").split(",")) for line in out.splitlines() if line}

    started = time.time()
    exact = parse(top("SET enable_indexscan = off; SET enable_bitmapscan = off;"))
    exact_s = time.time() - started
    out = []
    for ef in (40, 100, 200):
        started = time.time()
        approx = parse(top(f"SET hnsw.iterative_scan = strict_order; SET hnsw.ef_search = {ef};"))
        approx_s = time.time() - started
        hits = [len(approx.get(q, set()) & exact[q]) / 10 for q in exact]
        out.append((ef, statistics.mean(hits), min(hits), len(hits), approx_s / len(hits)))
    plan = psql(
        f"""SET hnsw.iterative_scan = strict_order; EXPLAIN (COSTS OFF)
            SELECT e.issue_id FROM analytics.issue_embeddings e WHERE e.model = '{MODEL}' AND e.tenant_id = 'sb_big'
            ORDER BY e.embedding::vector(384) <=> (SELECT embedding::vector(384) FROM analytics.issue_embeddings WHERE tenant_id = 'sb_q' LIMIT 1) LIMIT 10""",
        "sb_big",
    )
    return out, exact_s / len(exact), "issue_embeddings_minilm_hnsw" in plan


def small_tenant():
    if int(one("SELECT count(*) FROM analytics.issues WHERE tenant_id = 'sb_small'", "sb_small")) != 50:
        psql("DELETE FROM analytics.issues WHERE tenant_id = 'sb_small'", "sb_small")
        psql(
            "INSERT INTO analytics.issues (tenant_id, issue_key, summary, description, created_at) "
            "SELECT 'sb_small', 'S-' || row_number() OVER (ORDER BY id), summary, description, created_at "
            "FROM analytics.issues WHERE tenant_id = 'deepse' ORDER BY id LIMIT 50",
            "sb_small",
        )
        psql("SELECT analytics.analytics_embed_issues()", "sb_small")
    psql("VACUUM ANALYZE analytics.issue_embeddings, analytics.issues", "sb_small")


def scripted_server(vector):
    """An OpenAI-compatible /v1/embeddings on 127.0.0.1 that answers `vector` for every text (the wire
    format and the round trip, no model): its base URL."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            out = json.dumps({"object": "list", "model": "scripted",
                              "data": [{"object": "embedding", "index": i, "embedding": vector} for i in range(len(body["input"]))]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def p50(sql, tenant, seconds=8, options=""):
    """p50 latency (ms) of sql over `seconds` with pgbench (one client, one backend), and the calls."""
    pg_bin = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        script = os.path.join(d, "q.sql")
        open(script, "w").write(sql + ";\n")
        os.chmod(script, 0o644)
        env = dict(os.environ, PGOPTIONS=f"-c analytics.tenant_id={tenant} {options}")
        subprocess.run([f"{pg_bin}/pgbench", "-n", "-c", "1", "-T", str(seconds), "-l", "--log-prefix", os.path.join(d, "log"), "-f", script],
                       capture_output=True, text=True, env=env, cwd=d, check=True)
        lat = []
        for name in os.listdir(d):
            if name.startswith("log"):
                lat += [int(line.split()[2]) / 1000 for line in open(os.path.join(d, name)) if line.strip()]
    lat = lat[1:] or lat  # the first call loads the model
    return statistics.median(lat), len(lat)


def main():
    print(f"[bench] semantic search (issue 16): {BIG} shared vectors, a tenant of 50 beside them")
    real = embed_real()
    if real:
        n, s = real
        print(f"  analytics_embed_issues, in this server (release build, 1 thread): {n} real Deep-SE issues in {s:.1f} s = {n / s:.1f} issues/s")
    else:
        print("  (the real Deep-SE issues were embedded by an earlier run)")
    inserted, build = build_big()
    if inserted is not None:
        print(f"  {BIG} vectors inserted through the HNSW index: {inserted:.1f} s ({BIG / inserted:.0f}/s)")
    total = one("SELECT count(*) FROM analytics.issue_embeddings", "sb_big")
    print(f"  HNSW bulk build (REINDEX, m 16, ef_construction 128, maintenance_work_mem 1GB) of {total} vectors: {build:.1f} s")
    nq = query_vectors()
    sweep, exact_s, used = recall()
    for ef, mean, worst, n, approx_s in sweep:
        print(f"  recall@10 vs exact scan, {n} real queries over {BIG} vectors, ef_search {ef}: {mean:.3f} (worst query {worst:.1f}), "
              f"{approx_s * 1000:.2f} ms per query  goal >= 0.98  ratio {mean / 0.98:.3f}")
    print(f"    exact scan {exact_s * 1000:.1f} ms per query; the plan reads the HNSW index: {used}")
    small_tenant()
    q = "login fails behind the proxy with a timeout"
    rows = one(f"SELECT count(*) FROM analytics.analytics_similar_issues('{q}', 10, mode => 'semantic', min_score => -1)", "sb_small")
    for label, sql, goal in [
        ("similar_to_issue (stored embedding, no model call)", "SELECT * FROM analytics.analytics_similar_to_issue('S-7')", 5),
        ("similar_issues semantic (query embedded in the call)", f"SELECT * FROM analytics.analytics_similar_issues('{q}', 10, mode => 'semantic')", 20),
        ("similar_issues hybrid (query embedded in the call)", f"SELECT * FROM analytics.analytics_similar_issues('{q}')", 20),
        ("similar_issues lexical (no model call)", f"SELECT * FROM analytics.analytics_similar_issues('{q}', 10, mode => 'lexical')", 5),
    ]:
        m, calls = p50(sql, "sb_small")
        print(f"  tenant of 50, {label}: p50 {m:.2f} ms over {calls} calls  goal <= {goal} ms  ratio {m / goal:.3f}")
    print(f"  the tenant of 50 gets {rows} of 10 rows in semantic mode beside the {BIG} others")
    # The same query through openai_compatible: the tenant's embeddings copied under that model's name.
    vector = json.loads(one("SELECT embedding::text FROM analytics.issue_embeddings WHERE tenant_id = 'sb_small' LIMIT 1", "sb_small"))
    base = scripted_server(vector)
    psql("DELETE FROM analytics.issue_embeddings WHERE tenant_id = 'sb_small' AND model = 'openai_compatible:default';"
         "INSERT INTO analytics.issue_embeddings (tenant_id, issue_id, model, content_hash, embedding) "
         f"SELECT tenant_id, issue_id, 'openai_compatible:default', content_hash, embedding FROM analytics.issue_embeddings WHERE tenant_id = 'sb_small' AND model = '{MODEL}'",
         "sb_small")
    options = f"-c analytics.embedding_provider=openai_compatible -c analytics.embedding_base_url={base}"
    m, calls = p50(f"SELECT * FROM analytics.analytics_similar_issues('{q}', 10, mode => 'semantic')", "sb_small", options=options)
    print(f"  tenant of 50, similar_issues semantic through openai_compatible (a scripted server on 127.0.0.1 answering at once): "
          f"p50 {m:.2f} ms over {calls} calls (the HTTP round trip in place of the builtin model; a real provider adds its own time)")


if __name__ == "__main__":
    main()
