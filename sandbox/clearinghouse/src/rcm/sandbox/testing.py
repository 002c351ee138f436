"""Helpers for tests that run against the sandbox: configuration on free loopback ports,
transport settings pointing at it, claim builders and a bounded wait."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rcm.clearinghouse import (
    BreakerSettings,
    ClearinghouseSettings,
    CoreEndpoint,
    RetrySettings,
    SftpEndpoint,
)
from rcm.sandbox.config import EXAMPLE_CONFIG, SandboxConfig, load_config
from rcm.sandbox.engine.model import Claim, ServiceLine
from rcm.sandbox.server import Sandbox

FAST_RETRY = RetrySettings(
    timeout_seconds=3,
    max_attempts=3,
    initial_backoff_seconds=0.01,
    max_backoff_seconds=0.05,
    jitter_seconds=0.01,
)


def sandbox_config(tmp_path: Path, **overrides: Any) -> SandboxConfig:
    settings: dict[str, Any] = {
        "sftp_port": 0,
        "http_port": 0,
        "state_dir": str(tmp_path / "state"),
        "remit_delay_seconds": 0.2,
        "scan_interval_seconds": 0.05,
    }
    settings.update(overrides)
    return load_config(EXAMPLE_CONFIG, **settings)


def sftp_password(sb: Sandbox) -> str:
    password = sb.config.sandbox.sftp_users[0].password
    assert password is not None
    return password.get_secret_value()


def core_password(sb: Sandbox) -> str:
    return sb.config.sandbox.core_users[0].password.get_secret_value()


def settings_for(
    sb: Sandbox,
    *,
    envelope: str = "mime",
    retry: RetrySettings = FAST_RETRY,
    breaker: BreakerSettings | None = None,
    **core: Any,
) -> ClearinghouseSettings:
    core_fields: dict[str, Any] = {
        "url": sb.core_url,
        "envelope": envelope,
        "sender_id": "PRACTICE01",
        "receiver_id": sb.config.sandbox.clearinghouse_id,
        "username": "practice01",
        "password": core_password(sb),
        "retry": retry,
        "breaker": breaker or BreakerSettings(failure_threshold=5, cool_down_seconds=0.2),
    }
    core_fields.update(core)
    return ClearinghouseSettings(
        submitter_id="PRACTICE01",
        sftp=SftpEndpoint(
            host=sb.host,
            port=sb.sftp_port,
            username="practice01",
            password=sftp_password(sb),
            host_public_key=sb.host_public_key,
            retry=FAST_RETRY,
        ),
        core=CoreEndpoint(**core_fields),
    )


def line(
    number: int,
    code: str,
    charge: str,
    *,
    modifiers: tuple[str, ...] = (),
    pos: str = "11",
    on: date | None = None,
    units: str = "1",
) -> ServiceLine:
    return ServiceLine(number, code, modifiers, Decimal(charge), Decimal(units), on or recent(), pos)


def recent(days: int = 10) -> date:
    return date.today() - timedelta(days=days)


def claim(claim_id: str, member_id: str, payer_id: str, lines: list[ServiceLine], **fields: Any) -> Claim:
    values: dict[str, Any] = {
        "claim_id": claim_id,
        "payer_id": payer_id,
        "member_id": member_id,
        "patient_first_name": "PAT",
        "patient_last_name": "SAMPLE",
        "total_charge": sum((ln.charge for ln in lines), Decimal(0)),
        "place_of_service": lines[0].place_of_service,
        "frequency_code": "1",
        "billing_npi": "1234567893",
        "billing_entity_type": "2",
        "billing_name": "SANDBOX COUNSELING GROUP",
        "lines": tuple(lines),
        "received": date.today(),
        "rendering_npi": "1987654321",
        "rendering_taxonomy": "1041C0700X",
        "diagnoses": ("F411",),
    }
    values.update(fields)
    return Claim(**values)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 8.0, interval: float = 0.1
) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110 - polling a remote state, not a local event
            await asyncio.sleep(interval)
