# creditflow: `make serve` installs and serves on SQLite; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install serve test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

serve: install
	$(BIN)/creditflow serve

lint: install
	$(BIN)/ruff check src tests bench

test: lint
	$(BIN)/pytest -n 2

bench: install
	$(BIN)/python bench/ledger_bench.py
	$(BIN)/python bench/events_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
