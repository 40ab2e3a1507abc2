"""Start and stop the real parts the tests use (Azurite, the local host) as child processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AZURITE_TABLE = ROOT / "node_modules" / ".bin" / "azurite-table"
DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


def connection_string(port: int) -> str:
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={DEV_ACCOUNT_KEY};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


def start_azurite(port: int, log_path: Path) -> subprocess.Popen:
    if not AZURITE_TABLE.exists():
        raise RuntimeError(f"{AZURITE_TABLE} is missing: run `make test` (it installs Azurite from package.json)")
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(AZURITE_TABLE), "--inMemoryPersistence", "--tableHost", "127.0.0.1", "--tablePort", str(port), "--skipApiVersionCheck", "--loose", "--silent"],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
    )
    wait_for_port(port, process)
    return process


def start_localhost(port: int, env: dict[str, str], log_path: Path, app: str = "function_app:app", timers: bool = False) -> subprocess.Popen:
    log = open(log_path, "wb")
    command = [sys.executable, "-m", "tools.localhost", "--host", "127.0.0.1", "--port", str(port), "--app", app]
    process = subprocess.Popen(
        command + ([] if timers else ["--no-timers"]),
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True,
    )
    try:
        wait_for_port(port, process, timeout=60)
    except Exception as exc:
        raise RuntimeError(f"local host failed to start: {log_path.read_text(errors='replace')[-3000:]}") from exc
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
