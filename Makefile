# INTRASA — the two commands of the README, and a few helpers.
#   make run   fresh clone → http://127.0.0.1:8000 with demo data (SQLite, embedded worker, sandbox)
#   make test  the test suite (PostgreSQL and Redis on 127.0.0.1), in parallel, about five minutes
#   make test-long  the long property and load runs (marked `long`), kept out of `make test`
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_ARGS ?=
# pytest-xdist workers: one per CPU. Each has its own PostgreSQL test database (test_<db>_gw0, …)
# and Redis database (REDIS_URL's number for gw0, one lower for each next worker; see
# intrasa/settings/test.py). TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist worksteal

.PHONY: run test test-long test-property deps system-deps messages bench clean lint

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

deps: $(VENV)/.installed

run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: deps
	$(PY) manage.py compilemessages --ignore=.venv -v0 || true
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	@echo "INTRASA on http://127.0.0.1:$(PORT)/ — demo logins in README.md"
	$(PY) manage.py devserver 127.0.0.1:$(PORT)

# Debian packages the tests need (Chromium for browser tests, poppler for PDF text, fonts for
# WeasyPrint, gettext for translations); installed only when missing and when we are root.
system-deps:
	@bash scripts/system-deps.sh

# --durations: the 30 slowest tests close every run (and CI log), where keeping the suite near five minutes starts.
test: deps system-deps
	$(PY) manage.py compilemessages --ignore=.venv -v0
	DJANGO_SETTINGS_MODULE=intrasa.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not long" --durations=30 $(TEST_ARGS)

test-long: deps system-deps
	$(PY) manage.py compilemessages --ignore=.venv -v0
	$(PY) -m pytest $(PYTEST_PARALLEL) -m long $(TEST_ARGS)

# The whole money system under random actions and provider faults, at length (tests/system).
PROPERTY_EXAMPLES ?= 200
test-property: deps system-deps
	$(PY) manage.py compilemessages --ignore=.venv -v0
	INTRASA_PROPERTY_EXAMPLES=$(PROPERTY_EXAMPLES) INTRASA_PROPERTY_STEPS=40 INTRASA_PROPERTY_RANDOM=1 \
		$(PY) -m pytest -p no:cacheprovider tests/system tests/ledger/test_invariants_stateful.py

messages: deps
	$(PY) manage.py makemessages -l id -l en --ignore=.venv --ignore=var --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l id -l en --ignore=.venv --ignore=var --no-obsolete

# Lint and types: ruff over the code, mypy (django-stubs) over services, selectors and faspay/.
lint: deps
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: deps
	$(PY) benchmarks/run.py

clean:
	rm -rf var/ .pytest_cache
