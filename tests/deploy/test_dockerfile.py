"""The Dockerfile, read as instructions (no Docker engine here), and its builder step run for real on
the build context Docker would send (the working tree less .dockerignore): the workspace installs from
uv.lock without dev tools, ships the services' migrations, and the `rcm` command starts."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from .conftest import REPO, SERVICES, service_cli

DOCKERFILE = REPO / "Dockerfile"
MIGRATING = ("rcm.eligibility", "rcm.claims", "rcm.remittance", "rcm.denials", "rcm.authorizations")
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


def dockerignore_patterns() -> list[re.Pattern[str]]:
    """.dockerignore as Docker reads it: paths from the context root, `*` and `?` within one path
    element, `**` across any number of them, and a pattern that names a directory covers its contents."""
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("!"), "exceptions are not used (and not read here)"
        regex, i = "", 0
        line = line.strip("/")
        while i < len(line):
            if line.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif line.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif line[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif line[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(line[i]), i + 1
        patterns.append(re.compile(regex + r"\Z"))
    return patterns


def ignored(relative: str, patterns: list[re.Pattern[str]]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(p.match(prefix) for p in patterns for prefix in prefixes)


def build_context(target: Path) -> list[str]:
    """Copy the working tree less what .dockerignore excludes into ``target``; the paths copied."""
    patterns = dockerignore_patterns()
    copied = []
    for root, dirs, files in os.walk(REPO):
        base = Path(root).relative_to(REPO).as_posix()
        prefix = "" if base == "." else f"{base}/"
        dirs[:] = [d for d in dirs if not ignored(prefix + d, patterns)]
        for name in files:
            if not ignored(prefix + name, patterns):
                (target / prefix).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(root) / name, target / prefix / name)
                copied.append(prefix + name)
    return copied


@pytest.mark.unit
def test_the_dockerignore_reading_follows_dockers_rules() -> None:
    patterns = dockerignore_patterns()
    assert ignored(".git/HEAD", patterns) and ignored(".local/env", patterns)
    assert ignored("services/claims/tests/test_x.py", patterns)  # **/tests
    assert ignored("libs/x12/src/rcm/x12/__pycache__/a.pyc", patterns)
    assert ignored("deploy/helm/rcm/values.yaml", patterns)
    assert not ignored("services/claims/src/rcm/claims/app.py", patterns)
    assert not ignored("services/claims/src/rcm/claims/tests_helpers.py", patterns)


@pytest.mark.unit
def test_every_workspace_package_the_image_installs_is_in_the_build_context() -> None:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = dockerignore_patterns()
    members = [
        path.relative_to(REPO).as_posix()
        for glob in root["tool"]["uv"]["workspace"]["members"]
        for path in sorted(REPO.glob(glob))
        if (path / "pyproject.toml").exists()
    ]
    assert len(members) >= 12
    for member in members:
        for needed in ("pyproject.toml", "src"):
            assert not ignored(f"{member}/{needed}", patterns), f"{member}/{needed} is left out of the image"
    for needed in ("pyproject.toml", "uv.lock", "README.md", "src"):
        assert not ignored(needed, patterns), needed


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
    context = tmp_path / "context"
    copied = build_context(context)
    assert "uv.lock" in copied and not any(path.startswith((".git/", ".venv/", ".local/")) for path in copied)
    environment = tmp_path / "image-env"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        command, cwd=context, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert not (environment / "bin" / "pytest").exists(), "dev tools must not be in the image"
    shutil.rmtree(context)  # --no-editable: the image runs without the sources
    rcm = subprocess.run(
        [str(environment / "bin" / "rcm"), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert rcm.returncode == 0, rcm.stderr
    assert "could not load" not in rcm.stdout + rcm.stderr
    for command_name in (*service_cli().values(), "sandbox", "dlt", "events"):
        assert command_name in rcm.stdout
    # each service upgrades its database at start (and the chart's Job does) from the migrations
    # shipped in its package
    probe = "from importlib.resources import files; import sys; print((files(sys.argv[1]) / 'migrations').is_dir())"
    for package in MIGRATING:
        shipped = subprocess.run(
            [str(environment / "bin" / "python"), "-c", probe, package],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert shipped.stdout.strip() == "True", package
        versions = list(
            environment.glob(
                f"lib/python3.*/site-packages/{package.replace('.', '/')}/migrations/versions/*.py"
            )
        )
        assert versions, f"{package} ships no migration versions"
