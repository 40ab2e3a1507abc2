#!/usr/bin/env python3
"""Print chosen outputs of an ARM deployment as NAME=value lines, for $GITHUB_ENV or $GITHUB_OUTPUT.

    az deployment sub create ... --query properties.outputs --output json > outputs.json
    python3 infra/scripts/deployment_outputs.py outputs.json AZURE_FUNCTION_APP_NAME SCIM_TENANT_URL

ARM does not always return an output name in the case the template declares it (azd normalises the case
for the same reason), so names are matched case-insensitively and printed as asked. Standard library
only: the deploy workflow runs it with the runner's python3 before any dependency is installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


class OutputError(Exception):
    """A requested output is missing, ambiguous or cannot be written as one NAME=value line."""


def output_value(outputs: dict[str, Any], name: str) -> str:
    """The value of output `name`, whatever the case ARM gave its name."""
    matches = [key for key in outputs if key.casefold() == name.casefold()]
    if not matches:
        raise OutputError(f"deployment output {name} is missing (outputs: {', '.join(sorted(outputs)) or 'none'})")
    if len(matches) > 1:
        raise OutputError(f"deployment output {name} is ambiguous: {', '.join(sorted(matches))}")
    value = str(outputs[matches[0]]["value"])
    # One line each: a newline would let a value inject further variables into $GITHUB_ENV.
    if "\n" in value or "\r" in value:
        raise OutputError(f"deployment output {name} spans several lines")
    return value


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: deployment_outputs.py OUTPUTS_JSON NAME...", file=sys.stderr)
        return 2
    outputs = json.loads(Path(argv[0]).read_text())
    try:
        lines = [f"{name}={output_value(outputs, name)}" for name in argv[1:]]
    except OutputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
