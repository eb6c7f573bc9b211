# medrisk: the two commands a newcomer needs.
#   make report   build the environment if needed, make the demo data, run the report pack
#   make test     build the environment if needed, run every test (package and notebooks)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO := data/demo
INVOICES ?= 20000
SEED ?= 0

.PHONY: report test env demo bench lint clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "medrisk needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing medrisk and its dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

$(DEMO)/invoices.parquet: | $(STAMP)
	$(BIN)/medrisk demo-data --out $(DEMO) --invoices $(INVOICES) --seed $(SEED)

demo: $(STAMP) $(DEMO)/invoices.parquet

report: $(STAMP) $(DEMO)/invoices.parquet
	$(BIN)/medrisk validate $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check medrisk tests benchmarks

clean:
	rm -rf $(VENV) data reports/*/
