"""An authorization the payer cancelled (278 HCR01 C) covers claims only for the days before."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rcm.claims.adapters import authorization_of
from rcm.events.testing import authorization_received

pytestmark = pytest.mark.unit

WINDOW = {"start": date(2025, 3, 1), "end": date(2025, 8, 31)}


def body(**overrides: object) -> dict[str, object]:
    event = authorization_received(1, valid=WINDOW, received_at=datetime(2025, 3, 1, tzinfo=UTC), **overrides)
    return event.model_dump(mode="json")


def test_a_cancelled_authorization_covers_the_days_before_its_cancellation() -> None:
    granted = authorization_of(body(cancelled_on=date(2025, 4, 2)))
    assert granted is not None
    assert (granted.valid.start, granted.valid.end) == (date(2025, 3, 1), date(2025, 4, 1))
    assert granted.covers(code="90837", day=date(2025, 4, 1), provider_id="prov-0001")
    assert not granted.covers(code="90837", day=date(2025, 4, 2), provider_id="prov-0001")


def test_an_authorization_cancelled_before_it_began_covers_nothing() -> None:
    assert authorization_of(body(cancelled_on=date(2025, 3, 1))) is None


def test_an_authorization_not_cancelled_keeps_its_window() -> None:
    granted = authorization_of(body())
    assert granted is not None and granted.valid.end == date(2025, 8, 31)
