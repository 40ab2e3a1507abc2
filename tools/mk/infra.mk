# Infrastructure checks, included from the Makefile. checkov lives in its own venv: it pins many
# dependencies that must not fight the app's pins in .venv.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov

.PHONY: checkov-venv infra-check checkov

# Idempotent: the stamp names the version, so changing CHECKOV_VERSION rebuilds the venv.
checkov-venv: $(CHECKOV_VENV)/.stamp-$(CHECKOV_VERSION)

$(CHECKOV_VENV)/.stamp-$(CHECKOV_VERSION):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $@

# Bicep parse, policy and settings-drift tests, checkov, and the deploy smoke script against the local
# host (which needs Azurite, hence node_modules).
infra-check: $(VENV)/.stamp node_modules/.stamp checkov-venv
	$(PY) -m pytest tests/infra $(PYTEST_ARGS)

# checkov's own report, to read the details of a failed check. --skip-download: no Prisma Cloud calls.
checkov: checkov-venv
	$(CHECKOV_VENV)/bin/checkov --framework bicep -d infra --skip-download --compact --quiet
