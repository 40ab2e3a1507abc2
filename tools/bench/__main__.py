"""`python -m tools.bench [reconcile] [--users N --groups N --memberships N] [--json]`: the cost of one
reconciliation cycle (seconds, storage calls) for a tenant of that size (default 10,000 users, 200
groups, 50,000 memberships). Against SCIM_STORAGE_CONNECTION_STRING / SCIM_STORAGE_ENDPOINT when set
(seeded through the API); otherwise against a private Azurite it starts and stops itself (seeded
through its database file).

`python -m tools.bench requests [--repeat N] [--bulk N]`: storage calls and latency per SCIM request kind, over
HTTP through the local host and a private in-memory Azurite.

`python -m tools.bench import [--repeat N]`: wall time of `import function_app` in fresh processes
(the module-level cost of a cold start).

`python -m tools.bench cpu [--repeat N]`: CPU milliseconds and storage calls per SCIM request kind, in-process
(the app's functions called directly, one thread, no HTTP server) over a private in-memory Azurite.

`python -m tools.bench compare [--users N --groups G --threads C] [--json FILE]`: the same Entra-shaped load
against scim2-server in memory and against our local host over Azurite, in one run: requests/s, p50/p99 per
request kind, CPU per request per process, and a line of ratios.

`python -m tools.bench paging [--users N --count C --pages P] [--json]`: storage calls and time per
`GET /Users` page on a tenant of N users (default 10,000), walking P pages in order (default all) and then
asking the last page again.

`python -m tools.bench worst [--json]`: CPU seconds of the most expensive request bodies within the 1 MiB
limit, in-process on the protocol layer (target: none above ~2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from shared.config import Settings
from shared.store.client import Storage
from tools import processes
from tools.bench import compare, cpu, paging, reconcile, requests_bench, worst
from tools.bench.seed import Shape


def _requests(repeat: int, bulk: int) -> None:
    port = processes.free_port()
    with tempfile.TemporaryDirectory(prefix="bench-azurite-") as scratch:
        azurite = processes.start_azurite(port, Path(scratch) / "azurite.log")
        try:
            connection = processes.connection_string(port)
            storage = Storage(Settings.from_env({"SCIM_STORAGE_CONNECTION_STRING": connection}))
            requests_bench.run(storage, connection, repeat, bulk)
        finally:
            processes.stop(azurite)


def _import_time(runs: int) -> None:
    code = "import time; t = time.perf_counter(); import function_app; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    print(
        f"import function_app in a fresh process: median {statistics.median(samples) * 1000:.0f} ms over {runs} runs "
        f"(min {min(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "benchmark",
        nargs="?",
        default="reconcile",
        choices=["reconcile", "requests", "import", "worst", "cpu", "compare", "paging"],
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="requests: calls per request kind (20); import: processes (20); cpu: requests per kind and round (40)",
    )
    parser.add_argument("--bulk", type=int, default=1000, help="requests: members added by the one large group PATCH")
    parser.add_argument("--users", type=int, help="reconcile: default 10,000; compare: default 300")
    parser.add_argument("--groups", type=int, help="reconcile: default 200; compare: default 10")
    parser.add_argument("--threads", type=int, default=8, help="compare: client threads")
    parser.add_argument("--memberships", type=int, default=50_000)
    parser.add_argument(
        "--json", nargs="?", const="-", metavar="FILE", help="print the figures as JSON (compare: also to FILE)"
    )
    parser.add_argument("--count", type=int, default=100, help="paging: resources per page")
    parser.add_argument("--pages", type=int, default=None, help="paging: pages walked in order (default all)")
    args = parser.parse_args(argv)
    if args.benchmark == "paging":
        result = paging.run(args.users or 10_000, args.count, args.pages)
        print(json.dumps(result, indent=2) if args.json else paging.describe(result))
        return 0
    if args.benchmark == "cpu":
        print(cpu.describe(cpu.run(requests=args.repeat or 40)))
        return 0
    if args.benchmark == "compare":
        result = compare.run(compare.Load(args.users or 300, args.groups or 10, args.threads))
        print(compare.describe(result))
        if args.json == "-":
            print(json.dumps(result, indent=2))
        elif args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        return 0
    if args.benchmark == "requests":
        _requests(args.repeat or 20, args.bulk)
        return 0
    if args.benchmark == "worst":
        results = worst.run()
        print(json.dumps(results, indent=2) if args.json else worst.describe(results))
        return 0
    if args.benchmark == "import":
        _import_time(args.repeat or 20)
        return 0
    shape = Shape(args.users or 10_000, args.groups or 200, args.memberships)
    try:
        shape.check()
    except ValueError as exc:
        parser.error(str(exc))
    if os.environ.get("SCIM_STORAGE_CONNECTION_STRING") or os.environ.get("SCIM_STORAGE_ENDPOINT"):
        result = reconcile.on_storage(Storage(Settings.from_env()), shape)
    else:
        result = reconcile.on_own_azurite(shape)
    print(json.dumps(result, indent=2) if args.json else reconcile.describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
