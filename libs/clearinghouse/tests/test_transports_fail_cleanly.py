"""Transport failures against closed ports: typed errors, and no secret in messages or logs."""

from __future__ import annotations

import logging
import socket

import pytest

from rcm.clearinghouse import (
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    ClearinghouseSettings,
    CoreEndpoint,
    CoreRealtimeClient,
    PayerUnavailable,
    RetrySettings,
    SftpBatchClient,
    SftpEndpoint,
)

pytestmark = pytest.mark.unit

SECRET = "never-print-this-password"
RETRY = RetrySettings(timeout_seconds=1, max_attempts=2, initial_backoff_seconds=0, jitter_seconds=0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_endpoints_raise_payer_unavailable_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = closed_port()
    settings = ClearinghouseSettings(
        submitter_id="P",
        core=CoreEndpoint(
            url=f"http://127.0.0.1:{port}/core",
            sender_id="S",
            receiver_id="R",
            username="u",
            password=SECRET,
            retry=RETRY,
        ),
        sftp=SftpEndpoint(port=port, username="u", password=SECRET, accept_any_host_key=True, retry=RETRY),
    )
    caplog.set_level(logging.DEBUG)
    async with CoreRealtimeClient(settings) as client:
        with pytest.raises(PayerUnavailable) as core_error:
            await client.eligibility("ANY", "ISA~")
    assert settings.sftp is not None
    async with SftpBatchClient(settings.sftp) as sftp:
        with pytest.raises(PayerUnavailable) as sftp_error:
            await sftp.upload(b"ISA~", name="x.x12")
    for error in (core_error.value, sftp_error.value):
        assert SECRET not in str(error) and SECRET not in repr(error)
    assert SECRET not in caplog.text


async def test_an_sftp_breaker_opens_after_repeated_failures_and_stops_connecting() -> None:
    endpoint = SftpEndpoint(
        port=closed_port(),
        username="u",
        password=SECRET,
        accept_any_host_key=True,
        retry=RetrySettings(timeout_seconds=1, max_attempts=1),
    )
    breaker = CircuitBreaker("sftp", BreakerSettings(failure_threshold=2, cool_down_seconds=60))
    async with SftpBatchClient(endpoint, breaker=breaker) as sftp:
        for _ in range(2):
            with pytest.raises(PayerUnavailable):
                await sftp.poll()
        assert breaker.state is BreakerState.OPEN
        with pytest.raises(CircuitOpen) as caught:
            await sftp.upload(b"ISA~", name="x.x12")
    assert caught.value.retry_after > 0 and not caught.value.retryable
    assert breaker.consecutive_failures == 2  # the refused call did not try to connect
