# medrisk: the two commands a newcomer needs.
#   make report   build the environment if needed, make the demo data, run the report pack
#   make test     build the environment if needed, run every test (package, doctests and notebooks)
#   make test-fast  the quick subset (no `slow` or `notebooks` tests), about a minute
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO := data/demo
INVOICES ?= 20000
SEED ?= 0

.PHONY: report test test-fast env demo browser postgres bench lint clean

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

# Debian's Chromium and CJK fonts: the report tests open the HTML in a real browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and fonts-noto-cjk (the report tests open HTML in a browser) ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Debian's PostgreSQL: the database tests start a throwaway server of their own.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql (the database tests start a throwaway server) ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql libpq5 >/dev/null; }

report: $(STAMP) $(DEMO)/invoices.parquet
	$(BIN)/medrisk validate $(DEMO) || true
	$(BIN)/medrisk run params/monthly-management.yaml

test: $(STAMP) browser postgres $(DEMO)/invoices.parquet
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --nbval-lax --doctest-modules medrisk tests notebooks

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not slow and not notebooks" tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data reports/*/
