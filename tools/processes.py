"""Start and stop the real parts tests and benchmarks run against (Azurite, the local host) as child processes, each in its
own process group so stopping it by PID also stops anything it spawned."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tools.localhost.wait import wait_for_port

ROOT = Path(__file__).resolve().parents[1]
AZURITE_TABLE = ROOT / "node_modules" / ".bin" / "azurite-table"
DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection_string(port: int) -> str:
    """Azurite's documented development account, on the given table port."""
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={DEV_ACCOUNT_KEY};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


def start(
    command: Sequence[str], port: int, log_path: Path, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.Popen:
    """Run `command` with output to `log_path`; return once it listens on `port`, or fail showing its log."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=dict(env or os.environ),
            start_new_session=True,
        )
    if not wait_for_port(port, timeout, alive=lambda: process.poll() is None):
        stop(process)
        output = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"{command[0]} did not listen on 127.0.0.1:{port} (exit code {process.returncode}):\n{output}"
        )
    return process


def start_azurite(port: int, log_path: Path) -> subprocess.Popen:
    if not AZURITE_TABLE.exists():
        raise RuntimeError(f"{AZURITE_TABLE} is missing: run `make test` (it installs Azurite from package-lock.json)")
    command = [
        str(AZURITE_TABLE),
        "--inMemoryPersistence",
        "--tableHost",
        "127.0.0.1",
        "--tablePort",
        str(port),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
    ]
    return start(command, port, log_path, timeout=30)


def start_localhost(
    port: int, env: Mapping[str, str], log_path: Path, app: str = "function_app:app", timers: bool = False
) -> subprocess.Popen:
    command = [sys.executable, "-m", "tools.localhost", "--host", "127.0.0.1", "--port", str(port), "--app", app]
    return start(command + ([] if timers else ["--no-timers"]), port, log_path, env)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group started for `process`, SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
