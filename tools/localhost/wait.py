"""Wait until a local TCP port accepts connections. `python -m tools.localhost.wait --port P [--timeout S]`
exits 0 once 127.0.0.1:P answers, 1 on timeout (the Makefile uses it for Azurite)."""

from __future__ import annotations

import argparse
import socket
import time
from collections.abc import Callable


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float, alive: Callable[[], bool] = lambda: True, host: str = "127.0.0.1") -> bool:
    """True once the port accepts; False on timeout or as soon as `alive()` says the server is gone."""
    deadline = time.monotonic() + timeout
    while alive():
        if port_open(port, host):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localhost.wait")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    return 0 if wait_for_port(args.port, args.timeout, host=args.host) else 1


if __name__ == "__main__":
    raise SystemExit(main())
