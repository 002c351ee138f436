"""Alert conditions: each raised once, at its threshold."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rcm.authorizations.domain import AlertPolicy, Authorization, AuthorizationUnit, alerts_due, conditions
from rcm.events.models import AlertKind

pytestmark = pytest.mark.unit

TODAY = date(2025, 3, 1)
POLICY = AlertPolicy(low_remaining=2, low_used_fraction=0.8, expiring_within_days=21)


def auth(
    *, authorized: int = 10, used: int = 0, reserved: int = 0, end: date | None = date(2025, 12, 31)
) -> Authorization:
    return Authorization(
        authorization_id="a",
        patient_id="pat-1",
        payer_id="payer-1",
        coverage_id="cov-1",
        auth_number="N",
        unit=AuthorizationUnit.VISITS,
        authorized=authorized,
        start=date(2025, 1, 1),
        end=end,
        used=used,
        reserved=reserved,
    )


def burn_one_by_one(authorized: int, policy: AlertPolicy = POLICY) -> list[tuple[int, list[AlertKind]]]:
    """Consume visit after visit, recording which alerts each visit raises."""
    raised: set[str] = set()
    history = []
    for used in range(1, authorized + 1):
        due = alerts_due(auth(authorized=authorized, used=used), today=TODAY, policy=policy, raised=raised)
        raised |= {k.value for k in due}
        history.append((used, due))
    return history


def test_low_remaining_is_raised_once_when_two_visits_are_left() -> None:
    history = burn_one_by_one(20)
    low = [used for used, due in history if AlertKind.LOW_REMAINING in due]
    assert low == [16]  # 80% used comes first: 4 left


def test_low_remaining_by_count_when_the_share_comes_later() -> None:
    history = burn_one_by_one(20, AlertPolicy(low_remaining=2, low_used_fraction=0.95))
    low = [used for used, due in history if AlertKind.LOW_REMAINING in due]
    assert low == [18]


def test_exhausted_is_raised_once_on_the_last_visit() -> None:
    history = burn_one_by_one(6)
    assert [(used, due) for used, due in history if due] == [
        (4, [AlertKind.LOW_REMAINING]),  # two visits left
        (6, [AlertKind.EXHAUSTED]),
    ]


def test_nothing_is_raised_while_plenty_is_left() -> None:
    assert conditions(auth(authorized=10, used=5), today=TODAY, policy=POLICY) == frozenset()


def test_booked_visits_count_towards_the_warning() -> None:
    assert conditions(auth(authorized=10, used=5, reserved=3), today=TODAY, policy=POLICY) == {
        AlertKind.LOW_REMAINING
    }


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (22, frozenset()),
        (21, frozenset({AlertKind.EXPIRING})),
        (0, frozenset({AlertKind.EXPIRING})),
        (-1, frozenset({AlertKind.EXPIRED})),
    ],
)
def test_expiry_is_warned_21_days_ahead_and_reported_once_ended(
    days_left: int, expected: frozenset[AlertKind]
) -> None:
    ends = auth(end=TODAY + timedelta(days=days_left))
    assert conditions(ends, today=TODAY, policy=POLICY) == expected


def test_an_ended_authorization_is_only_expired_even_when_used_up() -> None:
    assert conditions(auth(used=10, end=TODAY - timedelta(days=3)), today=TODAY, policy=POLICY) == {
        AlertKind.EXPIRED
    }


def test_an_open_ended_authorization_never_expires() -> None:
    assert conditions(auth(end=None), today=TODAY, policy=POLICY) == frozenset()


def test_expiring_is_raised_once_over_the_days_before_the_end() -> None:
    ends = auth(end=TODAY + timedelta(days=30))
    raised: set[str] = set()
    raised_on = []
    for day in range(40):
        today = TODAY + timedelta(days=day)
        due = alerts_due(ends, today=today, policy=POLICY, raised=raised)
        raised |= {k.value for k in due}
        raised_on.extend((day, k) for k in due)
    assert raised_on == [(9, AlertKind.EXPIRING), (31, AlertKind.EXPIRED)]


def test_a_visit_given_back_does_not_raise_the_same_alert_again() -> None:
    raised = {k.value for k in alerts_due(auth(used=9), today=TODAY, policy=POLICY)}
    assert raised == {"low_remaining"}
    assert alerts_due(auth(used=8), today=TODAY, policy=POLICY, raised=raised) == []
    assert alerts_due(auth(used=9), today=TODAY, policy=POLICY, raised=raised) == []
