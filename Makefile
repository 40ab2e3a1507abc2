# Front door: `make run` serves the app locally, `make test` runs every test. Both set up what they
# need first: .venv from requirements-dev.txt, Azurite from package-lock.json and the separate checkov
# venv (tools/mk/infra.mk).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7071
AZURITE_PORT ?= 10002
AZURITE_DIR := .azurite
MAIL_PORT ?= 2525
# Azurite's documented development account (a public, well-known key).
AZURITE_CONNECTION_STRING := DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$(AZURITE_PORT)/devstoreaccount1;

include tools/mk/infra.mk
SETUP := $(VENV)/.stamp node_modules/.stamp checkov-venv

.PHONY: help setup venv node_modules azurite azurite-stop mailcapture mailcapture-stop run test lint fuzz coverage mutate bench clean

help:
	@echo "make run    serve the app on http://$(HOST):$(PORT) over a local Azurite, with a demo tenant"
	@echo "make test   lint, type-check and run the whole test suite (tests start their own Azurite)"
	@echo "make lint       ruff check, ruff format --check and mypy only"
	@echo "make coverage   the test suite with per-module coverage (subprocesses included); fails under 89%"
	@echo "make mutate     mutation testing of shared/ within a time budget (MUTATE_ARGS='--budget 600 shared.scim.*')"
	@echo "make fuzz       the fuzz suite at full size (~20,800 generated cases)"
	@echo "make setup | azurite | azurite-stop | bench | clean"

setup: $(SETUP)
venv: $(VENV)/.stamp
node_modules: node_modules/.stamp

# Stamps: reinstall only when the pins change.
$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# $(call background,NAME,PORT,COMMAND): start COMMAND detached unless something answers on PORT already;
# its log and pid go to .azurite/NAME.log and .azurite/NAME.pid, and $(call stop,NAME) ends it.
define background
	@mkdir -p $(AZURITE_DIR)
	@if $(PY) -m tools.localhost.wait --port $(2) --timeout 0; then \
		echo "$(1): something already answers on 127.0.0.1:$(2)"; \
	else \
		nohup $(3) > $(AZURITE_DIR)/$(1).log 2>&1 < /dev/null & echo $$! > $(AZURITE_DIR)/$(1).pid; \
		$(PY) -m tools.localhost.wait --port $(2) --timeout 30 \
			|| { echo "$(1) did not start, see $(AZURITE_DIR)/$(1).log" >&2; exit 1; }; \
		echo "$(1) started on 127.0.0.1:$(2) (pid $$(cat $(AZURITE_DIR)/$(1).pid), log $(AZURITE_DIR)/$(1).log)"; \
	fi
endef
define stop
	@if [ -f $(AZURITE_DIR)/$(1).pid ]; then kill "$$(cat $(AZURITE_DIR)/$(1).pid)" 2>/dev/null || true; rm -f $(AZURITE_DIR)/$(1).pid; fi
endef

# Table service only, data kept in .azurite/; reused when something already answers on the port.
azurite: $(VENV)/.stamp node_modules/.stamp
	$(call background,azurite,$(AZURITE_PORT),node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort $(AZURITE_PORT) --location $(AZURITE_DIR) --skipApiVersionCheck --loose)

azurite-stop:
	$(call stop,azurite)

# The capture SMTP server the local app sends invitations to (SCIM_MAIL_CHANNEL=capture, the default):
# nothing leaves the machine; mails land in .azurite/mail/ (*.eml and index.jsonl).
mailcapture: $(VENV)/.stamp
	$(call background,mailcapture,$(MAIL_PORT),$(PY) -m tools.mailcapture --port $(MAIL_PORT) --dir $(AZURITE_DIR)/mail)

mailcapture-stop:
	$(call stop,mailcapture)

# The environment wins: export SCIM_STORAGE_CONNECTION_STRING to serve other storage. The timer's
# schedule is an app setting (%SCIM_RECONCILE_SCHEDULE%); locally it defaults to the app's default.
# The printed URLs (and the app's own links) use the address it really listens on: SCIM_PUBLIC_BASE_URL
# from HOST/PORT unless the environment sets it.
run: export SCIM_STORAGE_CONNECTION_STRING ?= $(AZURITE_CONNECTION_STRING)
run: export SCIM_SMTP_PORT ?= $(MAIL_PORT)
run: export SCIM_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: setup azurite mailcapture
	@$(PY) -m tools.admin demo --json | $(PY) -c 'import json, sys; d = json.load(sys.stdin); print("\nDemo tenant " + d["tenantId"] + "\n  Tenant URL:   " + d["tenantUrl"] + "\n  Secret Token: " + d["token"] + "\n  Admin console: " + str(d.get("consoleUrl")) + "  (one-time, 10 minutes; more: python -m tools.admin console-link)\n")'
	@export SCIM_RECONCILE_SCHEDULE="$${SCIM_RECONCILE_SCHEDULE:-$$($(PY) -c 'from shared.config import DEFAULT_RECONCILE_SCHEDULE as s; print(s)')}"; \
		exec $(PY) -m tools.localhost --host $(HOST) --port $(PORT)

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff (lint + format check) and mypy, configured in pyproject.toml; part of `make test`.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The fuzz suite at full size (~20,800 generated cases; `make test` runs ~1,200 of them).
fuzz: setup
	SCIM_FUZZ=full $(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

coverage: setup
	$(PY) -m pytest --cov --cov-report=term --cov-fail-under=89 $(PYTEST_ARGS)

# Not part of `make test`: mutmut (setup.cfg) over shared/ with the unit and integration tests; prints the survivors.
mutate: setup
	$(PY) -m tools.mutate $(MUTATE_ARGS)

# tools.bench starts its own in-memory Azurite, so benchmarks never touch the `make run` data. Default: the
# side-by-side with scim2-server; other modes through BENCH_ARGS (e.g. BENCH_ARGS=cpu, BENCH_ARGS=reconcile).
BENCH_ARGS ?= compare
bench: setup
	$(PY) -m tools.bench $(BENCH_ARGS)

clean: azurite-stop mailcapture-stop
	rm -rf $(VENV) $(VENV)-* node_modules $(AZURITE_DIR) .pytest_cache mutants .coverage .coverage.*
