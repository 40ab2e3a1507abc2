"""Every Bicep file parses, and main.bicep wires its modules, parameters and parameter file consistently."""

from __future__ import annotations

import json

import pytest

from tests.infra.bicep import INFRA, bicep_paths, parse

MAIN = "main.bicep"


@pytest.mark.parametrize("path", bicep_paths(), ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path):
    doc = parse(str(path.relative_to(INFRA)))
    assert doc.resources() or doc.modules(), f"{path.name} declares nothing"
    for resource in doc.resources():
        assert resource.api_version, f"{path.name}: {resource.symbol} pins no API version"


def test_infra_has_main_and_modules():
    names = {str(p.relative_to(INFRA)) for p in bicep_paths()}
    assert MAIN in names
    assert any(name.startswith("modules/") for name in names)


def test_modules_are_local_files_and_every_module_file_is_used():
    """Registry modules would be downloaded at build time; an unused module file is dead code."""
    modules = parse(MAIN).modules()
    for module in modules.values():
        assert module.kind == "local", f"{module.symbol} is not a local module: {module.path}"
        assert (INFRA / module.path).is_file(), f"{module.symbol}: {module.path} is missing"
    used = {module.path for module in modules.values()}
    present = {str(p.relative_to(INFRA)) for p in (INFRA / "modules").glob("*.bicep")}
    assert used == present


@pytest.mark.parametrize("symbol", sorted(parse(MAIN).modules()))
def test_module_call_matches_module_parameters(symbol):
    module = parse(MAIN).modules()[symbol]
    declared = parse(module.path).parameters
    required = {name for name, param in declared.items() if "default" not in param}
    assert set(module.params) <= set(declared), f"unknown parameters: {set(module.params) - set(declared)}"
    assert required <= set(module.params), f"missing parameters: {required - set(module.params)}"


@pytest.mark.parametrize("path", bicep_paths(), ids=lambda p: str(p.relative_to(INFRA)))
def test_every_parameter_is_described(path):
    doc = parse(str(path.relative_to(INFRA)))
    for name in doc.parameters:
        assert doc.decorator(name, "description"), f"{path.name}: parameter {name} has no @description"


def test_parameters_file_fits_main():
    """main.parameters.json (the dev environment azd deploys) names only real parameters and every required one."""
    supplied = set(json.loads((INFRA / "main.parameters.json").read_text())["parameters"])
    declared = parse(MAIN).parameters
    required = {name for name, param in declared.items() if "default" not in param}
    assert supplied <= set(declared), f"unknown parameters: {supplied - set(declared)}"
    assert required <= supplied, f"missing parameters: {required - supplied}"
