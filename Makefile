# tradebot: `make demo` runs the main job on the embedded default; `make test` is what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Use uv from PATH; otherwise install it with pip and run it as a module.
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

.PHONY: help install demo test lint typecheck unit bench bench-sentinel chaos clean up down status

help:
	@echo "make install   create .venv with every dependency (uv, from uv.lock)"
	@echo "make demo      replay ~60 days of built-in data through the flows and print a summary"
	@echo "make up        start Prefect server, deployments, worker, sentinel, dashboard (tradebot up)"
	@echo "make down      stop exactly what make up started (tradebot down)"
	@echo "make test      lint + import contracts + the test suite (what CI runs)"
	@echo "make bench     benchmarks (ratios against peers measured in the same run)"
	@echo "make bench-sentinel  stop sentinel ticks/s and tick-to-exit latency against a local stream server"
	@echo "make chaos     1,000 orders through faulty fake brokers, worker killed twice (SEED=n to vary)"
	@echo "make typecheck mypy over the core packages"

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/tradebot demo

up: install
	$(BIN)/tradebot up

down:
	@if [ -x $(BIN)/tradebot ]; then $(BIN)/tradebot down; else echo "nothing to stop (no .venv)"; fi

status: install
	$(BIN)/tradebot status

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	UV="$(UV)" $(BIN)/python tools/audit_deps.py

typecheck: install
	$(BIN)/mypy tradebot strategies risk

unit: install
	$(BIN)/pytest -q tests/unit

test: lint
	$(BIN)/pytest -q

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

bench-sentinel: install
	$(BIN)/python bench/bench_sentinel.py

SEED ?= 1
INTENTS ?= 1000
chaos: install
	$(BIN)/python -m bench.chaos --intents $(INTENTS) --seed $(SEED)

clean:
	rm -rf .tradebot .pytest_cache .ruff_cache .mypy_cache
