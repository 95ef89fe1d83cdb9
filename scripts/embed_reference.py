#!/usr/bin/env python3
"""Reference embeddings for the builtin embedder's parity test (tests/embed/reference.json).

An independent, plain implementation of all-MiniLM-L6-v2 as sentence-transformers runs it: Hugging
Face's own `tokenizers` (Python) reads the shipped tokenizer.json; a BERT encoder written out in
numpy (float64) from model.safetensors; mean pooling over the attention mask; L2 normalisation. Texts
are cut at MAX_TOKENS tokens (the shipped tokenizer's truncation; sentence-transformers' own config says
256, see docs/search.md). Run once; the output is test data, committed with this script:

    python3 -m venv /var/tmp/agile_analytics-models/venv
    /var/tmp/agile_analytics-models/venv/bin/pip install numpy==2.4.6 safetensors==0.8.0
    /var/tmp/agile_analytics-models/venv/bin/pip install --no-deps tokenizers==0.23.3
    /var/tmp/agile_analytics-models/venv/bin/python scripts/embed_reference.py MODEL_DIR > tests/embed/reference.json
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_TOKENS = 128

SENTENCES = [
    "Login times out behind the SSO proxy",
    "Users are logged out after 5 minutes when single sign-on is enabled",
    "Add dark mode to the settings page",
    "NullPointerException in PaymentService.refund() when the order has no invoice",
    "The CI pipeline is flaky: integration tests fail randomly on the build agents",
    "Upgrade PostgreSQL from 13 to 15 on the staging cluster",
    "As a team lead I want to see sprint velocity per board so that I can plan capacity",
    "Crash on startup on Android 14 (Pixel 8)",
    "Search results are not sorted by relevance",
    "Typo in the footer: 'Copyrigth'",
    "Make the export to CSV include custom fields",
    "Memory leak in the websocket handler after reconnects",
    "Café menu prices show as €0,00 in the German locale",
    "Refactor the billing module; remove deprecated v1 endpoints",
    "The dashboard takes 30 seconds to load for large tenants",
    "Password reset e-mail never arrives for addresses with a plus sign",
    "API returns HTTP 500 instead of 404 for unknown project keys",
    "",
    "ok",
    (
        "Steps to reproduce: open the project board, drag an issue from To Do to In Progress, then refresh "
        "the page. Expected: the issue stays in In Progress. Actual: it jumps back to To Do and the transition "
        "is lost; the audit log shows no entry. This happens on Firefox and Chrome, with and without the "
        "new board beta flag, for every project we tried (PAY, WEB, API). It started after the release of "
        "version 4.2.0 last Tuesday; rolling back the frontend did not help, so the cause is probably in the "
        "transitions service or its cache. Logs attached. Workaround: use the issue view's status dropdown."
    ),
]


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def encode(t, cfg, ids):
    g = lambda name: t[name].astype(np.float64)
    n = len(ids)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:n] \
        + g("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), cfg["layer_norm_eps"])
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda v, name: v @ g(p + name + ".weight").T + g(p + name + ".bias")
        q = lin(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
        x = layer_norm(lin(ctx, "attention.output.dense") + x, g(p + "attention.output.LayerNorm.weight"),
                       g(p + "attention.output.LayerNorm.bias"), cfg["layer_norm_eps"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"),
                       cfg["layer_norm_eps"])
    return x


def main():
    model_dir = sys.argv[1]
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    cfg = json.load(open(f"{model_dir}/config.json"))
    t = load_file(f"{model_dir}/model.safetensors")
    out = []
    for s in SENTENCES:
        enc = tok.encode(s)
        hidden = encode(t, cfg, np.array(enc.ids))
        pooled = hidden.mean(0)  # one text, no padding: every position counts
        v = pooled / np.linalg.norm(pooled)
        out.append({"text": s, "tokens": len(enc.ids), "ids": enc.ids, "embedding": [round(float(x), 7) for x in v]})
    json.dump({
        "model": "all-MiniLM-L6-v2",
        "max_tokens": MAX_TOKENS,
        "made_by": "scripts/embed_reference.py: Python tokenizers 0.23.3 on the shipped tokenizer.json, a numpy (float64) "
                   "BERT encoder from model.safetensors, mean pooling, L2 norm",
        "sentences": out,
    }, sys.stdout, ensure_ascii=False, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
