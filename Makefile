# Tartan: every target creates .venv from the lock file on first use and skips setup afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB    := $(VENV)/.installed-lab
DATA   ?= data/demo
OUT    ?= outputs

.PHONY: help setup report validate test lint format bench lab lock clean distclean

help:
	@echo "make report    build every report from the embedded demo data into $(OUT)/"
	@echo "make test      run the test suite (and lint)"
	@echo "make validate  validate the returns in $(DATA) (exit 1 if any is rejected;"
	@echo "               the demo has one faulty return on purpose)"
	@echo "make bench     benchmarks (validation of a national-size set of returns)"
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

# RETURNS: only these files or folders (the dataset's other returns are their history).
validate: $(STAMP)
	@if [ "$(DATA)" = "data/demo" ]; then $(BIN)/tartan demo-data --out $(DATA); fi
	$(BIN)/tartan validate --data $(DATA) --out $(OUT) $(RETURNS)

test: $(STAMP)
	$(BIN)/pytest

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
