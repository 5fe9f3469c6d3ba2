# The two commands: `make run` (the product on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: run token test check lint clean messages messages-compile audit bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtualenv: on Debian/Ubuntu run 'apt-get install python3-venv'."; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.runtime

## run: SQLite, the filesystem broker, demo data; web + worker + beat on http://127.0.0.1:$(PORT)
## (DEBUG off, as people will use it: the product's own error pages, never Django's technical ones;
## demo mode keeps a generated SECRET_KEY under var/ and sends cookies over plain http)
RUN_ENV := DEBUG=0 DEMO_MODE=1
run: $(VENV)/.runtime
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py load_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(RUN_ENV) RCC_PORT=$(PORT) $(BIN)/honcho start

## token: an API token for a demo user of `make run` (FOR=ciso; DAYS=N for another life), printed once
token: $(VENV)/.runtime
	@test -n "$(FOR)" || { echo "Say whose token: make token FOR=ciso"; exit 2; }
	$(RUN_ENV) $(BIN)/python manage.py issue_api_token '$(FOR)' $(if $(DAYS),--days '$(DAYS)')

## test: the whole suite (SQLite and in-process services unless DATABASE_URL/CELERY_BROKER_URL say otherwise)
## in XDIST pytest-xdist workers (XDIST=0: in one process); each worker has its own test database,
## var dir and Redis database (config/testing.py), and takes the next test when it is free. The
## tests that start real processes share an xdist_group to run in turn on one worker; pytest 9.2
## ignores that for now (pytest-xdist#1386) and they run side by side, which they also pass
XDIST ?= 2
test: $(VENV)/.dev
	$(BIN)/python -m pytest $(if $(filter-out 0,$(XDIST)),-n $(XDIST) --dist loadgroup) $(PYTEST_ARGS)

## bench: the benchmarks at company scale on PostgreSQL and Redis (docs/performance.md); BENCH_SCALE=0.01 for a quick run
BENCH_SCALE ?= 1
# At company scale a missed target fails the run; smaller scales miss targets by design.
BENCH_STRICT = $(if $(filter 1 1.0,$(BENCH_SCALE)),--strict,)
bench: $(VENV)/.dev
	$(BIN)/python -m bench --scale $(BENCH_SCALE) $(BENCH_STRICT) $(BENCH_ARGS)

## check: lint, types, layering, migrations
check: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy .
	$(BIN)/lint-imports
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/bandit -q -r accounts audit cases committee config systems actions quality vulnerabilities outbox bench -ll

## audit: known vulnerabilities in the installed dependencies (needs PyPI's vulnerability API or OSV)
audit: $(VENV)/.dev
	$(BIN)/pip install --quiet pip-audit
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off  # a package it cannot check fails it

## messages: collect every translatable string into locale/ja (then translate the new ones)
messages: $(VENV)/.dev
	DEBUG=1 $(BIN)/python manage.py makemessages -l ja --no-obsolete --keyword=N_ --ignore '.venv/*' --ignore 'var/*'

## messages-compile: build locale/*/django.mo from the .po files (needs GNU gettext's msgfmt)
messages-compile: $(VENV)/.dev
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf var/test-rcc*.sqlite3* var/broker var/gw[0-9]*
