# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DATA_DIR ?= $(CURDIR)/data
# Test processes (pytest-xdist): much of the suite waits on servers, browsers and locks,
# so more workers than cores still pays. PYTEST_ARGS adds options (e.g. -m "not browser").
TEST_WORKERS ?= 4
# Tests handed out two at a time as workers free up. xdist's default first hands each
# worker a quarter of its share in one block, so the long tests (sorted first,
# tests/conftest.py) all went to the first worker, which ran them one after the other
# while the others had finished.
XDIST := -n $(TEST_WORKERS) --maxschedchunk 2
PYTEST_ARGS ?=

.PHONY: run test suite test-fast test-browser lint format bench clean messages upgrade-deps

# constraints.txt pins every package to the versions the suite last passed with, so a
# new upstream release cannot change a fresh install under us.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rencontres db upgrade
	$(BIN)/rencontres demo
	$(BIN)/rencontres serve

test: $(STAMP) tests/js/node_modules/.installed
	$(BIN)/ruff check events web tests bench
	$(BIN)/ruff format --check events web tests bench
	$(BIN)/mypy
	$(MAKE) suite

# The tests alone (CI's second pass, on PostgreSQL, after `make test` checked the code).
suite: $(STAMP) tests/js/node_modules/.installed
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# ical.js (Thunderbird's parser) checks our feeds when Node.js is present.
tests/js/node_modules/.installed: tests/js/package.json
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix tests/js && touch $@; \
	else echo "npm not found: ical.js checks will be skipped (CI installs it)"; fi

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow" -x

test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser

lint: $(STAMP)
	$(BIN)/ruff check events web tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix events web tests bench
	$(BIN)/ruff format events web tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) data .pytest_cache

# Refresh the French catalogue after adding or changing user-facing strings.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -o web/locale/messages.pot --no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i web/locale/messages.pot -d web/locale -l fr --no-fuzzy-matching --ignore-pot-creation-date

# Move to the newest releases allowed by pyproject.toml, in a throw-away environment,
# and rewrite the pins; then run `make test` and commit constraints.txt if it passes.
upgrade-deps:
	rm -rf $(VENV).upgrade
	$(PYTHON) -m venv $(VENV).upgrade
	$(VENV).upgrade/bin/python -m pip install --quiet --upgrade pip
	$(VENV).upgrade/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; $(VENV).upgrade/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(VENV).upgrade
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
