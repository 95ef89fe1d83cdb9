# agile_analytics. The two commands a new user needs:
#   make demo   set up, build, install, start a local cluster, load demo data, print answers
#   make test   set up and run every test tier (CI runs exactly this through .ci/run)
# Versions (pgrx, PostgreSQL major, pgvector, demo port) come from pgrx.toml.

pin = $(shell sed -n -E 's/^$(1)[[:space:]]*=[[:space:]]*"([^"]*)".*/\1/p' pgrx.toml | head -n1)
PGRX_VERSION := $(call pin,pgrx)
PG_MAJOR     := $(call pin,pg_major)
PGVECTOR     := $(call pin,pgvector)
DEMO_PORT    := $(call pin,port)
PG_CONFIG    := /usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config

.PHONY: help setup build install test test-unit test-pg test-regress regress-accept demo demo-stop demo-reset bench test-llm test-peer versions clean

help:
	@echo "make demo        run the demo (PostgreSQL $(PG_MAJOR) on port $(DEMO_PORT))"
	@echo "make test        run every test tier"
	@echo "make setup       install PostgreSQL $(PG_MAJOR), pg_cron, pgvector $(PGVECTOR), cargo-pgrx $(PGRX_VERSION)"
	@echo "make test-unit | test-pg | test-regress   one tier;  make regress-accept  rewrite expected outputs"
	@echo "make demo-stop | demo-reset;  make bench  benchmarks at 1M issues (not a test)"
	@echo "make test-peer   optional: jira-agile-metrics (PyPI, in a venv) and the extension read one scripted Jira; compares cycle times, CFD, throughput"
	@echo "make test-llm    optional: the evaluation set through a real local model (downloads ~1.1 GB, builds ~5 min)"

versions:
	@echo "pgrx=$(PGRX_VERSION) postgres=$(PG_MAJOR) pgvector=$(PGVECTOR) demo_port=$(DEMO_PORT)"

setup:
	bash scripts/setup.sh

build: setup
	cargo build

install: setup
	cargo pgrx install --release --pg-config $(PG_CONFIG)

test:
	bash scripts/test.sh

test-unit:
	cargo test -p analytics-core -p agile-datagen

test-pg: setup
	bash scripts/pg_test.sh

test-regress: setup
	bash scripts/regress.sh

regress-accept: setup
	bash scripts/regress.sh --accept

demo:
	bash scripts/demo.sh

demo-stop:
	bash scripts/demo.sh stop

demo-reset:
	bash scripts/demo.sh reset

clean:
	cargo clean

bench:
	bash scripts/bench.sh

# Optional, not part of `make test` (installs JAM 0.24 and pandas < 2 from PyPI, ~2 min the first
# time): the real jira-agile-metrics and the extension on the same scripted Jira (tests/jira_server).
test-peer: install
	bash scripts/test_peer.sh

# Optional, not part of `make test`: a real small model (Qwen2.5-Coder-1.5B, llama.cpp server on
# 127.0.0.1) answers the evaluation set through the openai_compatible provider; fails when fewer than
# 80% of the questions end in a valid spec. See docs/ask.md, "LLM providers".
test-llm:
	bash scripts/llm_server.sh start
	cargo run --release -p analytics-core --example llm_eval -- --base-url http://127.0.0.1:28819/v1 $(LLM_EVAL_ARGS); \
	  status=$$?; bash scripts/llm_server.sh stop; exit $$status
