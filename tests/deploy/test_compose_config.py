"""docker-compose.yml through `docker compose config`'s own loader: deploy/compose/check is a small Go
program on compose-go (the library Docker Compose is built on) that loads the file with the same options
(interpolation, the compose JSON schema, profiles, depends_on, normalisation). It must accept the
repository's file, reject broken copies with the library's message, and the normalised model must hold
what the stack relies on."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import DEPLOY, REPO, SERVICES

pytestmark = pytest.mark.slow

BUILD = DEPLOY / "compose" / "check" / "build.sh"
COMPOSE = REPO / "docker-compose.yml"
INFRASTRUCTURE = ("kafka", "postgres", "topics", "sandbox", "sandbox-gateway", "otel-collector")


def _environment() -> dict[str, str]:
    """This process's environment without the COMPOSE_* variables that would change what is loaded."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}


@pytest.fixture(scope="session")
def checker() -> Path:
    result = subprocess.run([str(BUILD)], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(
            "the compose checker could not be built by deploy/compose/check/build.sh (it needs Go and the "
            "Go module proxy):\n" + result.stderr,
            pytrace=False,
        )
    return Path(result.stdout.strip().splitlines()[-1])


def check(
    checker: Path, compose: Path, project_dir: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(checker), "--project-directory", str(project_dir), "-f", str(compose), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=project_dir,
        env={**_environment(), **(env or {})},
    )


@pytest.fixture(scope="module")
def model(checker: Path) -> dict[str, Any]:
    result = check(checker, COMPOSE)
    assert result.returncode == 0, result.stderr
    assert not result.stderr, "accepted with warnings"
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_the_compose_file_is_accepted_and_named(model: dict[str, Any]) -> None:
    assert model["name"] == "rcm"
    assert set(SERVICES) | set(INFRASTRUCTURE) | {"prometheus", "grafana"} == set(model["services"])


def test_every_long_running_container_has_a_health_check(model: dict[str, Any]) -> None:
    services = model["services"]
    for name, service in services.items():
        health = service.get("healthcheck", {})
        if name == "topics":
            assert health == {"disable": True} and service["restart"] == "no"
        elif name == "otel-collector":  # distroless: no command to run, services wait for it to start
            assert not health
        else:
            assert health["test"][0] in {"CMD", "CMD-SHELL"}, name
            assert health["interval"] and health["timeout"] and health["retries"], name


def test_dependencies_are_normalised_with_their_conditions(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in SERVICES:
        deps = services[name]["depends_on"]
        assert deps["kafka"] == deps["postgres"] == {"condition": "service_healthy", "required": True}
        assert deps["topics"]["condition"] == "service_completed_successfully"
        assert deps["otel-collector"]["condition"] == "service_started"
    for name in ("claims", "eligibility", "remittance"):
        assert services[name]["depends_on"]["sandbox-gateway"]["condition"] == "service_healthy"
    assert services["sandbox-gateway"]["network_mode"] == "service:sandbox"
    assert services["sandbox-gateway"]["depends_on"]["sandbox"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_paths_and_ports_are_normalised(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in SERVICES:
        assert services[name]["build"]["context"] == str(REPO)
        assert services[name]["environment"]["RCM_SERVICE_NAME"] == name
    mounts = [v for s in services.values() for v in s.get("volumes", [])]
    assert mounts and all(v["type"] == "bind" and v["read_only"] for v in mounts)
    assert all(Path(v["source"]).exists() for v in mounts), [v["source"] for v in mounts]
    (postgres_port,) = services["postgres"]["ports"]
    assert postgres_port == {
        "mode": "ingress",
        "host_ip": "127.0.0.1",
        "target": 5432,
        "published": "55432",
        "protocol": "tcp",
    }


BROKEN = {
    "an unknown key": (
        "    image: postgres:15\n",
        "    image: postgres:15\n    healthckeck: {}\n",
        "services.postgres.healthckeck",
    ),
    "a dependency on a missing service": (
        "      sandbox: {condition: service_healthy}\n",
        "      sandbox-missing: {condition: service_healthy}\n",
        'depends on undefined service "sandbox-missing"',
    ),
    "a bad port": (
        '["127.0.0.1:55432:5432"]',
        '["127.0.0.1:55432:postgres"]',
        "Invalid containerPort: postgres",
    ),
    "an unknown condition": (
        "otel-collector: {condition: service_started}",
        "otel-collector: {condition: service_up}",
        "depends_on.otel-collector.condition value must be one of",
    ),
    "a dependency cycle": (
        "    depends_on:\n      sandbox: {condition: service_healthy}\n",
        "    depends_on:\n      sandbox: {condition: service_healthy}\n      claims: {condition: service_started}\n",
        "dependency cycle detected",
    ),
    "a bad duration": ("start_period: 30s", "start_period: soon", 'invalid duration "soon"'),
}


@pytest.mark.parametrize("problem", BROKEN, ids=lambda p: p.replace(" ", "-"))
def test_a_broken_copy_is_rejected_with_the_problem_named(
    checker: Path, tmp_path: Path, problem: str
) -> None:
    old, new, message = BROKEN[problem]
    source = COMPOSE.read_text()
    assert source.count(old) >= 1, old
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(source.replace(old, new, 1))
    result = check(checker, broken)
    assert result.returncode == 1, result.stdout[:500]
    assert message in result.stderr, result.stderr
    assert not result.stdout


def test_variables_come_from_the_environment_and_the_project_dot_env(checker: Path, tmp_path: Path) -> None:
    source = COMPOSE.read_text().replace(
        "POSTGRES_PASSWORD: postgres", "POSTGRES_PASSWORD: ${RCM_PG_PASSWORD:?set RCM_PG_PASSWORD}", 1
    )
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(source)
    missing = check(checker, compose, project_dir=tmp_path)
    assert missing.returncode == 1 and "required variable RCM_PG_PASSWORD is missing" in missing.stderr

    from_env = check(checker, compose, project_dir=tmp_path, env={"RCM_PG_PASSWORD": "from-env"})
    assert from_env.returncode == 0, from_env.stderr
    assert (
        json.loads(from_env.stdout)["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "from-env"
    )

    (tmp_path / ".env").write_text("RCM_PG_PASSWORD=from-dot-env\n")
    from_file = check(checker, compose, project_dir=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    postgres = json.loads(from_file.stdout)["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD"] == "from-dot-env"


def _machine_without_go(tmp_path: Path) -> tuple[dict[str, str], Path]:
    from .test_get_helm import machine_without

    env, bin_dir = machine_without(tmp_path, "go", "gofmt", "apt-get", "sudo")
    env["RCM_GO_ROOT"] = str(tmp_path / "no-go")
    env["RCM_COMPOSE_CHECK_BIN"] = str(tmp_path / "check")
    if os.getuid() != 0:
        sudo = bin_dir / "sudo"
        sudo.write_text('#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
        sudo.chmod(0o755)
    return env, bin_dir


def _build(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUILD)], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_without_go_the_build_asks_apt_for_it_and_says_what_failed(tmp_path: Path) -> None:
    env, bin_dir = _machine_without_go(tmp_path)
    calls = tmp_path / "apt-calls"
    apt = bin_dir / "apt-get"  # records what it is asked, and fails the install as a broken mirror would
    apt.write_text(f'#!/bin/sh\necho "$*" >> {calls}\ncase "$*" in *install*) exit 100 ;; esac\n')
    apt.chmod(0o755)
    result = _build(env)
    assert result.returncode == 1
    assert "installing golang-go from Debian's packages" in result.stderr
    assert "apt-get install golang-go failed" in result.stderr
    asked = calls.read_text().splitlines()
    assert asked[0].startswith("update") and "install" in asked[1] and asked[1].split()[-1] == "golang-go"
    assert not (tmp_path / "check").exists()


def test_a_go_older_than_go_mod_is_refused_with_what_to_install(tmp_path: Path) -> None:
    env, _ = _machine_without_go(tmp_path)
    old_go = tmp_path / "no-go" / "bin" / "go"  # Debian 12's golang-go
    old_go.parent.mkdir(parents=True)
    old_go.write_text('#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go1.19.8 && exit 0\nexit 2\n')
    old_go.chmod(0o755)
    result = _build(env)
    assert result.returncode == 1
    assert "is Go 1.19.8; the compose checker needs Go 1.24 or newer" in result.stderr
    assert f"install Go at {tmp_path / 'no-go'}" in result.stderr
