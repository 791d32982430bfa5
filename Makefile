# Trousseau: `make run` starts the demo, `make test` runs every check. Both set everything up.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/trousseau
export TROUSSEAU_SECRET_KEY ?= dev-only-secret-key-change-me-in-any-deployment-0123456789

.PHONY: messages run test setup browser nginx xmlsec redis lint unit unit-pg bench bench-oidc bench-load bench-scale bench-memory bench-saml bench-morning clean help standin serve-prod audit

help:
	@echo "make run    - set up, create the demo académie on SQLite, serve http://127.0.0.1:8000 and the demo ENT,"
	@echo "              Pronote-like and téléservices-like (8010, 8011, 8012; ports: PORT=, ENT_PORT=, …)"
	@echo "make test   - set up, lint, type-check, and run every test on SQLite and PostgreSQL"
	@echo "make bench  - benchmarks under bench/, results into docs/benchmarks.md"
	@echo "make bench-oidc - OIDC code -> token + userinfo against panva oidc-provider, into docs/benchmarks.md"
	@echo "make serve-prod - gunicorn with deploy/gunicorn.conf.py on the demo database, production settings over plain HTTP"
	@echo "make audit  - pip-audit of the pinned dependencies (needs PyPI JSON or OSV, unreachable on the project machines)"
	@echo "make bench-load - locust load test (logins, SMS journeys, SAML, OIDC) on 2 processes behind nginx (MINUTES=3)"
	@echo "make bench-scale - login p50/p99 with 10 k, 1 M and 5 M accounts in PostgreSQL (about 20 min, 3 GB)"
	@echo "make bench-memory - resident memory of a web worker (bench/serve.py and gunicorn), into docs/benchmarks.md"
	@echo "make bench-saml - SAML SSO with an encrypted assertion against the same in the clear, into docs/benchmarks.md"
	@echo "make bench-morning - a guardian's morning journey (ENT, Pronote, téléservices) next to its cryptographic floor (JOURNEYS=240)"

$(STAMP): requirements.txt requirements-dev.txt ent/requirements.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --only-binary=lxml,xmlsec -r requirements-dev.txt
	# The demo ENT's SAML library: wheels only, so xmlsec and lxml bundle the same libxml2.
	$(BIN)/pip install -q --only-binary=:all: -r ent/requirements.txt
	touch $(STAMP)

# Every catalogue in step with the code, then compiled. The families' languages cover everything but the
# staff console and the import (their own catalogues, English only: see LANGUAGES in the settings).
# tests/test_i18n.py fails on a message that is missing, untranslated or fuzzy in any shipped language.
FAMILY_LANGS := ar es pt tr
STAFF_APPS := trousseau/console trousseau/provisioning trousseau/directory/importers
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --no-obsolete --no-wrap -l en
	$(BIN)/python manage.py makemessages --no-obsolete --no-wrap $(addprefix -l ,$(FAMILY_LANGS)) $(foreach app,$(STAFF_APPS),--ignore '$(app)/*')
	for po in $$(find trousseau -path '*/locale/*/LC_MESSAGES/django.po'); do msgfmt --check -o $${po%.po}.mo $$po || exit 1; done

# Debian's xmlsec1: pysaml2 verifies the signed requests of SPs by running it (signing and encryption are
# in-process).
xmlsec:
	@command -v xmlsec1 >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null; }

setup: $(STAMP) xmlsec

# Debian's Chromium: browsers cannot be downloaded by Playwright here.
browser:
	@command -v chromium >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's nginx: the load balancer in front of the web processes in the scale-out tests and the load test.
nginx:
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

# Trousseau in `make run` and its public URL (OIDC issuer, SAML entityID): `make run PORT=8100` when
# 8000 is taken. Every other port of the demo is a variable too (FC_PORT, ENT_PORT, PRONOTE_PORT, …).
PORT ?= 8000
TROUSSEAU_URL := http://127.0.0.1:$(PORT)
RUN_ENV := TROUSSEAU_DEBUG=1 TROUSSEAU_PUBLIC_URL=$(TROUSSEAU_URL)

# The FranceConnect stand-in (panva oidc-provider configured like FranceConnect v2) that `make run`
# starts beside the service, and the environment that points Trousseau at it.
FC_STANDIN := franceconnect-standin
FC_PORT ?= 9100
FC_CLIENT_ID ?= trousseau-demo
FC_CLIENT_SECRET ?= trousseau-demo-secret-for-the-local-stand-in-only
FC_ENV := TROUSSEAU_FRANCECONNECT_BASE_URL=http://127.0.0.1:$(FC_PORT)/api/v2 \
	TROUSSEAU_FRANCECONNECT_CLIENT_ID=$(FC_CLIENT_ID) TROUSSEAU_FRANCECONNECT_CLIENT_SECRET=$(FC_CLIENT_SECRET)
FC_STANDIN_ENV := FC_STANDIN_PORT=$(FC_PORT) FC_CLIENT_ID=$(FC_CLIENT_ID) FC_CLIENT_SECRET=$(FC_CLIENT_SECRET) \
	FC_REDIRECT_URIS=$(TROUSSEAU_URL)/franceconnect/retour/ \
	FC_POST_LOGOUT_REDIRECT_URIS=$(TROUSSEAU_URL)/franceconnect/deconnexion/

# The demo services (ent/, `python -m ent serve --mode …`, separate from Trousseau) that `make run`
# starts on their own ports and registers in Trousseau: the ENT and the téléservices-like, SAML
# service providers on python3-saml registered from the metadata they serve, and the Pronote-like,
# an OpenID Connect client on Authlib registered with a fixed demo client id and secret.
ENT_PORT ?= 8010
PRONOTE_PORT ?= 8011
TELESERVICES_PORT ?= 8012
ENT_URL := http://127.0.0.1:$(ENT_PORT)
PRONOTE_URL := http://127.0.0.1:$(PRONOTE_PORT)
TELESERVICES_URL := http://127.0.0.1:$(TELESERVICES_PORT)
PRONOTE_CLIENT_ID ?= pronote-demo
PRONOTE_CLIENT_SECRET ?= pronote-demo-secret-for-the-local-demo-only
ENT_ENV := ENT_PUBLIC_URL=$(ENT_URL) ENT_IDP_METADATA_URL=$(TROUSSEAU_URL)/idp/shibboleth ENT_VAR_DIR=var/ent
TELESERVICES_ENV := ENT_PUBLIC_URL=$(TELESERVICES_URL) ENT_IDP_METADATA_URL=$(TROUSSEAU_URL)/idp/shibboleth \
	ENT_VAR_DIR=var/teleservices
PRONOTE_ENV := ENT_PUBLIC_URL=$(PRONOTE_URL) ENT_OIDC_ISSUER=$(TROUSSEAU_URL) \
	ENT_OIDC_CLIENT_ID=$(PRONOTE_CLIENT_ID) ENT_OIDC_CLIENT_SECRET=$(PRONOTE_CLIENT_SECRET)

$(FC_STANDIN)/node_modules/.package-lock.json: $(FC_STANDIN)/package.json $(FC_STANDIN)/package-lock.json
	cd $(FC_STANDIN) && npm ci --no-audit --no-fund --loglevel=error

standin: $(FC_STANDIN)/node_modules/.package-lock.json

run: setup standin
	mkdir -p var/demo
	$(RUN_ENV) $(BIN)/python manage.py migrate -v0
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo "Demo letters: var/demo/credentials.csv   Dev outbox (SMS and email): $(TROUSSEAU_URL)/dev/outbox/"
	@echo "FranceConnect stand-in: http://127.0.0.1:$(FC_PORT)/api/v2 (log: var/franceconnect-standin.log); its test identities match demo guardians"
	@echo "Demo services, one login opens all three (logs: var/ent.log, var/pronote.log, var/teleservices.log):"
	@echo "  ENT de démonstration (SAML):            $(ENT_URL)/   (metadata: $(ENT_URL)/auth/saml/metadata)"
	@echo "  Pronote (démonstration) (OpenID Connect): $(PRONOTE_URL)/   (client id: $(PRONOTE_CLIENT_ID))"
	@echo "  Téléservices (démonstration) (SAML):    $(TELESERVICES_URL)/   (metadata: $(TELESERVICES_URL)/auth/saml/metadata)"
	$(FC_STANDIN_ENV) node $(FC_STANDIN)/server.mjs > var/franceconnect-standin.log 2>&1 & FC_PID=$$!; \
	$(ENT_ENV) $(BIN)/python -m ent serve > var/ent.log 2>&1 & ENT_PID=$$!; \
	$(PRONOTE_ENV) $(BIN)/python -m ent serve --mode pronote > var/pronote.log 2>&1 & PRONOTE_PID=$$!; \
	$(TELESERVICES_ENV) $(BIN)/python -m ent serve --mode teleservices > var/teleservices.log 2>&1 & TS_PID=$$!; \
	trap 'kill $$FC_PID $$ENT_PID $$PRONOTE_PID $$TS_PID 2>/dev/null' EXIT INT TERM; \
	$(ENT_ENV) $(BIN)/python -m ent wait; \
	$(TELESERVICES_ENV) $(BIN)/python -m ent wait --mode teleservices; \
	$(PRONOTE_ENV) $(BIN)/python -m ent wait --mode pronote; \
	$(RUN_ENV) $(BIN)/python manage.py saml_sp_add --url $(ENT_URL)/auth/saml/metadata \
		--name "ENT de démonstration" --home-url $(ENT_URL)/ --release-children --release-join --encrypt --idp-initiated; \
	$(RUN_ENV) $(BIN)/python manage.py saml_sp_add --url $(TELESERVICES_URL)/auth/saml/metadata \
		--name "Téléservices (démonstration)" --home-url $(TELESERVICES_URL)/ --no-release-children --encrypt --no-idp-initiated; \
	$(RUN_ENV) $(BIN)/python manage.py oidc_client_add --update --name "Pronote (démonstration)" \
		--client-id $(PRONOTE_CLIENT_ID) --client-secret $(PRONOTE_CLIENT_SECRET) --home-url $(PRONOTE_URL)/ \
		--redirect-uri $(PRONOTE_URL)/auth/oidc/callback --post-logout-uri $(PRONOTE_URL)/deconnecte \
		--backchannel-uri $(PRONOTE_URL)/auth/oidc/backchannel --children; \
	$(FC_ENV) $(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy trousseau ent tests
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r trousseau ent --severity-level high
	DJANGO_SETTINGS_MODULE=trousseau.settings_test $(BIN)/python manage.py makemigrations --check --dry-run -v0

unit: setup browser nginx
	$(BIN)/pytest -n 2 -q

unit-pg: setup browser nginx
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3)" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 -q; \
	else echo "PostgreSQL not reachable at $(PG_URL): PostgreSQL run skipped"; fi

test: lint unit unit-pg

bench: setup
	$(BIN)/python bench/run.py

# panva oidc-provider is the one franceconnect-standin/ installs (bench/panva/server.mjs imports it from there).
# The Redis store of panva's adapter in bench/oidc.py (Debian's redis-server; the benchmark starts its own).
redis:
	@command -v redis-server >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

# ioredis for panva's Redis adapter (oidc-provider itself is franceconnect-standin's).
bench/panva/node_modules/.package-lock.json: bench/panva/package.json bench/panva/package-lock.json
	cd bench/panva && npm ci --no-audit --no-fund --loglevel=error

bench-oidc: setup standin redis bench/panva/node_modules/.package-lock.json
	$(BIN)/python bench/oidc.py

# gunicorn as in production (deploy/gunicorn.conf.py, DEBUG off) on the database `make run` made, over
# plain HTTP on 127.0.0.1:$(PORT): the figures and logs of docs/deployment.md, locally.
serve-prod: setup
	$(RUN_ENV) $(BIN)/python manage.py migrate -v0
	TROUSSEAU_DEBUG=0 TROUSSEAU_SECURE_COOKIES=0 TROUSSEAU_PUBLIC_URL=$(TROUSSEAU_URL) TROUSSEAU_OIDC_DEV_KEYS=1 \
		TROUSSEAU_SAML_DEV_KEYS=1 TROUSSEAU_STATIC_MANIFEST=1 TROUSSEAU_BIND=127.0.0.1:$(PORT) \
		sh -c '$(BIN)/python manage.py collectstatic --noinput -v0 && exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py'

# The load test: locust (bench-only, bench/requirements.txt) against 2 gunicorn processes behind nginx on a
# throwaway PostgreSQL database; figures into docs/benchmarks.md.
MINUTES ?= 3
bench-load: setup nginx
	$(BIN)/pip install -q -r bench/requirements.txt
	$(BIN)/python bench/load.py --minutes $(MINUTES)

# PostgreSQL only: fills 5 M accounts (SIZES=10000,1000000 for a shorter run).
SIZES ?= 10000,1000000,5000000
bench-scale: setup
	$(BIN)/python bench/scale.py --sizes $(SIZES)

bench-memory: setup
	$(BIN)/python bench/memory.py

bench-saml: setup
	$(BIN)/python bench/saml.py

# One gunicorn sync worker on PostgreSQL (creates and drops trousseau_morning_bench); issue #21's figure 1.
JOURNEYS ?= 240
bench-morning: setup
	$(BIN)/python bench/morning.py --journeys $(JOURNEYS)

# Known vulnerabilities in the pinned dependencies (pip-audit, in a venv of its own). It asks PyPI's
# JSON API or OSV, which the machines of this project cannot reach (their package mirror serves no
# per-version JSON): run it where they are reachable; it is not part of `make test` for that reason.
audit:
	test -d .venv-audit || $(PY) -m venv .venv-audit
	.venv-audit/bin/pip install -q pip-audit==2.10.1
	.venv-audit/bin/pip-audit --strict --disable-pip --no-deps -r requirements.txt -r ent/requirements.txt

clean:
	rm -rf $(VENV) var
