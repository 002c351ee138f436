"""The eligibility service's settings: the runtime's, the clearinghouse file and per-payer policy.

Payer differences are data: concurrency, rate limit, service types asked, fallback order
and re-check habits are set per electronic payer id under ``payers``; anything not set
falls back to ``default_payer``. Environment: ``RCM_ELIGIBILITY_...`` for this service's
own fields (JSON for the nested ones), ``RCM_CLEARINGHOUSE__...`` overlays the YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rcm.clearinghouse import ClearinghouseSettings
from rcm.eligibility.domain.service_types import DEFAULT_INQUIRY
from rcm.servicekit import ServiceSettings

__all__ = ["EligibilityOptions", "EligibilitySettings", "PayerPolicy", "load_clearinghouse"]


class PayerPolicy(BaseModel):
    """How one payer is asked: limits it imposes and the codes it answers under."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_concurrent: int = Field(default=4, ge=1, description="Requests in flight at once.")
    max_per_second: float = Field(default=5.0, gt=0, description="Requests started per second.")
    service_types: tuple[str, ...] = Field(default=DEFAULT_INQUIRY, description="EQ01 codes of the 270.")
    fallback_order: tuple[str, ...] | None = Field(
        default=None,
        description="Where benefits are looked for; unset, the order for the service asked about "
        "(``service_types``: a substance-use visit's when only AI, AJ or AK are asked, else a "
        "mental-health visit's).",
    )
    recheck_hour: int = Field(default=19, ge=0, le=23, description="Local hour of the night-before re-check.")
    recheck_every_visit: bool = Field(
        default=True, description="Re-check the night before every visit (else only the month's first)."
    )


class EligibilityOptions(BaseSettings):
    """This service's own knobs (``RCM_ELIGIBILITY_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="RCM_ELIGIBILITY_", extra="ignore", populate_by_name=True)

    clearinghouse_file: Path | None = Field(default=None, description="YAML of ClearinghouseSettings.")
    cache_hours: float = Field(default=12.0, ge=0, description="How long a result answers a repeat request.")
    payers: dict[str, PayerPolicy] = Field(
        default_factory=dict, description="Policy per electronic payer id."
    )
    default_payer: PayerPolicy = Field(default_factory=PayerPolicy)
    unavailable_retry_s: list[float] = Field(
        default_factory=lambda: [300.0, 1800.0, 7200.0],
        description="Delays of the re-checks after a payer outage or an AAA 'try again'; then it is reported only.",
    )
    payer_wait_s: float = Field(
        default=5.0,
        gt=0,
        description="How long a check waits for its payer's turn (rate, concurrency) before it is queued "
        "for later, so that a busy payer does not hold the other payers' checks.",
    )
    payer_answer_wait_s: float = Field(
        default=15.0,
        gt=0,
        description="How long a batch waits for a payer's answer to a 270 already sent; past that the "
        "check is queued for later and takes that answer when it lands (no second 270).",
    )
    recheck_poll_s: float = Field(
        default=30.0, gt=0, description="How often the re-check timer looks for due checks."
    )
    recheck_batch: int = Field(default=200, ge=1, description="Due re-checks taken per timer round.")
    usage: str = Field(
        default="P",
        pattern="^[PT]$",
        validation_alias=AliasChoices("RCM_ELIGIBILITY_USAGE", "RCM_INTERCHANGE_USAGE"),
        description="ISA15: P production, T test. RCM_ELIGIBILITY_USAGE, else RCM_INTERCHANGE_USAGE (the "
        "setting the claims service's 837P and 276 and the 278 requests follow), else P.",
    )

    def policy(self, electronic_payer_id: str) -> PayerPolicy:
        return self.payers.get(electronic_payer_id, self.default_payer)


class EligibilitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RCM_", extra="ignore")

    service_name: str = "eligibility"
    database_url: SecretStr = SecretStr("postgresql+psycopg://postgres@127.0.0.1:55432/rcm_eligibility")


def load_clearinghouse(path: Path | None) -> ClearinghouseSettings:
    """The transport settings: the YAML file (if any) overlaid with ``RCM_CLEARINGHOUSE__`` variables."""
    base: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of clearinghouse settings")
        base = loaded
    return ClearinghouseSettings.from_env(base)
