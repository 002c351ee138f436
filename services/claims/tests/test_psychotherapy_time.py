"""Psychotherapy codes are chosen on the time spent in psychotherapy: a session that reports its
psychotherapy minutes apart from its length (other work inside it) is coded on those minutes,
for individual, crisis and family psychotherapy alike; a session that reports none is coded on
its length. A HCPCS code whose descriptor gives a range of minutes (SBIRT G0396/G0397) is chosen
by the time too."""

from __future__ import annotations

import pytest
from test_edits import FEES, make_session

from rcm.claims.domain.coding.result import NotBillable
from rcm.claims.domain.coding.sessions import code_session
from rcm.claims.domain.common import Credential

pytestmark = pytest.mark.unit


def _codes(**session: object) -> list[str] | str:
    coded = code_session(make_session(**session), credential=Credential.LCSW, fee_schedule=FEES)
    if isinstance(coded, NotBillable):
        return coded.reason.value
    return [f"{line.code}x{line.units}" for line in coded.lines]


@pytest.mark.parametrize(
    ("kind", "minutes", "therapy", "expected"),
    [
        ("individual", 60, 40, ["90834x1"]),
        ("individual", 60, None, ["90837x1"]),
        ("individual", 40, 15, "under_minimum_time"),
        ("crisis", 80, 50, ["90839x1"]),
        ("crisis", 80, None, ["90839x1", "90840x1"]),
        ("family_with_patient", 40, 20, "under_minimum_time"),
        ("family_with_patient", 40, 30, ["90847x1"]),
    ],
)
def test_psychotherapy_is_coded_on_its_own_minutes(
    kind: str, minutes: int, therapy: int | None, expected: list[str] | str
) -> None:
    assert _codes(service_kind=kind, minutes=minutes, psychotherapy_minutes=therapy) == expected


@pytest.mark.parametrize(
    ("code", "minutes", "expected"),
    [
        ("G0396", 20, ["G0396x1"]),
        ("G0396", 45, ["G0397x1"]),  # over 30 minutes is the longer intervention
        ("G0397", 20, ["G0396x1"]),
        ("G0397", 40, ["G0397x1"]),
        ("G0396", 10, "under_minimum_time"),
        ("G0442", 10, ["G0442x1"]),
        ("G0442", 3, "under_minimum_time"),
    ],
)
def test_a_hcpcs_code_whose_descriptor_gives_a_time_range_is_chosen_by_the_time(
    code: str, minutes: int, expected: list[str] | str
) -> None:
    assert _codes(service_kind="hcpcs_service", service_code=code, minutes=minutes) == expected
