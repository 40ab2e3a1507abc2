"""`python -m tools.mutate [--budget SECONDS] [--max-children N] [PATTERN ...]`: mutation testing of shared/
with mutmut, inside a time budget, then the survivors.

mutmut (configured in setup.cfg) copies the code into mutants/, runs the unit and integration tests once to
learn which tests reach which function, then runs only those tests against each mutant, in forked children.
The end-to-end tests are left out: the local host runs in a subprocess, where mutmut can see neither which
functions a test reaches nor switch mutants per test. Results are kept in mutants/, so a run stopped by the
budget resumes where it stopped next time, and unchanged code is not tested again.

PATTERNs are mutmut names such as `shared.scim.patch*` (default: all of shared/). Survivors that
docs/mutation.md accepts (their names in backticks) are listed apart; the exit code is 1 when others survive.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
ACCEPTED = ROOT / "docs" / "mutation.md"
_RESULT = re.compile(r"^\s*(\S+): (.+)$")


def _prepare() -> None:
    """The integration tests start Azurite from node_modules/, found next to the (copied) tools/."""
    link = ROOT / "mutants" / "node_modules"
    link.parent.mkdir(exist_ok=True)
    if not link.exists():
        link.symlink_to(ROOT / "node_modules")


def _run(patterns: list[str], budget: float, max_children: int) -> bool:
    """Run mutmut until it is done or the budget is spent; True when it finished."""
    command = [str(MUTMUT), "run", "--max-children", str(max_children), *patterns]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        process.wait(timeout=budget)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)  # mutmut has stored every finished mutant's result already
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False


def _stop_leftover_azurites() -> None:
    """Workers mutmut ends early (timeouts, the budget) never run the fixture that stops their Azurite, which
    runs in a session of its own; stop every Azurite started from this tree's mutants/ by its process id."""
    marker = str(ROOT / "mutants" / "node_modules").encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read


def results() -> dict[str, str]:
    """Every mutant mutmut knows, by name, with its status (killed, survived, no tests, not checked, ...)."""
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {m.group(1): m.group(2).strip() for m in map(_RESULT.match, done.stdout.splitlines()) if m}


def accepted_survivors() -> set[str]:
    return set(re.findall(r"`(shared\.[\w.]+__mutmut_\d+)`", ACCEPTED.read_text())) if ACCEPTED.exists() else set()


def _matches(name: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)  # as mutmut selects them


def report(statuses: dict[str, str], accepted: set[str]) -> tuple[str, list[str]]:
    """A summary and the survivors nobody accepted."""
    counts = Counter(statuses.values())
    killed = counts["killed"] + counts["timeout"] + counts["caught by type check"]
    tested = killed + counts["survived"]
    survivors = sorted(n for n, s in statuses.items() if s == "survived")
    new = [n for n in survivors if n not in accepted]
    rate = f"{100 * killed / tested:.1f}%" if tested else "n/a"
    lines = [
        f"mutants: {len(statuses)}  tested: {tested}  killed: {killed}  survived: {len(survivors)}  kill rate: {rate}",
        "  " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())),
        f"survivors accepted in docs/mutation.md: {len(survivors) - len(new)}",
    ]
    lines += [f"SURVIVED {name}   (mutmut show {name})" for name in new]
    return "\n".join(lines), new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "patterns", nargs="*", help="mutant names to run, e.g. 'shared.scim.*' (default: all of shared/)"
    )
    parser.add_argument("--budget", type=float, default=900, help="seconds mutmut may run (default 900)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    args = parser.parse_args(argv)
    _prepare()
    try:
        finished = _run(args.patterns, args.budget, args.max_children)
    finally:
        _stop_leftover_azurites()
    statuses = {n: s for n, s in results().items() if _matches(n, args.patterns)}
    text, new = report(statuses, accepted_survivors())
    print(text)
    if not finished:
        # mutmut keeps every result; a run without patterns skips mutants that have one, a run with patterns redoes them.
        again = "continues where it stopped" if not args.patterns else "with no patterns continues where this stopped"
        print(f"(the {args.budget:.0f} s budget ended the run; `make mutate` {again})")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
