# Trousseau: `make run` starts the demo, `make test` runs every check. Both set everything up.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/trousseau
export TROUSSEAU_SECRET_KEY ?= dev-only-secret-key-change-me-in-any-deployment-0123456789

.PHONY: run test setup browser lint unit unit-pg bench clean help

help:
	@echo "make run    - set up, create the demo académie on SQLite, serve http://127.0.0.1:8000"
	@echo "make test   - set up, lint, type-check, and run every test on SQLite and PostgreSQL"
	@echo "make bench  - benchmarks under bench/, results into docs/benchmarks.md"

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium: browsers cannot be downloaded by Playwright here.
browser:
	@command -v chromium >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: setup
	mkdir -p var/demo
	TROUSSEAU_DEBUG=1 $(BIN)/python manage.py migrate -v0
	TROUSSEAU_DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Demo letters: var/demo/credentials.csv   Dev outbox (SMS and email): http://127.0.0.1:8000/dev/outbox/"
	TROUSSEAU_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy trousseau tests
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=trousseau.settings_test $(BIN)/python manage.py makemigrations --check --dry-run -v0

unit: setup browser
	$(BIN)/pytest -n 2 -q

unit-pg: setup browser
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3)" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 -q; \
	else echo "PostgreSQL not reachable at $(PG_URL): PostgreSQL run skipped"; fi

test: lint unit unit-pg

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
