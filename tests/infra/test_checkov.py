"""checkov --framework bicep finds no failed check, and every skip is a justified comment next to its
resource that matches a check checkov actually skipped (no stale skips)."""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter

import pytest

from tests.infra.bicep import INFRA, bicep_paths

# Its own venv (tools/mk/infra.mk `checkov-venv`): checkov's pins must not fight the app's.
CHECKOV = INFRA.parent / ".venv-checkov" / "bin" / "checkov"
SKIP_COMMENT = re.compile(r"//\s*checkov:skip=(?P<check>CKV2?_[A-Z]+_\d+):(?P<reason>.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def report() -> dict:
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} missing: run `make checkov-venv` (make test does)")
    # --skip-download: no Prisma Cloud look-ups (no network here, and the checks ship with checkov).
    done = subprocess.run(
        [str(CHECKOV), "--framework", "bicep", "-d", str(INFRA), "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    parsed = json.loads(done.stdout)
    return parsed[0] if isinstance(parsed, list) else parsed


def test_checkov_passes_with_no_failed_check(report):
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in report["results"]["failed_checks"]]
    assert summary["parsing_errors"] == 0, report["results"].get("parsing_errors")
    assert failed == []
    assert summary["passed"] > 0


def _skip_comments() -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for path in bicep_paths():
        for match in SKIP_COMMENT.finditer(path.read_text()):
            assert len(match["reason"].strip()) >= 20, f"{path.name}: {match['check']} skip needs a real justification"
            found[("/" + str(path.relative_to(INFRA)), match["check"])] += 1
    return found


def test_every_skip_is_justified_and_used(report):
    skipped = Counter((c["file_path"], c["check_id"]) for c in report["results"]["skipped_checks"])
    assert skipped == _skip_comments()
