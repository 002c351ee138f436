"""Paths and loaders shared by the deployment tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "rcm"
SERVICES = ("authorizations", "claims", "denials", "eligibility", "remittance")
PAYER_FACING = ("claims", "eligibility", "remittance")


def load_script(path: Path) -> ModuleType:
    """Import a script of deploy/ (not a package) as a module."""
    name = f"rcm_deploy_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def service_cli() -> dict[str, str]:
    """The `rcm` sub-command of each service, from the workspace's entry points (remittance: remits)."""
    from importlib.metadata import entry_points

    found = {}
    for ep in entry_points(group="rcm.cli"):
        package = ep.value.split(":")[0].split(".")
        if package[:1] == ["rcm"] and len(package) > 1 and package[1] in SERVICES:
            found[package[1]] = ep.name
    return found
