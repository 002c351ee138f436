"""When a claim is finalized: settled with the payers and quiet for the configured period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rcm.claims.domain.finalization import Blocker, Finalize, NotYet, Settlement, finalization
from rcm.claims.domain.state import ClaimState

pytestmark = pytest.mark.unit

S = ClaimState
NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
QUIET = timedelta(days=30)


def settled(**overrides: Any) -> Settlement:
    values: dict[str, Any] = {
        "claim_key": "ABCDEFGHIJKLMNOPQ",
        "state": S.PAID,
        "last_activity_at": NOW - timedelta(days=31),
        "paid": Decimal("110.00"),
    }
    values.update(overrides)
    return Settlement(**values)


def blockers(s: Settlement, *, quiet: timedelta = QUIET) -> tuple[Blocker, ...]:
    decision = finalization(s, now=NOW, quiet=quiet)
    assert isinstance(decision, NotYet), decision
    return decision.blockers


@pytest.mark.parametrize(
    ("state", "paid", "to"),
    [
        (S.PAID, Decimal("110.00"), S.FINALIZED_PAID),
        (S.PAID, Decimal("0.00"), S.FINALIZED_PAID),  # paid at zero: the patient owes it all
        (S.PARTIALLY_PAID, Decimal("40.00"), S.FINALIZED_PAID),
        (S.DENIED, Decimal("0.00"), S.FINALIZED_DENIED),
        (S.WRITTEN_OFF, Decimal("40.00"), S.FINALIZED_PAID),
        (S.WRITTEN_OFF, Decimal("0.00"), S.FINALIZED_DENIED),
        (S.WRITTEN_OFF, None, S.FINALIZED_DENIED),  # written off before any remit was read
    ],
)
def test_a_settled_quiet_claim_is_finalized_paid_or_denied(
    state: ClaimState, paid: Decimal | None, to: ClaimState
) -> None:
    decision = finalization(settled(state=state, paid=paid), now=NOW, quiet=QUIET)
    assert isinstance(decision, Finalize)
    assert decision.to is to
    assert decision.reason == f"finalized: payer side settled as {state.value} for 30 days"


@pytest.mark.parametrize(
    "state",
    [S.CREATED, S.HELD, S.READY, S.BATCHED, S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.PENDED],
)
def test_a_claim_the_payer_has_not_settled_is_not_finalized(state: ClaimState) -> None:
    assert blockers(settled(state=state)) == (Blocker.NOT_SETTLED,)


@pytest.mark.parametrize("state", [S.CORRECTED, S.VOIDED, S.FINALIZED_PAID, S.FINALIZED_DENIED])
def test_a_superseded_or_already_finalized_claim_is_left_alone(state: ClaimState) -> None:
    assert blockers(settled(state=state)) == (Blocker.NOT_SETTLED,)


def test_a_balance_a_next_coverage_should_see_keeps_the_claim_open() -> None:
    assert blockers(settled(next_payer_due=True)) == (Blocker.NEXT_PAYER_DUE,)


@pytest.mark.parametrize("state", [S.CREATED, S.HELD, S.READY, S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.PENDED])
def test_a_next_payers_claim_in_flight_keeps_the_primary_open(state: ClaimState) -> None:
    assert blockers(settled(next_payer_claims=(S.PAID, state))) == (Blocker.NEXT_PAYER_IN_FLIGHT,)


@pytest.mark.parametrize("state", [S.PAID, S.DENIED, S.WRITTEN_OFF, S.FINALIZED_PAID, S.VOIDED])
def test_an_adjudicated_next_payers_claim_does_not_block(state: ClaimState) -> None:
    assert isinstance(finalization(settled(next_payer_claims=(state,)), now=NOW, quiet=QUIET), Finalize)


def test_a_replacement_or_void_on_its_way_keeps_the_claim_open() -> None:
    assert blockers(settled(state=S.WRITTEN_OFF, successors=(S.CORRECTED, S.SUBMITTED))) == (
        Blocker.CORRECTION_IN_FLIGHT,
    )
    assert isinstance(finalization(settled(successors=(S.VOIDED,)), now=NOW, quiet=QUIET), Finalize)


def test_a_claim_whose_session_changed_waits_to_be_taken_back() -> None:
    assert blockers(settled(session_changed=True)) == (Blocker.SESSION_CHANGED,)


def test_the_quiet_period_counts_from_the_last_transition_or_remit() -> None:
    assert blockers(settled(last_activity_at=NOW - timedelta(days=29, hours=23))) == (Blocker.QUIET_PERIOD,)
    assert isinstance(
        finalization(settled(last_activity_at=NOW - timedelta(days=30)), now=NOW, quiet=QUIET), Finalize
    )
    short = finalization(
        settled(last_activity_at=NOW - timedelta(hours=2)), now=NOW, quiet=timedelta(hours=1)
    )
    assert isinstance(short, Finalize)
    assert short.reason.endswith("for 0.0416667 days")


@pytest.mark.parametrize("state", [S.PAID, S.PARTIALLY_PAID, S.DENIED])
def test_a_claim_only_a_claim_status_answer_adjudicated_waits_for_its_835(state: ClaimState) -> None:
    # a 277 F1/F2 without the ERA: closing it would drop a payment nobody posted
    assert blockers(settled(state=state, paid=None, remitted=False)) == (Blocker.REMIT_MISSING,)


def test_a_write_off_needs_no_835() -> None:
    decision = finalization(settled(state=S.WRITTEN_OFF, paid=None, remitted=False), now=NOW, quiet=QUIET)
    assert isinstance(decision, Finalize)


def test_every_reason_is_given_at_once() -> None:
    blocked = {
        "next_payer_due": True,
        "next_payer_claims": (S.HELD,),
        "successors": (S.READY,),
        "session_changed": True,
        "last_activity_at": NOW,
    }
    # not settled and no 835 exclude each other: one is said for a claim still with the payer ...
    assert blockers(settled(state=S.ACCEPTED, **blocked)) == tuple(
        b for b in Blocker if b is not Blocker.REMIT_MISSING
    )
    # ... the other for one a 277 adjudicated
    assert blockers(settled(state=S.DENIED, remitted=False, **blocked)) == tuple(
        b for b in Blocker if b is not Blocker.NOT_SETTLED
    )
