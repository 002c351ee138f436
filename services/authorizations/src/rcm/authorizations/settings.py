"""Settings: the runtime's (``RCM_`` environment) and this service's knobs (``RCM_AUTHORIZATIONS_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rcm.authorizations.domain import AlertPolicy
from rcm.servicekit import ServiceSettings

__all__ = ["AuthorizationOptions", "AuthorizationSettings"]


class AuthorizationOptions(BaseSettings):
    """Thresholds and habits of the practice (``RCM_AUTHORIZATIONS_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="RCM_AUTHORIZATIONS_", extra="ignore")

    low_remaining: int = Field(default=2, ge=0, description="Warn when this many visits/units are left.")
    low_used_fraction: float = Field(
        default=0.8, gt=0, le=1, description="Warn when this share is used or booked."
    )
    expiring_within_days: int = Field(default=21, ge=0, description="Warn this many days before the end.")
    reserve_on_schedule: bool = Field(
        default=True, description="A scheduled appointment books a visit until it is billed or cancelled."
    )
    expiry_check_interval_s: float = Field(
        default=24 * 3600.0, gt=0, description="How often the timer looks for expiring authorizations."
    )
    booking_grace_days: int = Field(
        default=14,
        ge=0,
        description="Drop a booking this many days after its day when no claim billed it (the timer).",
    )

    def policy(self) -> AlertPolicy:
        return AlertPolicy(
            low_remaining=self.low_remaining,
            low_used_fraction=self.low_used_fraction,
            expiring_within_days=self.expiring_within_days,
        )


class AuthorizationSettings(ServiceSettings):
    """The runtime's settings with this service's defaults (its consumer group and database)."""

    service_name: str = "authorizations"
    database_url: SecretStr = SecretStr("postgresql+psycopg://postgres@127.0.0.1:55432/rcm_authorizations")
    authorizations: AuthorizationOptions = Field(default_factory=AuthorizationOptions)
    interchange_usage: str = Field(
        "P",
        pattern="^[PT]$",
        description="ISA15 of the 278 requests: P production, T test (RCM_INTERCHANGE_USAGE, the setting "
        "the claims service's 837P and 276 follow).",
    )
