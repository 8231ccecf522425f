# WIMS: `make demo` runs the demo, `make test` runs the tests; each sets up what it needs first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck check bench install install-test system-deps openapi clean assets i18n

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

system-deps:
	bash .ci/system-deps.sh

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml | system-deps
	$(PIP) install -q -e '.[dev,badge]'
	touch $@

install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(VENV)/bin/wims demo

# The AGV fleet tests run simulated time against wall-clock deadlines: they get a process of their own.
test: $(VENV)/.installed-test
	$(PY) -m pytest -q --ignore=tests/fleet $(PYTEST_ARGS)
	$(PY) -m pytest -q tests/fleet $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

check: lint typecheck test

bench: $(VENV)/.installed
	@for b in bench/[!_]*.py; do \
	  echo "== $$b"; $(PY) -m bench.$$(basename $$b .py) --quick || exit 1; \
	done

# Re-vendor the browser libraries from npm at the versions pinned in sync/web/vendor.py (needs npm; the
# committed copies work without it).
assets: $(VENV)/.installed
	$(PY) -m sync.web.vendor

# Extract every string a person sees, merge into the Chinese catalog, compile it (the .mo is committed).
LOCALE_DIR := sync/web/locale
i18n: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o $(LOCALE_DIR)/messages.pot .
	$(VENV)/bin/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -l zh_Hans --no-fuzzy-matching --ignore-obsolete
	$(PY) -m sync.web.locale.zh_Hans
	$(VENV)/bin/pybabel compile -d $(LOCALE_DIR) -l zh_Hans --statistics

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
