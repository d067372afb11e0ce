# Nexiom: `make up` brings the platform up with a demo tenant; `make test` runs every test.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
DEMO_SLUG ?= demo
BASE_DOMAIN ?= $(or $(NEXIOM_BASE_DOMAIN),localhost)
# Flower's login, generated once per machine (git-ignored, like var/dev-idp/).
FLOWER_AUTH_FILE := var/flower/basic-auth
# prometheus_client's multiprocess files of every process `make up` runs (emptied at start).
METRICS_DIR := var/metrics

.PHONY: help venv services idp-deps test-deps up migrate demo-tenant demo test lint bench bench-compare chaos format clean flower-auth

help:
	@echo "make up     - install, migrate, provision the demo tenant, run web+worker+beat+flower+idp"
	@echo "make test   - run the whole test suite with coverage"
	@echo "make demo   - (with make up running) post the sample Revenova messages, show what reached QuickBooks"
	@echo "make lint   - ruff, import layers, hadolint, GitHub workflow schemas"
	@echo "make bench  - every benchmark, one table of figures (also kept in var/bench/ as JSON and Markdown)"
	@echo "make bench-compare - the last two make bench runs side by side"
	@echo "make chaos  - 10,000 invoices under faults (kills, Redis and PostgreSQL restarts, 429s, a revoked token); web SIGKILLed around the ack"

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

services: venv
	@$(PY) scripts/check_services.py

migrate: services
	$(PY) manage.py migrate_schemas --shared --verbosity 0
	$(PY) manage.py platform_bootstrap
	$(PY) manage.py migrate_schemas --tenant --verbosity 0

demo-tenant: migrate
	$(PY) manage.py provision_tenant $(DEMO_SLUG) --name "Demo Freight Co"
	$(PY) manage.py breakglass_superuser --tenant $(DEMO_SLUG) --username breakglass --email breakglass@$(DEMO_SLUG).$(BASE_DOMAIN)

# user "admin" and a random password; FLOWER_BASIC_AUTH takes "user:password".
flower-auth:
	@test -s $(FLOWER_AUTH_FILE) || { mkdir -p $(dir $(FLOWER_AUTH_FILE)) && umask 077 && \
	  $(PY) -c 'import secrets; print("admin:" + secrets.token_urlsafe(18))' > $(FLOWER_AUTH_FILE); }

up: demo-tenant idp-deps flower-auth
	@rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	@echo ""
	@echo "  Demo Desk:        http://$(DEMO_SLUG).$(BASE_DOMAIN):8000/admin/"
	@echo "  Platform admin:   http://$(BASE_DOMAIN):8000/admin/"
	@echo "  API docs:         http://$(DEMO_SLUG).$(BASE_DOMAIN):8000/api/docs/"
	@echo "  Flower:           http://localhost:5555 (user admin, password $$(cut -d: -f2- $(FLOWER_AUTH_FILE)), kept in $(FLOWER_AUTH_FILE))"
	@echo "  Metrics:          http://$(BASE_DOMAIN):8000/metrics (Prometheus)"
	@echo "  Sandboxes:        QuickBooks http://127.0.0.1:9501, Salesforce :9502, Revenova :9503 (state at /__sandbox__/state)"
	@echo "  Connect:          Desk -> Connections -> QuickBooks Online (local sandbox) -> Connect"
	@DEMO_SLUG=$(DEMO_SLUG) $(PY) scripts/dev_idp_seed.py
	@echo "  Ctrl-C stops everything."
	@echo ""
	DEMO_SLUG=$(DEMO_SLUG) FLOWER_BASIC_AUTH="$$(cat $(FLOWER_AUTH_FILE))" \
	  PROMETHEUS_MULTIPROC_DIR="$(abspath $(METRICS_DIR))" \
	  PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start

# With `make up` running: the sample Outbound Messages go to the demo tenant's
# ingest URL, and what reached the QuickBooks sandbox is printed.
demo: venv
	$(PY) manage.py demo_run --tenant $(DEMO_SLUG)

# The development OpenID provider (npm oidc-provider, pinned in
# scripts/dev_oidc_provider): `make up` runs it, the login tests start it too.
idp-deps:
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is needed for the local OpenID provider: sudo apt-get install nodejs npm"; exit 1; }
	@test -d scripts/dev_oidc_provider/node_modules/oidc-provider || \
	  npm ci --prefix scripts/dev_oidc_provider --no-audit --no-fund --loglevel=error

# The login tests run that provider and the Desk tests drive Debian's Chromium.
test-deps: idp-deps
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }; }

test: services test-deps
	$(BIN)/pytest --cov --cov-report=term --cov-report=xml:coverage.xml; \
	  status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; status=0; fi; exit $$status

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint docker/Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

bench: services
	$(BIN)/pytest tests/benchmarks -q -s -p no:cacheprovider --no-cov -o testpaths=tests/benchmarks

bench-compare: venv
	$(PY) scripts/bench_compare.py

# Slow (about 15 minutes on 2 cores), so not in `make test`; its own Redis and PostgreSQL.
chaos: venv
	$(PY) -m tests.chaos.run

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache coverage.xml .coverage htmlcov var
