# Front door: `make run` starts the service locally, `make test` runs every test. Both set up what
# they need first (.venv from requirements-dev.txt, Azurite from package.json).
SHELL := bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 7071
AZURITE_PORT ?= 10002

.PHONY: setup run test bench azurite azurite-stop clean

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

-include tools/mk/*.mk

setup: $(VENV)/.stamp node_modules/.stamp $(EXTRA_SETUP)

# Azurite for `make run`: table service only, data kept in .azurite/, reused if already running.
azurite: node_modules/.stamp
	@mkdir -p .azurite
	@if $(PY) -m tools.localhost.wait --port $(AZURITE_PORT) --timeout 0 2>/dev/null; then \
		echo "Azurite already answers on 127.0.0.1:$(AZURITE_PORT)"; \
	else \
		nohup node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort $(AZURITE_PORT) \
			--location .azurite --skipApiVersionCheck --loose > .azurite/azurite.log 2>&1 & echo $$! > .azurite/azurite.pid; \
		$(PY) -m tools.localhost.wait --port $(AZURITE_PORT) --timeout 30; \
		echo "Azurite started on 127.0.0.1:$(AZURITE_PORT) (pid $$(cat .azurite/azurite.pid), log .azurite/azurite.log)"; \
	fi

azurite-stop:
	@if [ -f .azurite/azurite.pid ]; then kill $$(cat .azurite/azurite.pid) 2>/dev/null || true; rm -f .azurite/azurite.pid; fi

run: setup azurite
	@$(PY) -m tools.admin demo --json > .azurite/demo-tenant.out
	@$(PY) -c 'import json; d = json.load(open(".azurite/demo-tenant.out")); print("\nTenant URL:   " + d["tenantUrl"] + "\nSecret token: " + d["token"] + "\nTenant id:    " + d["tenantId"] + "\n")'
	@rm -f .azurite/demo-tenant.out
	exec $(PY) -m tools.localhost --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) -m tools.bench

clean: azurite-stop
	rm -rf $(VENV) $(VENV)-* node_modules .azurite .pytest_cache
