# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
CHORUS := $(VENV)/bin/chorus

.PHONY: demo test install lint down

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

## install: the Python environment in .venv (Kafka jars and OPA are fetched by `chorus stack up`)
install: $(VENV)/.installed

## demo: stack up, synthetic LA, connector, worker; shows aggregate cells arriving
demo: install
	$(CHORUS) demo

## test: every test (lint, policies, unit, integration, end-to-end) on the real local stack
test: install
	bash tests/run.sh

## lint: ruff and OPA's own checks
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## down: stop the local stack
down:
	$(CHORUS) stack down
