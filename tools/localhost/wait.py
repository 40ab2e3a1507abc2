"""`python -m tools.localhost.wait --port P [--timeout S]`: exit 0 once 127.0.0.1:P accepts connections."""

import argparse
import socket
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=0.5):
                return 0
        except OSError:
            if time.monotonic() >= deadline:
                return 1
            time.sleep(0.1)


sys.exit(main())
