# Tartan: every target creates .venv from the lock file on first use and skips setup afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB    := $(VENV)/.installed-lab
DATA   ?= data/demo
OUT    ?= outputs
# the annual datapack's source: DfE's published files and the reference lists (see the README)
SOURCE ?= ../shared/public-data
YEAR   ?=

.PHONY: help setup report datapack validate test test-fast browser lint format bench lab lock clean distclean

help:
	@echo "make report    build every report from the embedded demo data into $(OUT)/"
	@echo "make test      run the test suite, browser tests included (a few minutes)"
	@echo "make test-fast the tests that run no notebook and open no browser (under a minute),"
	@echo "               for the inner loop"
	@echo "make datapack  the annual datapack of every region from DfE's published statistics"
	@echo "               in $(SOURCE) (YEAR=2024 for an earlier year) into $(OUT)/datapack/"
	@echo "make validate  validate the returns in $(DATA) (exit 1 if any is rejected;"
	@echo "               the demo has one faulty return on purpose)"
	@echo "make bench     benchmarks on a national-size dataset: validation, and the reports"
	@echo "               (cold, unchanged and one-LA-changed runs against the naive loop)"
	@echo "make lint      ruff and the layer contracts"
	@echo "make lab       JupyterLab on the project kernel, for editing notebooks"
	@echo "make lock      re-resolve requirements*.lock from pyproject.toml"
	@echo "make clean     remove generated outputs and demo data"

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/tartan kernel
	touch $@

setup: $(STAMP)

$(DATA)/dataset.yaml: $(STAMP)
	$(BIN)/tartan demo-data --out $(DATA)

report: $(STAMP)
	@if [ "$(DATA)" = "data/demo" ]; then $(BIN)/tartan demo-data --out $(DATA); fi
	$(BIN)/tartan report --data $(DATA) --out $(OUT)

datapack: $(STAMP)
	@if [ ! -d "$(SOURCE)" ]; then \
	  echo "No published statistics in $(SOURCE): put DfE's files there (see the README,"; \
	  echo "'The annual datapack') or run make datapack SOURCE=DIR"; exit 2; fi
	$(BIN)/tartan datapack --source $(SOURCE) --out $(OUT) $(if $(YEAR),--year $(YEAR))

# RETURNS: only these files or folders (the dataset's other returns are their history).
validate: $(STAMP)
	@if [ "$(DATA)" = "data/demo" ]; then $(BIN)/tartan demo-data --out $(DATA); fi
	$(BIN)/tartan validate --data $(DATA) --out $(OUT) $(RETURNS)

# Browser tests drive Debian's chromium (never a downloaded browser): installed here when missing,
# unless TARTAN_CHROMIUM names another Chromium or Chrome.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)

browser:
	@if [ -n "$$TARTAN_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || \
	  command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	echo "Installing Debian's chromium for the browser tests (apt-get)"; \
	{ $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; } || \
	{ echo "Could not install chromium with apt-get: install Chromium (or Chrome) and set"; \
	  echo "TARTAN_CHROMIUM to its path, then run make test again."; exit 1; }

# Tests run on every core; tests that share a module-wide build stay on one worker (loadgroup).
test: $(STAMP) browser
	$(BIN)/pytest -n auto --dist loadgroup

# No notebook, no report run, no browser: the tests marked e2e or browser are left out.
test-fast: $(STAMP)
	$(BIN)/pytest -n auto --dist loadgroup -m "not e2e and not browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m tests.bench

$(LAB): $(STAMP) requirements-lab.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-lab.lock
	touch $@

lab: $(LAB)
	$(BIN)/jupyter lab notebooks/

lock:
	$(PYTHON) -m venv /tmp/tartan-lock && /tmp/tartan-lock/bin/pip install --quiet uv
	/tmp/tartan-lock/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	--universal --generate-hashes --custom-compile-command "make lock" -o requirements.lock
	/tmp/tartan-lock/bin/uv pip compile pyproject.toml --extra dev --extra lab --python-version 3.11 \
	--universal --generate-hashes --custom-compile-command "make lock" -o requirements-lab.lock

clean:
	find $(OUT) -mindepth 1 ! -name README.md -delete 2>/dev/null || true
	rm -rf data/demo

distclean: clean
	rm -rf $(VENV)
