# manyi — the two commands a new machine needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS := requirements/constraints.txt
PORT ?= 8000
# Tests run with these; the SQLite test database itself is in memory (pytest-django).
TEST_ENV := MANYI_HOME=$$(mktemp -d) MANYI_SECRET_KEY=test-only-secret-key-not-for-production-0123456789
PYTEST_ARGS ?=

.PHONY: demo test lint install install-test system-test-deps test-run clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	touch $@

install: $(VENV)/.installed

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[test,lint]'
	touch $@

install-test: $(VENV)/.installed-test

## make demo: install, prepare the embedded SQLite database with real sample data, serve the app
demo: install
	$(VENV)/bin/manyi demo --port $(PORT)

## make test: install what the tests need, then run the whole suite on SQLite and on PostgreSQL
test: system-test-deps install-test
	$(PY) scripts/with_postgres.py -- $(MAKE) --no-print-directory test-run

system-test-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || missing="$$missing fonts-wqy-microhei"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test-run:
	@test -n "$$MANYI_TEST_DATABASE_URL" || { echo "run 'make test' (it starts PostgreSQL)"; exit 1; }
	@echo "== the whole suite, desk database on SQLite"
	$(TEST_ENV) MANYI_DATABASE_URL=sqlite:///manyi-test.sqlite3 $(VENV)/bin/pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)
	@echo "== every desk-database test again, on PostgreSQL"
	$(TEST_ENV) MANYI_DATABASE_URL=$$MANYI_TEST_DATABASE_URL $(VENV)/bin/pytest -n 2 -p no:cacheprovider -m desk_db $(PYTEST_ARGS)

## make lint: what CI's linters run
lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var build dist .pytest_cache .mypy_cache .ruff_cache
