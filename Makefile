# creditflow: `make serve` installs and serves on SQLite; `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install assets serve test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml package-lock.json clients/python/pyproject.toml clients/typescript/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# The client libraries as their users install them (tests/clients, tests/examples); litellm for its integration.
	$(BIN)/pip install --quiet -e "./clients/python[litellm]"
	cd clients/typescript && npm ci --no-audit --no-fund
	$(MAKE) assets
	touch $@

# The portal's JavaScript, exactly as locked in package-lock.json, copied where /static serves it.
VENDOR := src/creditflow/web/static/vendor
assets:
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/

serve: install
	$(BIN)/creditflow serve

lint: install
	$(BIN)/ruff check src tests bench clients examples

test: lint
	$(BIN)/pytest -n 2

bench: install
	$(BIN)/python bench/ledger_bench.py
	$(BIN)/python bench/events_bench.py
	$(BIN)/python bench/guard_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info node_modules $(VENDOR) clients/python/build \
		clients/python/src/*.egg-info clients/typescript/node_modules clients/typescript/dist
