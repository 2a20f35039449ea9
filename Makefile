# ConvergeAI developer tasks. `make` alone lists the targets.
#
# Variables: PYTHON (interpreter for the venv, default python3), PYTEST_ARGS, BENCH_ARGS, PACKAGE_TEST_ARGS,
# RUN_ARGS, ADMIN_ARGS, SKIP_SYSTEM_DEPS=1 (don't check/install Debian packages),
# SKIP_LINT=1 (make test without ruff/mypy).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=
BENCH_ARGS ?=
RUN_ARGS ?= --windowed --demo
ADMIN_ARGS ?= --demo
PACKAGE_TEST_ARGS ?=

.PHONY: help venv system-deps lint test bench run admin package package-test clean distclean

help: ## list the targets
	@echo "ConvergeAI make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: PYTEST_ARGS='-k foo -x', BENCH_ARGS, RUN_ARGS, ADMIN_ARGS, PYTHON, SKIP_SYSTEM_DEPS=1, SKIP_LINT=1"

system-deps: ## install the Debian packages (Qt libs, PostgreSQL, MariaDB, Xvfb); root only
	bash scripts/system-deps.sh

venv: $(VENV)/.stamp ## create/update .venv with the project and its dev tools

$(VENV)/.stamp: pyproject.toml
ifneq ($(SKIP_SYSTEM_DEPS),1)
	bash scripts/system-deps.sh
endif
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet 'pip>=25.1'
	$(VPY) -m pip install -e '.[postgres,mysql]' --group dev
	touch $@

# Both linters always run, so one pass reports everything.
LINT = rc=0; \
	echo "+ ruff check ."; $(VENV)/bin/ruff check . || rc=$$?; \
	echo "+ mypy"; $(VENV)/bin/mypy || rc=$$?

lint: venv ## ruff check + mypy
	@$(LINT); exit $$rc

# Lint and the tests both run (so one CI run reports both); the target fails if either
# does, with pytest's status taking precedence. The DB servers live only for the pytest run.
test: venv ## lint, then pytest against throw-away PostgreSQL + MariaDB servers
	@lint_rc=0; \
	if [ "$(SKIP_LINT)" != 1 ]; then $(LINT); lint_rc=$$rc; fi; \
	echo "+ pytest $(PYTEST_ARGS)"; \
	QT_QPA_PLATFORM=offscreen CONVERGEAI_REQUIRE_ALL_BACKENDS=1 \
	    bash scripts/with-dbservers.sh $(VENV)/bin/pytest $(PYTEST_ARGS) || exit $$?; \
	if [ $$lint_rc -ne 0 ]; then echo "make test: tests passed but lint failed" >&2; fi; \
	exit $$lint_rc

bench: venv ## run the benchmarks against throw-away PostgreSQL + MariaDB servers
	QT_QPA_PLATFORM=offscreen bash scripts/with-dbservers.sh $(VPY) -m bench $(BENCH_ARGS)

run: venv ## start the kiosk in a window with demo data
	@if [ -d kiosk ]; then \
	    echo "+ $(VPY) -m kiosk $(RUN_ARGS)"; $(VPY) -m kiosk $(RUN_ARGS); \
	else \
	    echo "The kiosk is not built yet; the core works: try .venv/bin/convergeai --help"; \
	fi

admin: venv ## start the admin console
	@if [ -d admin_console ]; then \
	    echo "+ $(VPY) -m admin_console $(ADMIN_ARGS)"; $(VPY) -m admin_console $(ADMIN_ARGS); \
	else \
	    echo "The admin console is not built yet; the core works: try .venv/bin/convergeai --help"; \
	fi

package: venv ## build the bundle (build.spec) and dist/convergeai-<version>-<platform>.tar.gz
	$(VPY) -m PyInstaller --noconfirm --clean build.spec
	$(VPY) packaging/archive.py

package-test: venv ## build the bundle from a clean checkout and smoke-run it (PACKAGE_TEST_ARGS=--worktree)
	bash scripts/package-test.sh $(PACKAGE_TEST_ARGS)

clean: ## remove build output and caches (keeps .venv)
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
