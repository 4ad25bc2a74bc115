# lagscope — the two set-up commands are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: layers install demo test test-fast test-versions check lint typecheck bench bench-report ops-tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Prometheus and promtool (the rules' checks, the Prometheus end-to-end tests),
# docker-compose (validates docker-compose.yml; no Docker engine needed) and wrk (the
# probe's cost under an external load, benchmarks/probe_overhead.py --wrk), from Debian.
ops-tools:
	@if command -v promtool >/dev/null && command -v prometheus >/dev/null \
	    && command -v docker-compose >/dev/null && command -v wrk >/dev/null; then \
	    echo "ops-tools: installed"; else \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends prometheus docker-compose wrk; fi

demo: $(STAMP)
	$(BIN)/lagscope run --app shop --fault blocking_io --users 20 --duration 10s

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e"

# The installed-wheel checks on Python 3.11, 3.12 and 3.13 (each one this machine has).
test-versions: $(STAMP)
	tools/test_versions.sh

lint: $(STAMP)
	$(BIN)/ruff check lagscope harness reports target_apps scenarios tests benchmarks deploy
	$(BIN)/ruff format --check lagscope harness reports target_apps scenarios tests benchmarks deploy

typecheck: $(STAMP)
	MYPY=$(CURDIR)/$(BIN)/mypy tools/typecheck.sh

# The import graph's layers (tests/test_layers.py): an upward import or a cycle fails.
layers: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_layers.py

check: lint typecheck layers

bench: $(STAMP)
	$(BIN)/python benchmarks/probe_overhead.py

bench-report: $(STAMP)
	$(BIN)/python benchmarks/report_1m.py

clean:
	rm -rf $(VENV) build *.egg-info
