"""Property tests: varied events survive JSON and the envelope unchanged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm.events import decode, encode
from rcm.events import models as m
from rcm.events.testing import remit_received, session_completed

pytestmark = pytest.mark.unit

money = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
diagnoses = st.lists(st.from_regex(r"\A[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}\Z"), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=9999),
    minutes=st.integers(min_value=1, max_value=240),
    modality=st.sampled_from(list(m.Modality)),
    at_home=st.booleans(),
    codes=diagnoses,
    complexity=st.booleans(),
)
def test_sessions_round_trip_through_the_envelope(
    n: int, minutes: int, modality: m.Modality, at_home: bool, codes: list[str], complexity: bool
) -> None:
    session = session_completed(
        n,
        minutes=minutes,
        modality=modality,
        patient_location={"state": "NJ", "at_home": at_home},
        diagnoses=codes,
        interactive_complexity=complexity,
    )
    record = encode(session, source="/rcm/test", prefix="")
    assert decode(record.value, record.headers).event == session


adjustment = st.builds(
    lambda group, carc, amount, quantity: {
        "group": group,
        "carc": carc,
        "amount": amount,
        "quantity": quantity,
    },
    st.sampled_from([g.value for g in m.AdjustmentGroup]),
    st.from_regex(r"\A[0-9A-Z]{1,3}\Z"),
    money,
    st.none() | st.integers(min_value=0, max_value=99),
)


@settings(max_examples=60, deadline=None)
@given(paid=money, adjustments=st.lists(adjustment, max_size=6))
def test_remits_keep_every_adjustment_exactly(paid: Decimal, adjustments: list[dict[str, object]]) -> None:
    remit = remit_received(paid=paid, claim_adjustments=adjustments)
    again = m.RemitReceived.model_validate_json(remit.model_dump_json())
    assert again == remit
    assert [a.amount for a in again.claim_adjustments] == [Decimal(str(a["amount"])) for a in adjustments]
