# Two commands for a fresh Debian machine with Python 3.11:
#   make demo   sets up .venv and runs judgekit on the bundled PandaLM data
#   make test   sets up .venv (and Debian chromium and postgresql for the tests) and runs every quality gate
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint typecheck pytest bench chromium postgresql phoenix clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@# test oracle for judgekit.stats (Gwet's R irrCAC, ported); it pins scipy==1.12 and pandas<3, so no deps
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps 'irrcac==0.4.4'
	touch $@

demo: setup
	$(BIN)/judgekit demo

chromium:
	@scripts/ensure-chromium

postgresql:
	@scripts/ensure-postgresql

# The Phoenix server the connector tests start (tests/connectors/test_phoenix.py): its own venv, because
# arize-phoenix pins anthropic<2 and judgekit needs anthropic>=2; judgekit talks to it with arize-phoenix-client.
PHOENIX_VENV ?= .venv-phoenix
PHOENIX_SPEC ?= arize-phoenix==20.26.1
phoenix: $(PHOENIX_VENV)/.installed

$(PHOENIX_VENV)/.installed:
	$(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(PHOENIX_VENV)/bin/uv pip install --quiet --python $(PHOENIX_VENV)/bin/python '$(PHOENIX_SPEC)'
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy judgekit labeling_app

pytest: setup chromium postgresql phoenix
	$(BIN)/pytest

test: lint typecheck pytest

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(PHOENIX_VENV) .pytest_cache .mypy_cache .ruff_cache
