"""tools.localhost.wait: true once a port answers, false when the timeout passes or the server dies first;
the command's exit code says which (the Makefile relies on it to start Azurite)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import processes
from tools.localhost.wait import port_open, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    port = processes.free_port()  # bound and released again: nothing listens there
    assert not port_open(port)
    return port


def _wait_command(port: int, timeout: str) -> int:
    command = [sys.executable, "-m", "tools.localhost.wait", "--port", str(port), "--timeout", timeout]
    return subprocess.run(command, cwd=ROOT, capture_output=True, timeout=60).returncode


def test_a_listening_port_is_found(listening):
    assert wait_for_port(listening, timeout=5)
    assert _wait_command(listening, "5") == 0


def test_a_silent_port_times_out(closed_port):
    assert wait_for_port(closed_port, timeout=0.3) is False
    assert wait_for_port(closed_port, timeout=0) is False
    assert _wait_command(closed_port, "0.3") == 1


def test_a_dead_server_ends_the_wait_before_the_timeout(closed_port):
    checks = []

    def alive() -> bool:
        checks.append(1)
        return len(checks) < 3

    assert wait_for_port(closed_port, timeout=600, alive=alive) is False
    assert len(checks) == 3  # it stopped when alive() said no, not at the (ten-minute) timeout
