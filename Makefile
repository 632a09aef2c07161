# itgen-chain: `make demo` and `make test` set up whatever is missing, then do their job.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
NETWORK ?= ethereum:local:foundry

.PHONY: help setup compile package-contracts claim-page test test-contracts lint slither demo bench property-slow safe-cli clean

help:
	@echo "make demo   - set up, then run the whole program on a local chain (anvil)"
	@echo "make test   - set up, then run the test suite"
	@echo "make bench  - gas, indexing, provider, roster and watch benchmarks, into bench/"
	@echo "              (about 25 minutes; one of them: make bench ONLY=provider)"
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

# Bundle the claim page (claim-page/, with @noble/curves and @noble/hashes from npm) into
# itgen_chain/data/claim.html: run after changing claim-page/, and commit the result.
claim-page: node_modules/.installed
	node tools/build-claim-page.mjs

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

# Three lanes at once, each with its local records in a folder of its own. The end-to-end
# runs (tests/end_to_end) wait on subprocesses, anvils and pip much of the time, so they
# take two lanes: the chain-97 ones (the Safe team, the testnet rehearsal, the unattended
# registrar, the demo), and the wheel with the killed runs. The third is the rest, in-process
# (unit, contract, library and command tests), with slither after it. The output of the
# other two follows the first's. The contracts are compiled once before the lanes start.
TEST := ape test --network $(NETWORK) -p no:cacheprovider --durations=6
CHAIN_97 := $(addprefix tests/end_to_end/,test_safe_team.py test_testnet_rehearsal.py \
	test_unattended.py test_demo.py)
PROCESSES := $(addprefix tests/end_to_end/,test_wheel.py test_killed_runs.py)
test: compile
	@b=$$(mktemp); c=$$(mktemp); one=$$(mktemp -d); two=$$(mktemp -d); three=$$(mktemp -d); \
	ITGEN_LOCAL_FOLDER=$$two $(TEST) $(PROCESSES) > $$b 2>&1 & b_pid=$$!; \
	( ITGEN_LOCAL_FOLDER=$$three $(TEST) tests --ignore tests/end_to_end \
		&& $(MAKE) --no-print-directory slither ) > $$c 2>&1 & c_pid=$$!; \
	ITGEN_LOCAL_FOLDER=$$one $(TEST) $(CHAIN_97); chain_97=$$?; \
	wait $$b_pid; processes=$$?; wait $$c_pid; others=$$?; \
	cat $$b $$c; rm -rf $$b $$c $$one $$two $$three; \
	echo "make test: chain-97 end-to-end exit $$chain_97, wheel and killed runs exit $$processes," \
		"the rest (and slither) exit $$others"; \
	test $$chain_97 -eq 0 && test $$processes -eq 0 && test $$others -eq 0

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
	sh tools/with-anvil.sh ape run bench --network $(NETWORK) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf .build contracts/.cache out
