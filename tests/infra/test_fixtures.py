"""The fixture layer finds servers in the documented order and fails loudly without them."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from rcm.testing.infra import InfrastructureUnavailable, resolve_infrastructure

pytestmark = pytest.mark.unit


def test_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RCM_KAFKA_BOOTSTRAP", "10.0.0.1:9092")
    monkeypatch.setenv("RCM_DATABASE_URL", "postgresql+psycopg://u@10.0.0.2:5432/x")
    with ExitStack() as stack:
        infra = resolve_infrastructure(tmp_path, stack)
    assert infra.source == "environment"
    assert infra.database_url_for("rcm_claims") == "postgresql+psycopg://u@10.0.0.2:5432/rcm_claims"
    assert infra.conninfo == "postgresql://u@10.0.0.2:5432/x"


def test_local_env_file_is_used_only_when_its_servers_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RCM_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.delenv("RCM_DATABASE_URL", raising=False)
    monkeypatch.setenv("RCM_LOCAL_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker client either
    # port 9 (discard) on loopback: nothing listens there
    (tmp_path / "env").write_text(
        "RCM_KAFKA_BOOTSTRAP=127.0.0.1:9\nRCM_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:9/rcm_test\n"
    )
    with ExitStack() as stack, pytest.raises(InfrastructureUnavailable, match=r"deploy/local/up\.sh"):
        resolve_infrastructure(tmp_path, stack)
