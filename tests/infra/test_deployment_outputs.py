"""infra/scripts/deployment_outputs.py, which the deploy workflow runs on `az deployment sub create`'s
outputs: names match whatever case ARM returns them in (issue 15, item 4), and a bad read fails loudly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.infra.bicep import INFRA, parse

SCRIPT = INFRA / "scripts" / "deployment_outputs.py"


def read(tmp_path, outputs: dict, *names: str) -> subprocess.CompletedProcess:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return subprocess.run([sys.executable, str(SCRIPT), str(path), *names], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("returned", ["SCIM_TENANT_URL", "scim_tenant_url", "Scim_Tenant_Url"])
def test_an_output_is_found_whatever_case_arm_returns(tmp_path, returned):
    done = read(
        tmp_path, {returned: {"type": "String", "value": "https://func-x.azurewebsites.net/scim/v2"}}, "SCIM_TENANT_URL"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "SCIM_TENANT_URL=https://func-x.azurewebsites.net/scim/v2\n"


def test_every_output_main_bicep_declares_reads_back_from_lower_case(tmp_path):
    declared = sorted(parse("main.bicep").outputs)
    returned = {name.lower(): {"type": "String", "value": f"value of {name}"} for name in declared}
    done = read(tmp_path, returned, *declared)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{name}=value of {name}" for name in declared]


def test_a_missing_output_fails_and_names_what_there_is(tmp_path):
    done = read(tmp_path, {"AZURE_RESOURCE_GROUP": {"type": "String", "value": "rg-dev"}}, "SCIM_TENANT_URL")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "SCIM_TENANT_URL is missing" in done.stderr and "AZURE_RESOURCE_GROUP" in done.stderr


def test_names_that_differ_only_in_case_are_ambiguous(tmp_path):
    done = read(tmp_path, {"Name": {"value": "a"}, "NAME": {"value": "b"}}, "name")
    assert done.returncode == 1
    assert "ambiguous" in done.stderr


def test_a_multi_line_value_cannot_inject_environment_variables(tmp_path):
    done = read(tmp_path, {"AZURE_RESOURCE_GROUP": {"value": "rg-dev\nGITHUB_PATH=/tmp/evil"}}, "AZURE_RESOURCE_GROUP")
    assert done.returncode == 1
    assert done.stdout == ""
