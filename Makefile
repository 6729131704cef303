# The two commands a new user runs: `make run` and `make test`. Everything else is set-up they call.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ROOT ?= $(or $(LAKEHOUSE_ROOT),.lakehouse)
export SPARK_LOCAL_IP := 127.0.0.1
export PYSPARK_PYTHON := $(CURDIR)/$(BIN)/python

.PHONY: install run test dev lock clean

$(BIN)/.installed: setup.py pyproject.toml constraints.txt scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip check
	touch $@

install: $(BIN)/.installed

run: install
	LAKEHOUSE_ROOT=$(ROOT) $(BIN)/lakehouse run

test: install
	$(BIN)/dagster definitions validate -w workspace.yaml
	$(BIN)/python -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing the run" >&2; exit 1; fi; exit $$rc

dev: install
	mkdir -p $(ROOT)/dagster && cp dagster.yaml $(ROOT)/dagster/dagster.yaml
	DAGSTER_HOME=$(abspath $(ROOT))/dagster LAKEHOUSE_ROOT=$(ROOT) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Re-resolve the pinned set after changing setup.py: constraints.txt is the lock file `install` uses.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^lakehouse' > constraints.txt

clean:
	rm -rf $(VENV) $(ROOT) .pytest_cache
