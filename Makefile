# MLflow Login: build, run, test. `make help` lists the targets.
#
# CI runs `.ci/run`, which is `make test`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Computed here, from the caller's HOME: tests/fixtures/with-keyring.sh gives the tests
# a throwaway HOME, and the build cache must not follow it there.
CARGO_TARGET_DIR ?= $(HOME)/.cache/mlflow-login/target
export CARGO_TARGET_DIR
MLL_CACHE ?= $(HOME)/.cache/mlflow-login
export MLL_CACHE

CARGO ?= cargo
RELEASE_DIR := $(CARGO_TARGET_DIR)/release

.PHONY: help deps tauri-driver build run test stress fuzz flaky fixtures-check fixtures-up fixtures-down bench package

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-15s %s\n", $$1, $$2 }'

deps: ## install missing Debian packages and cargo tools
	scripts/install-deps.sh

tauri-driver: ## also install tauri-driver (only the tray WebDriver e2e needs it)
	scripts/install-deps.sh --tauri-driver

build: ## release build of everything (CLI, tray app)
# The front end first: src-tauri embeds ui/dist.
	scripts/build-ui.sh
# The CLI on its own: built together, cargo would give it the tray's tokio features.
	$(CARGO) build --release -p mlflow-login
	$(CARGO) build --release -p mlflow-login-tray

run: build ## build, then start the tray app (or show the CLI's help until it exists)
	@if [[ -x "$(RELEASE_DIR)/mlflow-login-tray" ]]; then \
		exec "$(RELEASE_DIR)/mlflow-login-tray"; \
	else \
		echo "(no tray app built yet: $(RELEASE_DIR)/mlflow-login-tray)"; \
		"$(RELEASE_DIR)/mlflow-login" --help; \
	fi

test: ## everything CI runs: deps, then all suites (debug builds) against a private keychain and the real fixtures
	tests/make-test.sh

stress: ## concurrent commands killed with SIGKILL mid-change, long (STRESS_CYCLES, default 400; make test runs 15)
	$(CARGO) build -p mlflow-login
	STRESS_CYCLES=$${STRESS_CYCLES:-400} tests/faults/run.sh stress

flaky: ## repeat the tray, WebDriver and real-shell suites RUNS times (default 10) and count failures
	scripts/build-ui.sh
	tests/flaky.sh $${RUNS:-10}

fuzz: ## the property tests with many cases (PROPTEST_CASES, default 5000; make test runs 64)
	PROPTEST_CASES=$${PROPTEST_CASES:-5000} $(CARGO) test --workspace --lib --bins -- proptests random_answers

fixtures-check: ## start the fixture servers, assert each answers as documented, stop them
	tests/fixtures/with-servers.sh tests/fixtures/selfcheck.sh

fixtures-up: ## start the fixture servers and leave them up (for poking by hand)
	tests/fixtures/up.sh "$(MLL_CACHE)/fixtures"

fixtures-down: ## stop what fixtures-up started
	tests/fixtures/down.sh "$(MLL_CACHE)/fixtures"

bench: ## run the benchmarks (tests/bench/run.sh)
	@if [[ -x tests/bench/run.sh ]]; then \
		tests/bench/run.sh; \
	else \
		echo "bench: no benchmarks yet (tests/bench/run.sh)"; \
	fi

package: ## build the .deb (Tauri bundler): both binaries, desktop entry, icons
	scripts/build-ui.sh
	scripts/package.sh
