# Traytic: `make dev` runs the product, `make test` runs every test. Both need only Python 3.11+
# and make: uv is installed into .tools/ when it is not on PATH.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
NPM := $(shell command -v npm 2>/dev/null)
PYTHON ?= python3
# pytest-xdist workers for `make test`: most tests wait on a browser, a server or the network, so
# three share two cores well; each file runs whole on one worker (its module fixtures start once).
TEST_WORKERS ?= 3
SCRIPT_DEST := services/gateway/src/traytic/gateway/static
DASHBOARD_DEST := services/query/src/traytic/query/static/dashboard

.PHONY: help dev demo test lint format bench bench-large sync tracker tracker-test dashboard screenshots clean cluster cluster-test cluster-bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# Bytecode is compiled here, not left to the first import: where PYTHONDONTWRITEBYTECODE is set
# (as on our CI machines) nothing would ever write it, and every process (`traytic dev`, each
# CLI command, each test's subprocess) compiled ~7,000 modules again: 7 s to import `traytic dev`
# instead of 2.7 s. Both steps skip what is up to date.
sync: $(if $(findstring .tools,$(UV)),.tools/bin/uv) ## install the workspace (locked) into .venv
	$(UV) sync --all-packages --frozen --compile-bytecode
	$(UV) run --frozen python -m compileall -q -j 0 src libs services >/dev/null

tracker: ## build the tracker (sdk/js) and hand script.js to the gateway (needs npm)
ifeq ($(NPM),)
	@echo "npm not found: /script.js will answer 404 until the tracker is built"
else
	cd sdk/js && npm ci --no-audit --no-fund --loglevel=error && npm run build
	mkdir -p $(SCRIPT_DEST) && cp sdk/js/dist/script.js sdk/js/dist/script.vitals.js sdk/js/dist/script.extras.js $(SCRIPT_DEST)/
endif

dashboard: ## build the dashboard (web/) into the query service's static files (needs npm)
ifeq ($(NPM),)
	@echo "npm not found: / will say how to build the dashboard"
else
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm run typecheck
	rm -rf $(DASHBOARD_DEST) && mkdir -p $(DASHBOARD_DEST) && cp -R web/dist/. $(DASHBOARD_DEST)/
endif

screenshots: sync dashboard ## full-page PNGs of the main views into docs/screenshots/
	$(UV) run python web/scripts/screenshots.py

tracker-test: tracker ## the tracker's own unit tests (vitest) and type check
ifneq ($(NPM),)
	cd sdk/js && npm test && npm run typecheck
endif

dev: sync ## run everything in one process on http://localhost:3001
	@if [ -n "$(NPM)" ]; then $(MAKE) --no-print-directory tracker dashboard; fi
	$(UV) run traytic dev

demo: sync ## beside a running `make dev`: 30 days of sample traffic for its demo site
	$(UV) run traytic demo

lint: sync ## ruff check, ruff format --check, mypy --strict
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy src libs/*/src services/*/src

format: sync ## apply ruff's fixes and formatting
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

test: lint ## lint, build and test the tracker, then every Python test against real services
	@$(MAKE) --no-print-directory tracker-test dashboard
	$(UV) run pytest -q -p no:cacheprovider --durations=30 --ignore=tests/cluster/test_faults.py \
		-n $(TEST_WORKERS) --dist loadfile

cluster: sync ## the scale-out topology as local processes until Ctrl-C (deploy/README.md)
	$(UV) run python -m tests.cluster

cluster-test: sync ## the cluster tests, with the faults during load (8 min) that make test leaves out
	$(UV) run pytest tests/cluster -q -p no:cacheprovider

cluster-bench: sync ## events/s into the cluster with 1 and 2 consumers, beside one node (bench/cluster.py)
	$(UV) run python bench/cluster.py

bench: sync ## benchmarks: figures printed with ratios to a baseline measured in the same run
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get install -y -qq wrk >/dev/null; } || { echo "bench needs wrk: apt-get install wrk"; exit 1; }
	$(UV) run python bench/gateway.py
	@for b in bench/warehouse_insert.py bench/enrich.py bench/consumer.py bench/query.py bench/first_paint.py bench/goals.py bench/cluster.py; do \
		if [ -f $$b ]; then $(UV) run python $$b || exit 1; fi; done

bench-large: sync ## the stats at 10M events (both engines) and 100M (server): about two hours, ~10 GB of disk
	$(UV) run python bench/query.py --stats-only --events 10000000
	$(UV) run python bench/query.py --stats-only --events 100000000 --engines server

clean: ## remove build output and the embedded data in .traytic/
	rm -rf .traytic sdk/js/dist web/dist $(SCRIPT_DEST)/script*.js $(DASHBOARD_DEST) .pytest_cache .mypy_cache .ruff_cache
