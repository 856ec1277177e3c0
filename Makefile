# The front door. Every target installs what it needs into local virtual
# environments, so a fresh clone with Python 3.11 and the package registry suffices.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SAMVENV := .venv-sam
BIN := $(VENV)/bin
SAMBIN := $(SAMVENV)/bin
SAM_CLI_VERSION := 1.170.0
CFN_LINT_VERSION := 1.58.0
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help install run test unit lint template-lint bench soak build build-x86 clean

help:
	@echo "make run    - the whole pipeline on this machine (webhook-translator serve); PORT=, AWS_PORT=, ARGS="
	@echo "make test   - lint, template checks and every test suite"
	@echo "make lint   - ruff + mypy"
	@echo "make bench  - benchmarks (prints figures)"
	@echo "make soak   - 5,000 webhooks through serve with 10 % Ours faults (prints the books)"
	@echo "make build  - sam build (the deployable artefacts)"
	@echo "make build-x86 - the layer for x86_64 in .aws-sam/build-x86_64 (local runs, benchmarks)"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# SAM tooling lives in its own environment: aws-sam-cli pins its own world.
$(SAMBIN)/.installed:
	$(PYTHON) -m venv $(SAMVENV)
	$(SAMBIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(SAMBIN)/pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION) cfn-lint==$(CFN_LINT_VERSION)
	touch $@

install: $(BIN)/.installed

# make run PORT=3001 AWS_PORT=5002 ARGS="--secrets my-secrets.json": serve's ports and any other option
run: install
	$(BIN)/webhook-translator serve --replay events $(if $(PORT),--port $(PORT)) $(if $(AWS_PORT),--aws-port $(AWS_PORT)) $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

template-lint: $(SAMBIN)/.installed
	$(SAMBIN)/cfn-lint template.yaml
	$(SAMBIN)/sam validate --lint
	$(SAMBIN)/sam validate

unit: install
	$(BIN)/pytest tests/unit -q

test: lint template-lint
	$(BIN)/pytest -q

# Each bench/bench_*.py, as a module (python -m bench.bench_x), so that they share bench/lambda_env.py.
bench: install
	@for b in bench/bench_*.py; do m=$${b%.py}; echo "== $$b"; $(BIN)/python -m $${m//\//.} || exit 1; done

# 5,000 signed webhooks through `serve` at a steady rate, the local Ours failing 10 % of calls/rows:
# accepted = delivered + dead-lettered, exactly (tests/e2e/test_soak.py runs 500 of them in `make test`).
soak: install
	cd tests && ../$(BIN)/python -m support.soak --webhooks 5000

# The layer is built by layers/shared/Makefile (sam build's makefile method); its check runs again
# here on the output, so a cached build is checked too.
LAYER_MAKE = $(MAKE) --no-print-directory -f layers/shared/Makefile PYTHON=$(PYTHON)

build: $(SAMBIN)/.installed
	$(SAMBIN)/sam build --parallel
	@$(LAYER_MAKE) check ARTIFACTS_DIR=.aws-sam/build/SharedLayer
	@du -sh .aws-sam/build/SharedLayer | sed 's/^/layer size (unzipped): /'

# The same layer for x86_64, to load on this machine (local runs, make bench):
# .aws-sam/build-x86_64/SharedLayer/python. No SAM needed.
build-x86:
	@$(LAYER_MAKE) build-SharedLayer LAYER_ARCH=x86_64 ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build-x86_64/SharedLayer
	@du -sh .aws-sam/build-x86_64/SharedLayer | sed 's/^/layer size (unzipped, x86_64): /'

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
