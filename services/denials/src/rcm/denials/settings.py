"""The denials service's settings (``RCM_`` environment variables) and its playbook file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import Field, SecretStr

from rcm.denials.domain.playbook import Playbook, load_playbook
from rcm.servicekit import ServiceSettings

__all__ = ["DenialsSettings", "load_configured_playbook"]


class DenialsSettings(ServiceSettings):
    """Runtime settings plus the playbook location and the statistics timer."""

    service_name: str = Field("denials", description="Consumer group, outbox owner and telemetry name.")
    database_url: SecretStr = Field(
        SecretStr("postgresql+psycopg://postgres@127.0.0.1:55432/rcm_denials"),
        description="The denials database.",
    )
    playbook_path: Path | None = Field(
        None, description="A playbook YAML replacing the shipped one (per-payer rows under 'payers:')."
    )
    stats_interval_s: float = Field(300.0, gt=0, description="How often denial-stats-updated is published.")
    stats_window_days: int = Field(30, ge=1, description="Rolling window of the published statistics.")
    next_payer_wait_days: int = Field(
        365,
        ge=1,
        description="How long a remit's patient share waits for a secondary coverage added later "
        "(the usual time a secondary payer allows to file after the primary's remit).",
    )
    topic_partitions: int | None = Field(
        None, ge=1, description="Partitions of topics the service creates; the catalog's default if unset."
    )


def load_configured_playbook(path: Path | None = None) -> Playbook:
    """The playbook at ``path``, or the one shipped with the service."""
    if path is not None:
        return load_playbook(path.read_text(encoding="utf-8"))
    text = resources.files("rcm.denials").joinpath("playbook.yaml").read_text(encoding="utf-8")
    return load_playbook(text)
