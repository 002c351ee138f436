"""The chart's migration Job, run as rendered (its command, its package) against a fresh database."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
import yaml

from rcm.servicekit.db import inbox, outbox

from .conftest import CHART, DEPLOY, REPO, SERVICES

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _job_commands() -> dict[str, list[str]]:
    helm = subprocess.run(
        [str(DEPLOY / "helm" / "get-helm.sh")], capture_output=True, text=True, check=False, timeout=300
    )
    if helm.returncode != 0:
        pytest.fail(f"helm could not be installed by deploy/helm/get-helm.sh:\\n{helm.stderr}", pytrace=False)
    rendered = subprocess.run(
        [helm.stdout.strip().splitlines()[-1], "template", "rcm", str(CHART)],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    return {
        doc["metadata"]["labels"]["app.kubernetes.io/component"]: doc["spec"]["template"]["spec"][
            "containers"
        ][0]["command"]
        for doc in yaml.safe_load_all(rendered.stdout)
        if doc and doc["kind"] == "Job"
    }


@pytest.fixture(scope="module")
def job_commands() -> dict[str, list[str]]:
    return _job_commands()


def _run_job_program(command: list[str], database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``python -c PROGRAM PACKAGE`` in this interpreter: the same program, without a new process."""
    assert command[:2] == ["python", "-c"]
    program, *argv = command[2:]
    monkeypatch.setenv("RCM_DATABASE_URL", database_url)
    monkeypatch.setattr(sys, "argv", ["-c", *argv])
    exec(compile(program, "<migration job>", "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("service", SERVICES)
def test_the_migration_job_brings_a_fresh_database_to_head(
    job_commands: dict[str, list[str]],
    fresh_database: str,
    service: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = job_commands[service]
    _run_job_program(command, fresh_database, monkeypatch)
    assert f"rcm.{service}: database at head" in capsys.readouterr().out
    engine = sa.create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            (head,) = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
            tables = set(sa.inspect(conn).get_table_names())
        assert {inbox.name, outbox.name} <= tables, tables
        # the next upgrade finds the database at head and changes nothing
        _run_job_program(command, fresh_database, monkeypatch)
        with engine.connect() as conn:
            assert list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()) == [head]
    finally:
        engine.dispose()
