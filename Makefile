# itgen-chain: `make demo` and `make test` set up whatever is missing, then do their job.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
NETWORK ?= ethereum:local:foundry

.PHONY: help setup compile package-contracts test test-contracts lint slither demo bench property-slow safe-cli clean

help:
	@echo "make demo   - set up, then run the whole program on a local chain (anvil)"
	@echo "make test   - set up, then run the test suite"
	@echo "make bench  - gas and indexing benchmarks, written to bench/"
	@echo "make package-contracts (after changing contracts/), make slither, make lint,"
	@echo "make property-slow, make safe-cli (for the safe-cli file test), make clean"

## Set-up: each step runs only when its inputs changed.
setup: $(VENV)/.installed node_modules/.installed
	@sh tools/register-solc.sh

$(VENV)/.installed: requirements.lock pyproject.toml plugins/ape-offline-solc/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "itgen-chain needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e plugins/ape-offline-solc -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

compile: setup
	ape compile

# Ship the compiled escrow inside the package (itgen_chain/data): run after changing
# contracts/, and commit the result; a test fails while the package lags the source.
package-contracts: compile
	$(BIN)/python tools/package_contracts.py

# The linter and the type checker (mypy with the pydantic plugin; untyped definitions are
# refused outside the click front end, itgen_chain/_cli): .ci/run runs them before the tests.
lint: setup
	ruff check itgen_chain scripts tests plugins tools devtools
	ruff format --check itgen_chain scripts tests plugins tools devtools
	mypy itgen_chain

slither: setup
	slither contracts --solc-standard-json --solc $(BIN)/solc \
		--solc-remaps "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/" \
		--filter-paths "node_modules|contracts/test" --exclude-informational --exclude-low \
		--fail-medium

# Two halves at once, one a core: the command tests (subprocesses against their own anvils)
# and the rest (its local records in a folder of its own); the second half's output follows.
TEST := ape test --network $(NETWORK) -p no:cacheprovider --durations=6
test: setup
	@rest=$$(mktemp); local=$$(mktemp -d); \
	ITGEN_LOCAL_FOLDER=$$local $(TEST) tests --deselect tests/scripts/test_commands.py \
		--ignore tests/scripts/test_commands.py > $$rest 2>&1 & pid=$$!; \
	$(TEST) tests/scripts/test_commands.py; commands=$$?; \
	wait $$pid; others=$$?; cat $$rest; rm -rf $$rest $$local; \
	echo "make test: command tests exit $$commands, the rest exit $$others"; \
	test $$commands -eq 0 && test $$others -eq 0
	$(MAKE) --no-print-directory slither

# safe-cli 1.9.0 in a venv of its own (its pins clash with ape's), for the test that reads our
# Transaction Builder files with it; the test skips where it is missing.
safe-cli: .venv-safe-cli/.installed
.venv-safe-cli/.installed:
	test -x .venv-safe-cli/bin/python || $(PYTHON) -m venv .venv-safe-cli
	.venv-safe-cli/bin/pip install --quiet --disable-pip-version-check \
		safe-cli==1.9.0 typer==0.16.0 click==8.1.8 web3==7.16.0
	touch $@

property-slow: setup
	HYPOTHESIS_PROFILE=slow ape test tests/property --network $(NETWORK)

demo: setup
	sh tools/with-anvil.sh ape run demo --network $(NETWORK)

bench: setup
	sh tools/with-anvil.sh ape run bench --network $(NETWORK)

clean:
	rm -rf .build contracts/.cache out
