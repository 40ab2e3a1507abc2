"""docs/deploy.md documents every azd environment value infra/main.parameters.json reads, so a person can
set AZURE_PRINCIPAL_TYPE or SCIM_KEY_VAULT_CREATE_MODE without reading the template (issue 15, items 6, 8)."""

from __future__ import annotations

import re

from tests.infra.bicep import INFRA

DEPLOY_DOC = INFRA.parent / "docs" / "deploy.md"


def test_every_azd_value_of_the_parameter_file_is_documented():
    names = set(re.findall(r"\$\{([A-Z_]+)(?:=[^}]*)?\}", (INFRA / "main.parameters.json").read_text()))
    assert {"AZURE_PRINCIPAL_TYPE", "SCIM_KEY_VAULT_CREATE_MODE"} <= names
    doc = DEPLOY_DOC.read_text()
    assert not {name for name in names if f"`{name}`" not in doc}


def test_the_recovery_and_principal_type_steps_are_written_out():
    doc = DEPLOY_DOC.read_text()
    assert "azd env set SCIM_KEY_VAULT_CREATE_MODE recover" in doc
    assert "azd env set SCIM_KEY_VAULT_CREATE_MODE default" in doc
    assert "azd env set AZURE_PRINCIPAL_TYPE ServicePrincipal" in doc
    assert "UnmatchedPrincipalType" in doc
