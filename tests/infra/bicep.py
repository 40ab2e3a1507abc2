"""A parsed, read-only view of infra/*.bicep for the offline tests.

No Bicep compiler can be installed here, so pycep-parser turns each file into JSON. This module parses
every file once, unwraps resources and modules from their `if (...)` / `[for ...]` wrappers, and renders
expressions back to compact Bicep-like text ("storage.outputs.tableEndpoint", "!useCosmosDb") so the
tests compare readable strings. pycep gives identifiers and string literals the same shape (both are
plain strings); the tests accept that ambiguity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"

_BINARY = {"and": "&&", "or": "||", "equals": "==", "not_equals": "!="}


def render(expr: Any) -> str:
    """Bicep-like text of a parsed expression (enough for the operators infra/ uses)."""
    if isinstance(expr, bool):
        return "true" if expr else "false"
    if expr is None:
        return "null"
    if isinstance(expr, (str, int)):
        return str(expr)
    if isinstance(expr, list):
        return "[" + ", ".join(render(item) for item in expr) + "]"
    if isinstance(expr, dict) and "function" in expr:
        function = expr["function"]
        args = [render(value) for value in function["parameters"].values() if value is not None]
        return f"{function['type']}({', '.join(args)})"
    if isinstance(expr, dict) and "operator" in expr:
        kind, operands = expr["operator"]["type"], expr["operator"]["operands"]
        if kind == "property_accessor":
            return f"{render(operands['operand_1'])}.{render(operands['operand_2'])}"
        if kind == "conditional":
            return f"{render(operands['condition'])} ? {render(operands['true_value'])} : {render(operands['false_value'])}"
        if kind == "not":
            return "!" + render(operands["bool_value"])
        if kind in _BINARY:
            return f"{render(operands['operand_1'])} {_BINARY[kind]} {render(operands['operand_2'])}"
    return json.dumps(expr, sort_keys=True)


def _unwrap(config: dict[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    """(body, rendered condition, rendered loop array) of a resource or module declaration."""
    if "loop_type" in config:
        loop = render(config["loop_type"]["detail"]["array_name"])
        condition = config.get("condition")
        return config["config"], None if condition is None else render(condition), loop
    if set(config) == {"condition", "config"}:
        return config["config"], render(config["condition"]), None
    return config, None, None


@dataclass(frozen=True)
class Resource:
    symbol: str
    type: str
    api_version: str
    body: dict[str, Any]
    condition: str | None
    loop: str | None
    decorators: tuple[tuple[str, Any], ...] = ()

    @property
    def properties(self) -> dict[str, Any]:
        return self.body.get("properties", {})

    @property
    def depends_on(self) -> list[str]:
        """Symbols listed in the explicit `dependsOn` (implicit references are not followed)."""
        return [render(item) for item in self.body.get("dependsOn", [])]

    def decorator(self, kind: str) -> Any:
        return dict(self.decorators).get(kind)


@dataclass(frozen=True)
class Module:
    symbol: str
    path: str
    kind: str  # "local" for a file in this repository
    params: dict[str, str]  # rendered arguments
    condition: str | None


@dataclass(frozen=True)
class BicepFile:
    path: Path
    raw: dict[str, Any]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.raw.get("parameters", {})

    @property
    def variables(self) -> dict[str, Any]:
        return {name: var["value"] for name, var in self.raw.get("variables", {}).items()}

    @property
    def outputs(self) -> dict[str, str]:
        return {name: render(out["value"]) for name, out in self.raw.get("outputs", {}).items()}

    def resources(self, type_: str | None = None) -> list[Resource]:
        found = []
        for symbol, raw in self.raw.get("resources", {}).items():
            body, condition, loop = _unwrap(raw["config"])
            if "__child_resource__" in body:
                raise AssertionError(
                    f"{self.path.name}: declare child resource of {symbol} with `parent:`; the tests read top-level resources only"
                )
            if type_ is None or raw["type"] == type_:
                decorators = tuple((d["type"], d.get("argument")) for d in raw.get("decorators", []))
                found.append(Resource(symbol, raw["type"], raw["api_version"], body, condition, loop, decorators))
        return found

    def resource(self, type_: str) -> Resource:
        found = self.resources(type_)
        assert len(found) == 1, f"{self.path.name}: expected one {type_}, found {[r.symbol for r in found]}"
        return found[0]

    def modules(self) -> dict[str, Module]:
        found = {}
        for symbol, raw in self.raw.get("modules", {}).items():
            body, condition, _ = _unwrap(raw["config"])
            params = {name: render(value) for name, value in body.get("params", {}).items()}
            found[symbol] = Module(symbol, raw["detail"]["path"], raw["type"], params, condition)
        return found

    def default(self, parameter: str) -> Any:
        return self.parameters[parameter].get("default")

    def decorator(self, parameter: str, kind: str) -> Any:
        for decorator in self.parameters[parameter]["decorators"]:
            if decorator["type"] == kind:
                return decorator["argument"]
        return None


def bicep_paths() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@cache
def parse(relative: str) -> BicepFile:
    """The parsed file infra/<relative>, parsed once per test session."""
    path = INFRA / relative
    return BicepFile(path, BicepParser().parse(file_path=path))
