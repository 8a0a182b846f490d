# AI Gateway. Quick start: `make run`, then `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev migrate serve bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

## uv installs the pinned requirements from PyPI, as pip would, in 4 s where pip took 41 s (docs/testing.md,
## "The install"); --native-tls: the machine's certificate store, as pip's configuration gives pip.
UV_VERSION := 0.13.10
UV := $(VENV)/bin/uv
$(UV): $(VENV)/bin/activate
	$(PIP) install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: requirements.txt $(UV)
	$(UV) pip install --quiet --native-tls --python $(PY) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(UV) pip install --quiet --native-tls --python $(PY) -r requirements-dev.txt
	touch $@

# The openai npm package the /v1 tests run on Node.js (conversations/tests/test_openai_node.py), pinned by its lock file.
NODE_TESTS := conversations/tests/openai_node
$(NODE_TESTS)/node_modules/.package-lock.json: $(NODE_TESTS)/package.json $(NODE_TESTS)/package-lock.json
	npm ci --prefix $(NODE_TESTS) --no-audit --no-fund --loglevel=error

# The Vercel AI SDK (ai + @ai-sdk/openai) the /v1 tests run on Node.js (conversations/tests/test_openai_ai_sdk.py).
AI_SDK_TESTS := conversations/tests/ai_sdk_node
$(AI_SDK_TESTS)/node_modules/.package-lock.json: $(AI_SDK_TESTS)/package.json $(AI_SDK_TESTS)/package-lock.json
	npm ci --prefix $(AI_SDK_TESTS) --no-audit --no-fund --loglevel=error

# axe-core for the browser tests' accessibility checks, pinned by its lock file.
e2e/node_modules/.package-lock.json: e2e/package.json e2e/package-lock.json
	npm ci --prefix e2e --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev $(NODE_TESTS)/node_modules/.package-lock.json $(AI_SDK_TESTS)/node_modules/.package-lock.json \
	e2e/node_modules/.package-lock.json

.env:
	$(PYTHON) scripts/init_env.py .env

migrate: install .env
	$(PY) manage.py migrate --noinput

## Install, migrate, create the demo channel (printing its key and a curl), serve on http://$(HOST):$(PORT).
run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo_channel --host http://$(HOST):$(PORT)
	$(VENV)/bin/uvicorn gateway.asgi:application --host $(HOST) --port $(PORT)

## Install what the tests need and run the whole suite (SQLite and the in-process cache unless DATABASE_URL / REDIS_URL are set),
## in TEST_WORKERS parallel processes (pytest-xdist, a test database each; 0: in this one process). docs/testing.md.
## --dist loadfile: each file's tests run in one worker, so a module's started processes (nginx, gateways) start once.
## One worker more than the cores: a worker waiting on a process it started, a socket or the browser leaves its core to
## another (2 cores: 3 workers 170-185 s, 2 workers 187-202 s; docs/testing.md, "Workers").
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST_ARGS ?=
## The installs run side by side (-j4: pip's chain beside the three npm folders). PYTHONDONTWRITEBYTECODE, which some
## machines set, is dropped for the run: otherwise each worker and each process a test starts compiles the project and
## rewrites the tests' asserts again (collecting took 11.2 s a process without the caches, 5.2 s with; docs/testing.md).
test:
	@$(MAKE) --no-print-directory -j4 install-dev
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache $(NODE_TESTS)/node_modules $(AI_SDK_TESTS)/node_modules e2e/node_modules

## Regenerate docs/openapi.json from the code (a test fails while they differ).
openapi: install .env
	$(PY) manage.py spectacular --format openapi-json --file docs/openapi.json

## Save a PNG of each dashboard page under docs/screenshots/ (real pages in Debian's Chromium, with an emoji font
## for the widget's 👍/👎: apt-get install chromium-headless-shell fonts-noto-color-emoji).
.PHONY: screenshots
screenshots: install-dev
	SCREENSHOTS=1 $(VENV)/bin/pytest -q -p no:cacheprovider e2e/test_screenshots.py

## The production topology (gateway/tests/test_topology.py): nginx with TLS, two gateway processes, a Celery
## worker and beat, all from deploy/, on PostgreSQL + Redis (DATABASE_URL / REDIS_URL must be set; apt-get install nginx).
.PHONY: topology-test
topology-test: install-dev
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && apt-get install -y -qq nginx; }
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "set DATABASE_URL (PostgreSQL) and REDIS_URL" >&2; exit 2; }
	$(VENV)/bin/pytest -q -p no:cacheprovider gateway/tests/test_topology.py

## Load-test the production setup (uvicorn, one worker per core, PostgreSQL + Redis) against a local
## mock upstream, each shape beside the floor: the spread-out load (200 channels x 10 returning sessions), then
## the busy single channel (one channel, a new session per chat), which first holds 5,000 streamed chats open at
## once on a trickling upstream (bench/streams.py, on a gateway of its own); prints a table per shape and writes
## bench/results/*.json. Extra options: BENCH_ARGS="--help".
bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.run --busy --streams $(BENCH_ARGS)

## Server time of every dashboard and admin page on one channel of N messages (seeded in its own PostgreSQL
## database, bench_pages): prints a table, writes bench/results/pages-*.json. BENCH_PAGES_ARGS="--messages 2000000".
.PHONY: bench-pages
bench-pages: install
	$(PY) -m bench.pages $(BENCH_PAGES_ARGS)

## What knowledge adds to a chat (grounding.for_chat: readiness, search, message) at BENCH_CHUNKS chunks in each of
## BENCH_CHANNELS channels, common, rare and mixed words, p50/p99, on BENCH_KNOWLEDGE_DATABASE_URL (a throwaway
## database it fills; reused when it holds that layout). 1,000,000 chunks: BENCH_CHANNELS=100.
.PHONY: bench-knowledge
bench-knowledge: install
	DATABASE_URL=$${BENCH_KNOWLEDGE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_knowledge} $(PY) -m bench.knowledge_retrieval

## A few-second run of the same harness for CI (50 streams held open): fails if the harness breaks or a stream is
## dropped, asserts nothing about speed.
.PHONY: bench-smoke
bench-smoke: install
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m bench.run --smoke $(BENCH_ARGS)
	$(PY) -m bench.run --smoke --busy --streams $(BENCH_ARGS)
