# Two commands do everything: `make run` and `make test`. `make serve` is for production.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
BIND   ?= 127.0.0.1:8000
FLASK  := $(BIN)/flask --app app

.PHONY: run test lint test-sqlite test-postgres install translations serve worker upgrade-db clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

# Compile the zh_CN / en catalogs (.po -> .mo); the .mo files are build output.
translations: $(VENV)/.installed
	$(BIN)/python -m translations.catalog

# Create the tables of a new database, or bring an existing one up to the current schema.
upgrade-db: install
	$(FLASK) upgrade-db

# The notification worker (deadline alerts, reports, invitations; delivery of the outbox) runs
# beside the web server and stops with it. E-mail needs MAIL_SERVER/MAIL_PORT (README).
run: upgrade-db
	$(FLASK) seed-demo --if-empty
	@echo "Open http://$(HOST):$(PORT)/ and log in with one of the accounts above."
	@$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn with several workers and, unless NOTIFY_WORKER=0 (a machine that only
# serves pages), one notification worker beside it (settings and environment in gunicorn.conf.py;
# growing beyond one machine: docs/SCALING.md).
NOTIFY_WORKER ?= 1
serve: upgrade-db
	@if [ "$(NOTIFY_WORKER)" = "0" ]; then exec $(BIN)/gunicorn -c gunicorn.conf.py --bind $(BIND); fi; \
	$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(BIND)

# Only the notification worker (a machine that delivers but serves no pages; docs/SCALING.md).
worker: upgrade-db
	$(FLASK) worker

# The whole suite on SQLite; then again on PostgreSQL when TEST_DATABASE_URL is set
# (postgresql://user:password@127.0.0.1:5432/dbname; the tests empty that database).
test: lint test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else \
	  echo; \
	  echo "*** TEST_DATABASE_URL is not set: the suite ran on SQLite ONLY; PostgreSQL was NOT tested."; \
	  echo "*** To test PostgreSQL too: TEST_DATABASE_URL=postgresql://user:pw@127.0.0.1:5432/db make test"; \
	  echo "*** (.ci/run installs and starts a PostgreSQL server and does this.)"; \
	fi

# ruff (settings in pyproject.toml) on the whole tree: the suite only runs on lint-clean code.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test-sqlite: $(VENV)/.installed-dev translations
	@echo "== test suite on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev translations
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "TEST_DATABASE_URL is not set (postgresql://user:pw@127.0.0.1:5432/db)"; exit 2; fi
	@echo "== test suite on PostgreSQL: $$(echo "$$TEST_DATABASE_URL" | sed -E 's#//([^:/@]+):[^@]*@#//\1:***@#')"
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
