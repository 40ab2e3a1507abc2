"""`python -m tools.localhost --host 127.0.0.1 --port 7071 [--no-timers] [--app function_app:app]`"""

import argparse
import logging
from pathlib import Path

from tools.localhost.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.localhost", description="Serve the Functions app locally, without Core Tools."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--no-timers", action="store_true", help="do not fire timer triggers")
    parser.add_argument(
        "--app", default="function_app:app", help="module:attribute of the FunctionApp (default function_app:app)"
    )
    parser.add_argument(
        "--host-json", type=Path, default=Path("host.json"), help="where the route prefix is read (default ./host.json)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the storage SDK logs every HTTP exchange at INFO
    serve(args.app, args.host, args.port, timers=not args.no_timers, host_json=args.host_json)


main()
