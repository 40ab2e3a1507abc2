""".github/workflows/deploy.yml, parsed: the rules a real run depends on and no offline run can show
(issue 15, items 2, 3, 4 and 8). The copy step is also run here, to show it yields a deployable folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.bicep import INFRA

ROOT = INFRA.parent
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
SMOKE_TEST = "infra/scripts/smoke-test.sh"
# What the package folder must hold for the Functions host and the remote build (see .funcignore).
APP_FILES = ("function_app.py", "host.json", "requirements.txt", ".funcignore")


@pytest.fixture(scope="module")
def jobs() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]


def _uses(step: dict[str, Any], action: str) -> bool:
    return step.get("uses", "").lower().startswith(action.lower() + "@")


def _steps_using(jobs: dict[str, Any], action: str) -> list[tuple[str, int, dict[str, Any]]]:
    return [
        (name, index, step)
        for name, job in jobs.items()
        for index, step in enumerate(job.get("steps", []))
        if _uses(step, action)
    ]


def _one_step_using(jobs: dict[str, Any], action: str) -> tuple[str, int, dict[str, Any]]:
    found = _steps_using(jobs, action)
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


def _smoke_step(jobs: dict[str, Any]) -> tuple[str, int]:
    found = [
        (name, index)
        for name, job in jobs.items()
        for index, step in enumerate(job.get("steps", []))
        if SMOKE_TEST in step.get("run", "")
    ]
    assert len(found) == 1, f"expected one step running {SMOKE_TEST}, found {found}"
    return found[0]


def _runner_temp_path(expression: str) -> str:
    """`${{ runner.temp }}/app` -> `$RUNNER_TEMP/app`: the same folder as a shell step names it."""
    path, count = re.subn(r"^\$\{\{\s*runner\.temp\s*\}\}", "$RUNNER_TEMP", expression.strip())
    assert count == 1, f"package {expression!r} is not a folder under the runner's temp directory"
    return path


def test_code_is_deployed_from_a_copy_not_the_checkout(jobs):
    """functions-action with respect-funcignore deletes the ignored paths (infra/, tools/) from the folder it
    is given (item 2): that folder must be a copy outside the checkout, made earlier in the same job."""
    job_name, index, deploy = _one_step_using(jobs, "Azure/functions-action")
    package = str(deploy["with"].get("package", ".")).strip()
    assert package.rstrip("/") not in {"", ".", "${{ github.workspace }}", "$GITHUB_WORKSPACE"}
    copy = _runner_temp_path(package)
    earlier = [step.get("run", "") for step in jobs[job_name]["steps"][:index]]
    assert any(copy in run for run in earlier), f"no earlier step writes {copy}"


def test_the_copy_step_yields_the_app_with_its_funcignore(jobs, tmp_path):
    """Run the copy step as the runner would: the folder holds what the host needs, plus .funcignore for
    functions-action to prune, and no repository metadata."""
    job_name, index, deploy = _one_step_using(jobs, "Azure/functions-action")
    copy = _runner_temp_path(str(deploy["with"]["package"]))
    step = next(step for step in reversed(jobs[job_name]["steps"][:index]) if "$RUNNER_TEMP" in step.get("run", ""))
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step["run"]],
        cwd=ROOT,
        env={**os.environ, "RUNNER_TEMP": str(tmp_path)},
        check=True,
        timeout=120,
    )
    folder = Path(copy.replace("$RUNNER_TEMP", str(tmp_path)))
    for name in APP_FILES:
        assert (folder / name).is_file(), f"{name} missing from the copy"
    assert not (folder / ".git").exists()
    assert deploy["with"].get("respect-funcignore") is True, (
        "the copy holds infra/, tests/, tools/: .funcignore must prune them"
    )


def test_smoke_test_runs_right_after_a_fresh_oidc_login(jobs):
    """GitHub's ID token lives minutes and the CLI cannot renew a federated login (item 3): the step right
    before the smoke test logs in again, after the code deployment, in the same job."""
    job_name, index = _smoke_step(jobs)
    steps = jobs[job_name]["steps"]
    assert index > 0 and _uses(steps[index - 1], "azure/login"), "the smoke test must directly follow azure/login"
    login = steps[index - 1]["with"]
    assert {"client-id", "tenant-id", "subscription-id"} <= set(login) and "creds" not in login, (
        "OIDC, not a client secret"
    )
    deploys = [i for name, i, _ in _steps_using(jobs, "Azure/functions-action") if name == job_name]
    assert all(i < index - 1 for i in deploys), "the login must come after the code deployment"


def test_oidc_token_may_be_requested(jobs):
    workflow = yaml.safe_load(WORKFLOW.read_text())
    for job_name, _, _ in _steps_using(jobs, "azure/login"):
        permissions = jobs[job_name].get("permissions", workflow.get("permissions", {}))
        assert permissions.get("id-token") == "write", job_name


def test_deployment_outputs_are_read_case_insensitively(jobs):
    """ARM may change the case of output names (item 4): every read goes through the script that matches
    them case-insensitively, none indexes the outputs JSON by an exact name."""
    runs = [step.get("run", "") for job in jobs.values() for step in job.get("steps", [])]
    readers = [run for run in runs if "properties.outputs" in run]
    assert readers, "no step reads the deployment outputs"
    for run in readers:
        assert "infra/scripts/deployment_outputs.py" in run
    for run in runs:
        assert not re.search(r"\[\s*['\"]value['\"]\s*\]", run), f"an output read by exact name: {run!r}"


def test_pipeline_principal_is_a_service_principal(jobs):
    """Role assignments must carry the pipeline's real principal type (item 8), or ARM answers
    UnmatchedPrincipalType; azd's parameter file defaults it to User."""
    job_name, _, _ = _one_step_using(jobs, "Azure/functions-action")
    assert jobs[job_name]["env"]["AZURE_PRINCIPAL_TYPE"] == "ServicePrincipal"
    runs = [step.get("run", "") for step in jobs[job_name]["steps"]]
    assert any("principalType=$AZURE_PRINCIPAL_TYPE" in run for run in runs)
    assert not any(re.search(r"principalType=(?!\$AZURE_PRINCIPAL_TYPE)", run) for run in runs)
