#!/usr/bin/env python3
"""Retrieval quality of semantic search on real Jira issues (issue 16; docs/search.md). Not a test:
it prints figures.

Loads the 4,753 Deep-SE issues (../shared/data/deepse_storypoints, title + description) into tenant
`deepse` of the database PGHOST/PGPORT/PGDATABASE names, embeds them with analytics_embed_issues(), runs
every query of tests/search/queries.json (frozen before any search ran) through
analytics_similar_issues in each mode, and prints recall@1, recall@10 and MRR@10 per mode (a hit is the
target or one of its listed near-duplicates), then what the default similarity floor does: how many
off-topic queries get no answer, and how many real targets it loses.

--reference also embeds corpus and queries with an independent numpy implementation of the same model
(float32, batched, masked mean pooling) at 128 and at 256 tokens, and ranks by exact cosine: the builtin
embedder must be within 0.02 of its recall@10 at 128; 256 shows what the longer cut would give. Needs
the venv of scripts/embed_reference.py (numpy, safetensors, tokenizers).

    scripts/search_eval.sh [--reference]      (a cluster of its own, the extension installed)
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("DEEPSE_DIR", os.path.join(ROOT, "..", "shared", "data", "deepse_storypoints"))
TENANT = "deepse"
# The text analytics_embed_issues embeds (analytics_core::spec::search::document_sql).
DOCUMENT = ("pg_catalog.concat_ws(E'\\n', NULLIF(pg_catalog.btrim(summary, E' \\t\\r\\n'), ''), "
            "NULLIF(pg_catalog.btrim(description, E' \\t\\r\\n'), ''))")


def psql(sql, tenant=TENANT, stdin=None):
    env = dict(os.environ, PGOPTIONS=f"-c analytics.tenant_id={tenant} -c client_min_messages=warning")
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=stdin if stdin is not None else sql,
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr.strip()}")
    return r.stdout


def load():
    have = int(psql("SELECT count(*) FROM analytics.issues WHERE tenant_id = 'deepse'").strip() or 0)
    if have:
        return have
    seen = set()
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as out:
        w = csv.writer(out)
        for name in sorted(os.listdir(DATA)):
            if not name.endswith(".csv"):
                continue
            with open(os.path.join(DATA, name), newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    key = row["issuekey"].strip()
                    if key in seen:
                        continue
                    seen.add(key)
                    w.writerow([TENANT, key, key.split("-")[0], row["title"], row["description"], "2020-01-01"])
        path = out.name
    os.chmod(path, 0o644)
    psql(f"\\copy analytics.issues (tenant_id, issue_key, project_key, summary, description, created_at) FROM '{path}' WITH (FORMAT csv)")
    os.unlink(path)
    return len(seen)


def embed():
    started = time.time()
    total = 0
    while True:
        n = int(psql("SELECT analytics.analytics_embed_issues(500)").strip())
        total += n
        if n == 0:
            break
        print(f"  embedded {total} ({total / (time.time() - started):.1f} issues/s)", flush=True)
    return total, time.time() - started


def dollar(text):
    tag = "$q$"
    assert tag not in text
    return f"{tag}{text}{tag}"


def run_queries(queries, configs):
    """configs: name -> (mode, min_score SQL). Returns {name: {query id: [(key, score)]}}."""
    lines = []
    for q in queries:
        for name, (mode, min_score) in configs.items():
            lines.append(
                f"SELECT json_build_object('id', {q['id']}, 'config', '{name}', 'hits', coalesce((SELECT json_agg(json_build_array(issue_key, score)) "
                f"FROM analytics.analytics_similar_issues({dollar(q['query'])}, 10, '{{}}', '{mode}', {min_score})), '[]'));"
            )
    started = time.time()
    out = psql("\n".join(lines))
    elapsed = time.time() - started
    results = {name: {} for name in configs}
    for line in out.splitlines():
        r = json.loads(line)
        results[r["config"]][r["id"]] = [(k, s) for k, s in r["hits"]]
    return results, elapsed / max(1, len(lines))


def relevant(q):
    return {q["target"], *q.get("also_relevant", [])}


def quality(queries, ranking):
    """recall@1, recall@10, MRR@10 over the queries with a target; ranking: id -> [keys]."""
    r1 = r10 = mrr = 0.0
    real = [q for q in queries if q["target"]]
    for q in real:
        keys = ranking.get(q["id"], [])[:10]
        rank = next((i + 1 for i, k in enumerate(keys) if k in relevant(q)), None)
        if rank:
            r10 += 1
            r1 += rank == 1
            mrr += 1 / rank
    n = len(real)
    return r1 / n, r10 / n, mrr / n


# --- the independent reference implementation (numpy, float32, batched) ---------------------------

def erf(x):
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's resolution at these magnitudes).
    import numpy as np
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


def reference_embed(model_dir, texts, max_tokens):
    import numpy as np
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(max_tokens)
    cfg = json.load(open(f"{model_dir}/config.json"))
    t = {k: v.astype(np.float32) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    eps = cfg["layer_norm_eps"]

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * t[p + ".weight"] + t[p + ".bias"]

    encoded = [tok.encode(s).ids for s in texts]
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
    out = [None] * len(texts)
    for start in range(0, len(order), 32):
        idx = order[start:start + 32]
        n = max(len(encoded[i]) for i in idx)
        ids = np.zeros((len(idx), n), dtype=np.int64)
        mask = np.zeros((len(idx), n), dtype=np.float32)
        for r, i in enumerate(idx):
            ids[r, :len(encoded[i])] = encoded[i]
            mask[r, :len(encoded[i])] = 1
        x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:n][None] \
            + t["embeddings.token_type_embeddings.weight"][0]
        x = ln(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{layer}."
            lin = lambda v, name: v @ t[p + name + ".weight"].T + t[p + name + ".bias"]
            b = len(idx)
            q = lin(x, "attention.self.query").reshape(b, n, heads, d).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(b, n, heads, d).transpose(0, 2, 1, 3)
            v = lin(x, "attention.self.value").reshape(b, n, heads, d).transpose(0, 2, 1, 3)
            s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s = s / s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, heads * d)
            x = ln(lin(ctx, "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
            x = ln(lin(h, "output.dense") + x, p + "output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
        for r, i in enumerate(idx):
            out[i] = pooled[r]
    return np.stack(out)


def reference(queries, model_dir):
    import numpy as np
    rows = json.loads(psql(f"SELECT json_agg(json_build_array(issue_key, {DOCUMENT}) ORDER BY id) FROM analytics.issues WHERE tenant_id = 'deepse'"))
    keys = [r[0] for r in rows]
    docs = [r[1] for r in rows]
    out = {}
    for cut in (128, 256):
        started = time.time()
        corpus = reference_embed(model_dir, docs, cut)
        qv = reference_embed(model_dir, [q["query"] for q in queries], cut)
        sims = qv @ corpus.T
        ranking = {q["id"]: [keys[j] for j in np.argsort(-sims[i])[:10]] for i, q in enumerate(queries)}
        out[cut] = (ranking, time.time() - started)
    return out


def fusion_study(queries):
    """MRR@10 of ways to fuse the semantic and lexical top-50 lists, computed from the same lists:
    reciprocal rank fusion (k = 60, the lexical list weighted 1, 0.5, 0.25) and a convex combination
    of the cosine and the lexical score (alpha = weight of the cosine; a row missing from a list
    scores 0 there)."""
    configs = {"semantic50": ("semantic", "-1"), "lexical50": ("lexical", "0")}
    lines = []
    for q in queries:
        for name, (mode, floor) in configs.items():
            lines.append(
                f"SELECT json_build_object('id', {q['id']}, 'config', '{name}', 'hits', coalesce((SELECT json_agg(json_build_array(issue_key, score)) "
                f"FROM analytics.analytics_similar_issues({dollar(q['query'])}, 50, '{{}}', '{mode}', {floor})), '[]'));"
            )
    lists = {name: {} for name in configs}
    for line in psql("\n".join(lines)).splitlines():
        r = json.loads(line)
        lists[r["config"]][r["id"]] = [(k, sc) for k, sc in r["hits"]]
    variants = {}
    for w in (1.0, 0.5, 0.25):
        variants[f"rrf lexical weight {w}"] = ("rrf", w)
    for a in (0.9, 0.8, 0.7, 0.6):
        variants[f"convex alpha {a}"] = ("convex", a)
    out = {}
    for name, (kind, x) in variants.items():
        ranking = {}
        for q in queries:
            sem = lists["semantic50"].get(q["id"], [])
            lex = lists["lexical50"].get(q["id"], [])
            score = {}
            if kind == "rrf":
                for r, (k, _) in enumerate(sem):
                    score[k] = score.get(k, 0) + 1 / (60 + r + 1)
                for r, (k, _) in enumerate(lex):
                    score[k] = score.get(k, 0) + x / (60 + r + 1)
            else:
                for k, sc in sem:
                    score[k] = score.get(k, 0) + x * sc
                for k, sc in lex:
                    score[k] = score.get(k, 0) + (1 - x) * sc
            ranking[q["id"]] = [k for k, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))]
        out[name] = quality(queries, ranking)
    return out


def main():
    name = sys.argv[sys.argv.index("--set") + 1] if "--set" in sys.argv else "queries.json"
    with open(os.path.join(ROOT, "tests", "search", name)) as f:
        queries = json.load(f)["queries"]
    print(f"[search] query set tests/search/{name}")
    real = [q for q in queries if q["target"]]
    off = [q for q in queries if not q["target"]]
    print(f"[search] corpus: {load()} Deep-SE issues in tenant {TENANT}; {len(real)} paraphrase queries, {len(off)} off-topic")
    n, secs = embed()
    if n:
        print(f"[search] embedded {n} issues in {secs:.0f} s: {n / secs:.1f} issues/s (analytics_embed_issues, one backend)")
    psql("ANALYZE analytics.issue_embeddings")
    configs = {
        "semantic": ("semantic", "-1"),
        "lexical": ("lexical", "0"),
        "hybrid": ("hybrid", "-1"),
        "semantic_floor": ("semantic", "NULL"),
        "hybrid_floor": ("hybrid", "NULL"),
    }
    results, per_call = run_queries(queries, configs)
    print(f"[search] {len(queries) * len(configs)} searches, {per_call * 1000:.1f} ms each on average (psql, query embedding included)")
    print()
    print("  mode      recall@1  recall@10  MRR@10   (a hit: the target or a listed near-duplicate; no similarity floor)")
    table = {}
    for mode in ("semantic", "lexical", "hybrid"):
        ranking = {i: [k for k, _ in hits] for i, hits in results[mode].items()}
        table[mode] = quality(queries, ranking)
        r1, r10, mrr = table[mode]
        print(f"  {mode:<9} {r1:8.3f}  {r10:9.3f}  {mrr:6.3f}")
    best_other = max(table["semantic"][2], table["lexical"][2])
    print(f"  hybrid MRR@10 - best other: {table['hybrid'][2] - best_other:+.3f}")
    if "--fusion" in sys.argv:
        print()
        print("[search] fusions of the semantic and lexical top-50 lists (no floor): recall@1, recall@10, MRR@10")
        for variant, (r1, r10, mrr) in fusion_study(queries).items():
            print(f"  {variant:<24} {r1:6.3f} {r10:6.3f} {mrr:6.3f}")

    print()
    print("[search] the default similarity floor (rows whose cosine similarity to the query is below it are left out)")
    for mode in ("semantic", "hybrid"):
        floor = results[f"{mode}_floor"]
        empty = sum(1 for q in off if not floor.get(q["id"]))
        ranking = {i: [k for k, _ in hits] for i, hits in floor.items()}
        r1, r10, mrr = quality(queries, ranking)
        lost = sum(1 for q in real
                   if any(k in relevant(q) for k, _ in results[mode].get(q["id"], []))
                   and not any(k in relevant(q) for k, _ in floor.get(q["id"], [])))
        print(f"  {mode:<9} off-topic with no answer: {empty}/{len(off)}; real targets lost from the top 10: {lost}; recall@10 {r10:.3f}, MRR@10 {mrr:.3f}")
    top_real = sorted(results["semantic"][q["id"]][0][1] for q in real if results["semantic"].get(q["id"]))
    top_off = sorted(results["semantic"][q["id"]][0][1] for q in off if results["semantic"].get(q["id"]))
    target_sims = sorted(s for q in real for k, s in results["semantic"].get(q["id"], []) if k in relevant(q))
    print(f"  semantic top-1 cosine: real queries min {top_real[0]:.3f} median {top_real[len(top_real) // 2]:.3f}; "
          f"off-topic max {top_off[-1]:.3f} median {top_off[len(top_off) // 2]:.3f}")
    if target_sims:
        print(f"  cosine of the real targets found in the top 10: min {target_sims[0]:.3f}, 10th percentile {target_sims[len(target_sims) // 10]:.3f}")

    if "--reference" in sys.argv:
        model_dir = os.environ.get("ANALYTICS_MODEL_DIR") or subprocess.run(
            ["pg_config", "--sharedir"], capture_output=True, text=True).stdout.strip() + "/extension/agile_analytics/models/all-MiniLM-L6-v2"
        print()
        print("[search] reference implementation (numpy float32, exact cosine) against the builtin embedder (semantic mode)")
        ours = table["semantic"]
        for cut, (ranking, secs) in reference(queries, model_dir).items():
            r1, r10, mrr = quality(queries, ranking)
            note = f"  (builtin - reference recall@10: {ours[1] - r10:+.3f}; goal within 0.02)" if cut == 128 else ""
            print(f"  reference, {cut} tokens: recall@1 {r1:.3f} recall@10 {r10:.3f} MRR@10 {mrr:.3f}  [{secs:.0f} s]{note}")


if __name__ == "__main__":
    main()
