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

.PHONY: help install run test unit lint template-lint bench build clean

help:
	@echo "make run    - the whole pipeline on this machine (webhook-translator serve)"
	@echo "make test   - lint, template checks and every test suite"
	@echo "make lint   - ruff + mypy"
	@echo "make bench  - benchmarks (prints figures)"
	@echo "make build  - sam build (the deployable artefacts)"

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

run: install
	$(BIN)/webhook-translator serve --replay events

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

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

build: $(SAMBIN)/.installed
	$(SAMBIN)/sam build --parallel
	@! ls -d .aws-sam/build/SharedLayer/python/boto3 .aws-sam/build/SharedLayer/python/botocore 2>/dev/null \
		|| { echo "boto3/botocore must not be in the layer (the Lambda runtime has them)"; exit 1; }
	@du -sh .aws-sam/build/SharedLayer | sed 's/^/layer size: /'

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
