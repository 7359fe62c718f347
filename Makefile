# elearn: `make run` sets up and serves with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app elearn
HOST ?= 127.0.0.1
PORT ?= 5000
CATALOG := elearn/translations
MO := $(patsubst %.po,%.mo,$(wildcard $(CATALOG)/*/LC_MESSAGES/messages.po))

.PHONY: help install run serve test test-fast lint fmt translations i18n-update db content clean bench bench-draw bench-fairness bench-certificates

help:
	@echo "make run    set up .venv, migrate, load content and demo users, serve on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite (unit, web, browser)"
	@echo "make serve  migrate and serve with gunicorn (gunicorn.conf.py; ELEARN_BIND, ELEARN_WORKERS)"
	@echo "make lint   ruff and mypy;  make fmt  format the code"
	@echo "make i18n-update  extract UI strings and update the nb/da catalogues"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null

translations: $(MO)

db: install
	$(FLASK) db upgrade

content: db
	$(FLASK) content sync

# flask run's own variables: the app derives PUBLIC_URL (the address signed into the demo
# certificates) from them when none is configured, so `make run PORT=8080` signs 8080.
run: export FLASK_RUN_HOST := $(HOST)
run: export FLASK_RUN_PORT := $(PORT)
run: content
	$(FLASK) demo
	$(FLASK) run --host $(HOST) --port $(PORT)

serve: db  ## production-style: gunicorn with gunicorn.conf.py (no demo data)
	$(BIN)/gunicorn -c gunicorn.conf.py elearn.wsgi:app

# The OpenID provider the SSO tests sign in through (panva's oidc-provider, tests/oidc/), from
# the npm registry with the machine's Node.js; without npm those tests say why they skip.
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package-lock.json
	if command -v npm >/dev/null; then cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error; fi

test: install $(OIDC_PROVIDER)
	$(BIN)/pytest

test-fast: install $(OIDC_PROVIDER)
	$(BIN)/pytest -m "not e2e"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

i18n-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		--project elearn -o $(CATALOG)/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i $(CATALOG)/messages.pot -d $(CATALOG)

DB ?= sqlite
bench: install  ## a cohort on gunicorn over loopback; DB=postgresql for PostgreSQL
	$(BIN)/python bench/run.py --db $(DB)

bench-draw: install
	$(BIN)/python bench/draw_speed.py

bench-fairness: install
	$(BIN)/python bench/form_fairness.py

bench-certificates: install
	$(BIN)/python bench/credential_speed.py
	$(BIN)/python bench/pdf_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
