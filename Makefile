# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench bench-cluster install compat

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'

# The whole system (private persistent Redis under var/, worker, scheduler, dashboard) with demo jobs.
demo: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/pipeline up --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The compatibility check runs first so that pytest's summary is the run's closing line.
test: lint
	$(BIN)/python compat/run.py
	$(BIN)/pytest

# Dramatiq's own tests (from the installed version's source distribution) against PipelineBroker.
compat: install
	$(BIN)/python compat/run.py

bench: install
	$(BIN)/python bench/bench.py

# Throughput with queues on 3 masters against 1, on local clusters started from redis-server.
bench-cluster: install
	$(BIN)/python bench/cluster.py
