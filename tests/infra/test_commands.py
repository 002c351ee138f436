"""The README's two set-up commands are the Makefile's targets, each installs and starts what it needs,
and .ci/run runs the README's test command itself (not a copy), after the infrastructure, failing
when it fails."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def readme_command(marker: str) -> str:
    """The first line of the code block after ``<!-- marker -->`` in README.md."""
    match = re.search(rf"<!-- {marker} -->\s*```[^\n]*\n([^\n]+)\n", (REPO / "README.md").read_text())
    assert match, marker
    return match.group(1).strip()


def dry_run(target: str) -> list[str]:
    """The commands ``make TARGET`` would run, in order (nothing is run)."""
    result = subprocess.run(
        ["make", "-n", "-C", str(REPO), target], capture_output=True, text=True, timeout=60, check=True
    )
    return [line for line in result.stdout.splitlines() if line and not line.startswith("make")]


def test_the_first_screen_has_exactly_the_two_set_up_commands() -> None:
    text = (REPO / "README.md").read_text()
    first_screen = text[: text.index("\n## ", text.index("## Set up"))]
    assert re.findall(r"<!-- (\w+-command) -->", first_screen) == ["demo-command", "test-command"]
    assert first_screen.count("```") == 4  # the two command blocks, nothing else to type
    assert readme_command("demo-command") == "make demo"
    assert readme_command("test-command") == "make test"


@pytest.mark.parametrize(("target", "runs"), [("demo", "rcm demo"), ("test", "pytest")])
def test_each_command_installs_then_starts_the_infrastructure_then_runs(target: str, runs: str) -> None:
    steps = dry_run(target)
    sync = next(i for i, line in enumerate(steps) if "sync --all-packages --frozen" in line)
    infra = steps.index("deploy/local/up.sh")
    main = next(i for i, line in enumerate(steps) if runs in line)
    assert sync < infra < main, steps
    assert any("pip install" in line and "uv" in line for line in steps[:sync]), (
        "uv is installed when missing"
    )


def test_make_test_runs_every_tier() -> None:
    pytest_line = next(line for line in dry_run("test") if "pytest" in line)
    assert " -m " not in f"{pytest_line} " and "-k" not in pytest_line.split()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    tiers = {marker.split(":")[0] for marker in config["markers"]}
    assert {"unit", "kafka", "postgres", "e2e", "slow"} <= tiers
    assert "-m" not in config["addopts"].split()
    assert {"libs", "services", "sandbox", "demo", "tests"} <= set(config["testpaths"])


def fake_checkout(tmp_path: Path, test_command: str) -> Path:
    """.ci/run in a checkout whose README names ``test_command`` and whose make targets and infra
    script only record that they ran."""
    root = tmp_path / "checkout"
    (root / ".ci").mkdir(parents=True)
    shutil.copy2(REPO / ".ci" / "run", root / ".ci" / "run")
    (root / "deploy" / "local").mkdir(parents=True)
    up = root / "deploy" / "local" / "up.sh"
    up.write_text("#!/bin/sh\necho infra-up >> steps\n")
    up.chmod(0o755)
    (root / "Makefile").write_text(
        "install:\n\techo installed >> steps\nlint:\n\techo linted >> steps\ntest:\n\techo make-test >> steps\n"
    )
    (root / "README.md").write_text(
        "# x\n\n<!-- demo-command -->\n```\necho demo >> steps\n```\n\n"
        f"<!-- test-command -->\n```\n{test_command}\n```\n"
    )
    return root


@pytest.mark.parametrize(("outcome", "code"), [("passing", 0), ("failing", 3)])
def test_ci_runs_the_readmes_test_command_after_the_infrastructure(
    tmp_path: Path, outcome: str, code: int
) -> None:
    root = fake_checkout(tmp_path, f"echo {outcome}-tests >> steps; exit {code}")
    result = subprocess.run(
        [str(root / ".ci" / "run")], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    steps = (root / "steps").read_text().split()
    if code == 0:
        assert result.returncode == 0, result.stderr
        assert steps == ["installed", "infra-up", "passing-tests", "linted"]
    else:
        assert result.returncode == code
        assert steps == ["installed", "infra-up", "failing-tests"]
    assert "make-test" not in steps  # the README's line itself ran, not a copy of it


def test_ci_fails_when_the_readme_has_no_test_command(tmp_path: Path) -> None:
    root = fake_checkout(tmp_path, "true")
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("<!-- test-command -->", ""))
    result = subprocess.run(
        [str(root / ".ci" / "run")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and "no test command" in result.stderr
    assert not (root / "steps").exists()
