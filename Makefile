# Switchboard. `make run` serves the whole product on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test test-e2e lint format worker beat migrate seed install install-dev clean bench

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Switchboard needs Python 3.10 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## Serve HTTP + WebSockets on 127.0.0.1:$(PORT) with demo data (SQLite, in-process tasks, the simulator).
run: seed
	$(PY) manage.py serve --port $(PORT)

## The whole suite: unit/integration tests, then the browser tests (skipped, saying so, without Chromium).
test: install-dev
	$(PY) -m pytest -m "not e2e and not services" -q
	$(PY) -m pytest -m e2e -q tests || [ $$? -eq 5 ]

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Benchmarks (bench/): ingest, webhook-to-screen latency and outbound send rate, embedded mode and, when
## PostgreSQL and Redis answer on 127.0.0.1, services mode. JSON in bench/results/, a Markdown table on stdout.
## BENCH_PROFILE=full runs every script's own defaults (longer).
BENCH_PROFILE ?= quick
bench: install-dev
	$(PY) bench/run_all.py --profile $(BENCH_PROFILE)

## Production pieces (with REDIS_URL and DATABASE_URL set).
worker: install
	$(VENV)/bin/celery -A config worker -Q inbound,outbound,default,bulk -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

clean:
	rm -rf $(VENV) var
