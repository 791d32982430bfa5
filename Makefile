# Trousseau: `make run` starts the demo, `make test` runs every check. Both set everything up.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/trousseau
export TROUSSEAU_SECRET_KEY ?= dev-only-secret-key-change-me-in-any-deployment-0123456789

.PHONY: run test setup browser xmlsec lint unit unit-pg bench clean help standin

help:
	@echo "make run    - set up, create the demo académie on SQLite, serve http://127.0.0.1:8000"
	@echo "make test   - set up, lint, type-check, and run every test on SQLite and PostgreSQL"
	@echo "make bench  - benchmarks under bench/, results into docs/benchmarks.md"

$(STAMP): requirements.txt requirements-dev.txt ent/requirements.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	# The demo ENT's SAML library: wheels only, so xmlsec and lxml bundle the same libxml2.
	$(BIN)/pip install -q --only-binary=:all: -r ent/requirements.txt
	touch $(STAMP)

# Debian's xmlsec1: pysaml2 signs, verifies and encrypts SAML messages by running it.
xmlsec:
	@command -v xmlsec1 >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null; }

setup: $(STAMP) xmlsec

# Debian's Chromium: browsers cannot be downloaded by Playwright here.
browser:
	@command -v chromium >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The FranceConnect stand-in (panva oidc-provider configured like FranceConnect v2) that `make run`
# starts beside the service, and the environment that points Trousseau at it.
FC_STANDIN := franceconnect-standin
FC_PORT ?= 9100
FC_CLIENT_ID ?= trousseau-demo
FC_CLIENT_SECRET ?= trousseau-demo-secret-for-the-local-stand-in-only
FC_ENV := TROUSSEAU_FRANCECONNECT_BASE_URL=http://127.0.0.1:$(FC_PORT)/api/v2 \
	TROUSSEAU_FRANCECONNECT_CLIENT_ID=$(FC_CLIENT_ID) TROUSSEAU_FRANCECONNECT_CLIENT_SECRET=$(FC_CLIENT_SECRET)
FC_STANDIN_ENV := FC_STANDIN_PORT=$(FC_PORT) FC_CLIENT_ID=$(FC_CLIENT_ID) FC_CLIENT_SECRET=$(FC_CLIENT_SECRET) \
	FC_REDIRECT_URIS=http://127.0.0.1:8000/franceconnect/retour/ \
	FC_POST_LOGOUT_REDIRECT_URIS=http://127.0.0.1:8000/franceconnect/deconnexion/

# The demo ENT (ent/, a separate SAML service provider on python3-saml) that `make run` starts on its
# own port and registers in Trousseau from the metadata it serves.
ENT_PORT ?= 8010
ENT_URL := http://127.0.0.1:$(ENT_PORT)
ENT_ENV := ENT_PUBLIC_URL=$(ENT_URL) ENT_IDP_METADATA_URL=http://127.0.0.1:8000/idp/shibboleth ENT_VAR_DIR=var/ent

$(FC_STANDIN)/node_modules/.package-lock.json: $(FC_STANDIN)/package.json $(FC_STANDIN)/package-lock.json
	cd $(FC_STANDIN) && npm ci --no-audit --no-fund --loglevel=error

standin: $(FC_STANDIN)/node_modules/.package-lock.json

run: setup standin
	mkdir -p var/demo
	TROUSSEAU_DEBUG=1 $(BIN)/python manage.py migrate -v0
	TROUSSEAU_DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Demo letters: var/demo/credentials.csv   Dev outbox (SMS and email): http://127.0.0.1:8000/dev/outbox/"
	@echo "FranceConnect stand-in: http://127.0.0.1:$(FC_PORT)/api/v2 (log: var/franceconnect-standin.log); its test identities match demo guardians"
	@echo "Demo ENT: $(ENT_URL)/ (log: var/ent.log); its SAML metadata: $(ENT_URL)/auth/saml/metadata"
	$(FC_STANDIN_ENV) node $(FC_STANDIN)/server.mjs > var/franceconnect-standin.log 2>&1 & FC_PID=$$!; \
	$(ENT_ENV) $(BIN)/python -m ent serve > var/ent.log 2>&1 & ENT_PID=$$!; \
	trap 'kill $$FC_PID $$ENT_PID 2>/dev/null' EXIT INT TERM; \
	$(ENT_ENV) $(BIN)/python -m ent wait; \
	TROUSSEAU_DEBUG=1 $(BIN)/python manage.py saml_sp_add --url $(ENT_URL)/auth/saml/metadata \
		--name "ENT de démonstration" --release-children --encrypt --idp-initiated; \
	$(FC_ENV) TROUSSEAU_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy trousseau ent tests
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
