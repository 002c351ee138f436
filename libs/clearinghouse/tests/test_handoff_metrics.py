"""A downloaded file a service fails to take in is counted by service and a bounded reason, and
logged without the error's message (it may quote the file's content)."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from rcm.clearinghouse import ClearinghouseMetrics, FailedHandOff

pytestmark = pytest.mark.unit

MEMBER = "MEMBER-ID-123456"


class OperationalError(Exception):
    """A driver's PEP 249 error for a database that cannot be reached."""


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValueError(f"bad NM1 {MEMBER}"), "invalid_content"),
        (KeyError(MEMBER), "invalid_content"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "invalid_content"),
        (ConnectionRefusedError(), "unavailable"),
        (TimeoutError(), "unavailable"),
        (OperationalError("server closed the connection"), "unavailable"),
        (RuntimeError(MEMBER), "handler_error"),
    ],
)
def test_a_failed_hand_off_has_a_bounded_reason(error: Exception, reason: str) -> None:
    assert FailedHandOff("999_1.x12", "999", "ab" * 32, error, size=10).reason == reason


def test_failed_hand_offs_are_counted_by_service_and_reason_and_logged_without_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = CollectorRegistry()
    metrics = ClearinghouseMetrics(registry)
    failed = FailedHandOff("277CA_1.x12", "277CA", "cd" * 32, ValueError(f"member {MEMBER}"))
    with caplog.at_level(logging.WARNING):
        metrics.handoff_failed("claims", failed)
        metrics.handoff_failed("claims", failed)
    labels = {"reason": "invalid_content"}
    assert registry.get_sample_value("rcm_sftp_handoff_failures_total", labels) == 2
    assert "277CA_1.x12" in caplog.text and "ValueError" in caplog.text
    assert MEMBER not in caplog.text
    samples = [s for fam in registry.collect() for s in fam.samples]
    assert not any("277CA_1" in v for s in samples for v in s.labels.values())
