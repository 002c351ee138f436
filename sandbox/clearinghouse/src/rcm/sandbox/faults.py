"""Fault injection: what the sandbox does wrong on purpose, set from YAML and adjustable at runtime.

Counters (``http_errors``, ``drop_http``, ``drop_sftp``, ``drop_sftp_after_rename``,
``drop_sftp_on_write``, ``malformed_files``,
``aaa_unable_to_respond``) are consumed one per event; flags stay on until switched off. Tests change them on the running
sandbox through ``Sandbox.faults``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FaultSettings", "Faults"]


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Seconds the CORE endpoint waits before answering, and the SFTP server before each file open
    #: and directory listing.
    latency_seconds: float = Field(default=0.0, ge=0)
    #: The next N CORE requests are answered with ``http_error_status`` (a 5xx, or 429 for throttling).
    http_errors: int = Field(default=0, ge=0)
    http_error_status: int = Field(default=503, ge=429, le=599)
    #: ``Retry-After`` (seconds) sent with those answers; none when not set.
    http_retry_after_seconds: int | None = Field(default=None, ge=0)
    #: The next N CORE requests have their connection closed without any response.
    drop_http: int = Field(default=0, ge=0)
    #: The next N SFTP file opens drop the SSH connection.
    drop_sftp: int = Field(default=0, ge=0)
    #: The next N SFTP renames succeed, then the SSH connection drops before the reply.
    drop_sftp_after_rename: int = Field(default=0, ge=0)
    #: The next N SFTP writes store half their data, then drop the SSH connection.
    drop_sftp_on_write: int = Field(default=0, ge=0)
    #: A file renamed into inbound/ is moved out at once (as real clearinghouses take uploads).
    pickup_uploads: bool = False
    #: Every 835 is delivered twice (the copy under another name).
    duplicate_remits: bool = False
    #: The next N batches also produce a malformed file in outbound/.
    malformed_files: int = Field(default=0, ge=0)
    #: The next N 270s are answered with AAA 42 (unable to respond now) / R.
    aaa_unable_to_respond: int = Field(default=0, ge=0)
    #: Every paid claim is later reversed (CLP02 22) and re-adjudicated at this share of the payment.
    reversal: bool = False
    reversal_paid_factor: Decimal = Field(default=Decimal("0.90"), ge=0, le=1)
    #: Every paid claim is later recouped: an 835 with PLB WO (recovery) and FB (negative, forwarded).
    recoupment: bool = False

    @field_validator("http_error_status")
    @classmethod
    def _server_error_or_throttled(cls, value: int) -> int:
        if value != 429 and not 500 <= value <= 599:
            raise ValueError("http_error_status must be a 5xx or 429")
        return value


@dataclass(slots=True)
class Faults:
    latency_seconds: float = 0.0
    http_errors: int = 0
    http_error_status: int = 503
    http_retry_after_seconds: int | None = None
    drop_http: int = 0
    drop_sftp: int = 0
    drop_sftp_after_rename: int = 0
    drop_sftp_on_write: int = 0
    pickup_uploads: bool = False
    duplicate_remits: bool = False
    malformed_files: int = 0
    aaa_unable_to_respond: int = 0
    reversal: bool = False
    reversal_paid_factor: Decimal = Decimal("0.90")
    recoupment: bool = False

    @classmethod
    def from_settings(cls, settings: FaultSettings) -> Faults:
        return cls(**settings.model_dump())

    def take(self, counter: str) -> bool:
        """Consume one occurrence of a counted fault; True when it should happen now."""
        remaining = int(getattr(self, counter))
        if remaining <= 0:
            return False
        setattr(self, counter, remaining - 1)
        return True

    def clear(self) -> None:
        """Switch every fault off."""
        default = Faults()
        for f in fields(self):
            setattr(self, f.name, getattr(default, f.name))
