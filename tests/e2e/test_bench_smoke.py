"""Each benchmark runs end to end on a tiny seed, so benchmarks cannot rot. Only that they run and report
is checked: their figures are measurements, and tests never assert timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tools.bench", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _without_storage_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("SCIM_STORAGE_CONNECTION_STRING", "SCIM_STORAGE_ENDPOINT")}


def test_reconcile_benchmark_on_its_own_azurite():
    """No storage configured: the benchmark starts a private Azurite and seeds it through its database file."""
    result = json.loads(
        bench(
            "reconcile",
            "--users",
            "20",
            "--groups",
            "3",
            "--memberships",
            "30",
            "--json",
            env=_without_storage_settings(),
        )
    )
    assert result["shape"] == {"users": 20, "groups": 3, "memberships": 30}
    assert result["seed"]["via"] == "Azurite database file" and result["seed"]["rows"] > 20
    assert result["cycle"]["complete"] is True and result["cycle"]["repairsTotal"] == 0
    assert result["cycle"]["storageCalls"]["total"] > 0


def test_reconcile_benchmark_on_configured_storage_prints_text(azurite):
    text = bench(
        "reconcile",
        "--users",
        "5",
        "--groups",
        "2",
        "--memberships",
        "6",
        env={**os.environ, "SCIM_STORAGE_CONNECTION_STRING": azurite},
    )
    assert "tenant: 5 users, 2 groups, 6 memberships" in text and "via API transactions" in text
    assert "complete: True, repairs: 0" in text


def test_reconcile_benchmark_refuses_an_impossible_shape():
    done = subprocess.run(
        [sys.executable, "-m", "tools.bench", "reconcile", "--users", "2", "--groups", "2", "--memberships", "5"],
        cwd=ROOT,
        env=_without_storage_settings(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "at most 4 distinct memberships" in done.stderr


def test_requests_benchmark():
    text = bench("requests", "--repeat", "2", "--bulk", "3")
    lines = text.splitlines()
    assert any(line.startswith("POST /Users") and "storage calls" in line for line in lines), text
    assert any(
        line.startswith("PATCH /Groups/{id} adding 3 members in one op") and "status 204" in line for line in lines
    ), text
    assert len([line for line in lines if "storage calls" in line]) == 11


def test_import_benchmark():
    text = bench("import", "--repeat", "1")
    assert text.startswith("import function_app in a fresh process: median ") and "over 1 runs" in text


def test_cpu_benchmark():
    lines = bench("cpu", "--repeat", "2").splitlines()
    kinds = ["GET /Users/{id}", "GET /Users?filter=userName eq", "POST /Users", "PATCH /Users/{id}"]
    assert [line.split("  ")[0] for line in lines[1:5]] == kinds, lines
    assert lines[0].split() == ["request", "kind", "CPU", "ms/request", "storage", "calls/request"]


def test_compare_benchmark(tmp_path):
    out = tmp_path / "compare.json"
    text = bench("compare", "--users", "4", "--groups", "1", "--threads", "2", "--json", str(out))
    assert text.splitlines()[-1].startswith("ratios ours/scim2-server: host CPU per request "), text
    result = json.loads(out.read_text())
    assert [run["server"] for run in result["runs"]] == ["scim2-server", "ours"]
    for run in result["runs"]:  # 4 users x (miss, POST, GET, PATCH, hit) + 1 group + 1 member PATCH, retries aside
        assert run["requests"] - sum(run["retried503"].values()) == 22
    assert set(result["runs"][1]["cpuMsPerRequest"]) == {"our host", "Azurite", "load generator"}
