# o4o-causal. The two commands: `make reproduce` and `make test`.
# Both create .venv from the lock file when it is missing (Python 3.12 needed).
SHELL := /bin/sh
VENV  := .venv
BIN   := $(VENV)/bin
PROFILE ?= full
NOTEBOOKS ?=

.PHONY: help venv reproduce test lint typecheck pytest lab lock clean-venv

help:
	@echo "make reproduce   execute every notebook (full profile), export HTML, write manifest + index"
	@echo "make test        ruff + mypy + pytest (unit, integration, notebooks in the quick profile)"
	@echo "make lab         JupyterLab with the project's kernel"
	@echo "make lint        ruff + mypy only"
	@echo "make lock        re-resolve reproducibility/requirements.lock from pyproject.toml"

# The venv is (re)synced whenever the lock file or pyproject.toml changes.
$(VENV)/.o4o-lock.sha256: reproducibility/requirements.lock pyproject.toml
	@scripts/bootstrap-venv

venv: $(VENV)/.o4o-lock.sha256

reproduce: venv
	$(BIN)/o4o run --profile $(PROFILE) $(if $(NOTEBOOKS),--notebooks '$(NOTEBOOKS)')

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy o4o_causal
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy o4o_causal

lab: venv
	$(BIN)/jupyter lab --notebook-dir=notebooks

lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.12 \
		--generate-hashes --quiet -o reproducibility/requirements.lock

clean-venv:
	rm -rf $(VENV)
