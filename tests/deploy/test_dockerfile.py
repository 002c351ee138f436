"""The Dockerfile, read as instructions (no Docker engine here), and its builder step run for real:
the workspace installs from uv.lock without dev tools and the `rcm` command starts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, SERVICES, service_cli

DOCKERFILE = REPO / "Dockerfile"
COMPILERS = ("gcc", "g++", "cc ", "clang", "build-essential", "make ", "rustc", "cargo", "apt-get install")


def stages() -> dict[str, list[tuple[str, str]]]:
    """Instructions per stage name, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest.strip(), re.IGNORECASE)
            assert match, line
            current = match.group(2)
            out[current] = [("FROM", match.group(1))]
        elif current is not None:
            out[current].append((keyword.upper(), rest.strip()))
    return out


@pytest.mark.unit
def test_two_stages_a_uv_builder_and_a_slim_runtime() -> None:
    found = stages()
    assert list(found) == ["builder", "runtime"]
    args = dict(line.split("=", 1) for line in re.findall(r"^ARG (\S+=\S+)", DOCKERFILE.read_text(), re.M))
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", args["PYTHON_IMAGE"])
    assert found["builder"][0] == found["runtime"][0] == ("FROM", "${PYTHON_IMAGE}")
    builder_runs = " ".join(rest for kind, rest in found["builder"] if kind == "RUN")
    assert "uv sync --frozen --no-dev" in builder_runs


@pytest.mark.unit
def test_the_runtime_stage_has_no_build_tools_and_runs_as_a_user() -> None:
    runtime = stages()["runtime"]
    for kind, rest in runtime:
        if kind == "RUN":
            assert not any(tool in rest + " " for tool in COMPILERS), rest
            assert "pip install" not in rest and "uv " not in rest
    copies = [rest for kind, rest in runtime if kind == "COPY"]
    assert copies and all(c.startswith("--from=builder") for c in copies)
    users = [rest for kind, rest in runtime if kind == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert [rest for kind, rest in runtime if kind == "ENTRYPOINT"] == ['["rcm"]']
    health = " ".join(rest for kind, rest in runtime if kind == "HEALTHCHECK")
    assert "urllib" in health and "/health" in health
    env = " ".join(rest for kind, rest in runtime if kind == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # nothing written next to the code: read-only root works


@pytest.mark.unit
def test_every_service_has_a_run_command() -> None:
    from importlib.metadata import entry_points

    import typer.main

    cli = service_cli()
    assert set(cli) == set(SERVICES)
    apps = {ep.name: ep.load() for ep in entry_points(group="rcm.cli") if ep.name in cli.values()}
    for service, name in cli.items():
        group = typer.main.get_command(apps[name])
        assert "run" in group.commands, f"rcm {name} run (service {service})"  # type: ignore[attr-defined]


@pytest.mark.unit
def test_dockerignore_keeps_local_state_and_secrets_out_of_the_context() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".local", "**/*.pem", "**/*.key", ".env"} <= ignored
    assert not {"uv.lock", "pyproject.toml", "libs", "services", "sandbox", "src"} & ignored


@pytest.mark.slow
def test_the_builder_step_installs_the_workspace_and_rcm_starts(tmp_path: Path) -> None:
    builder_runs = [rest for kind, rest in stages()["builder"] if kind == "RUN"]
    sync = next(r for r in builder_runs if "uv sync" in r)
    command = shlex.split(sync[sync.index("uv sync") :].split("&&")[0])
    environment = tmp_path / "image-env"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not (environment / "bin" / "pytest").exists(), "dev tools must not be in the image"
    rcm = subprocess.run(
        [str(environment / "bin" / "rcm"), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert rcm.returncode == 0, rcm.stderr
    for command_name in (*service_cli().values(), "sandbox", "dlt", "events"):
        assert command_name in rcm.stdout
