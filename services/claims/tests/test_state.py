"""The claim state machine: allowed paths, illegal moves and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rcm.claims.domain.errors import ClaimsError, IllegalTransition
from rcm.claims.domain.state import (
    ALLOWED_TRANSITIONS,
    FINALIZED_STATES,
    REOPENED_BY_REMIT,
    TERMINAL_STATES,
    ClaimLifecycle,
    ClaimState,
    transition,
)

pytestmark = pytest.mark.unit

AT = datetime(2025, 3, 5, 12, tzinfo=UTC)
S = ClaimState


def walk(*states: ClaimState) -> ClaimLifecycle:
    claim = ClaimLifecycle(claim_key="ABCDEFGHIJKLMNOPQ")
    for state in states:
        claim = claim.move(state, reason=f"to {state.value}", at=AT)
    return claim


def test_a_clean_claim_goes_from_created_to_finalized_paid() -> None:
    claim = walk(S.READY, S.BATCHED, S.SUBMITTED, S.ACCEPTED, S.PAID, S.FINALIZED_PAID)
    assert claim.state is S.FINALIZED_PAID
    assert claim.is_terminal
    assert [(r.from_state, r.to_state) for r in claim.history][:2] == [
        (S.CREATED, S.READY),
        (S.READY, S.BATCHED),
    ]


def test_a_held_claim_is_released_when_fixed() -> None:
    assert walk(S.HELD, S.READY).state is S.READY


def test_a_rejected_claim_goes_back_to_held() -> None:
    assert walk(S.READY, S.BATCHED, S.SUBMITTED, S.REJECTED, S.HELD).state is S.HELD


def test_a_denied_claim_is_corrected_or_finalized() -> None:
    denied = walk(S.READY, S.BATCHED, S.SUBMITTED, S.ACCEPTED, S.DENIED)
    assert denied.move(S.CORRECTED, reason="replacement sent", at=AT).state is S.CORRECTED
    assert denied.move(S.FINALIZED_DENIED, reason="written off", at=AT).state is S.FINALIZED_DENIED


def test_a_pended_claim_is_adjudicated_later() -> None:
    assert (
        walk(S.READY, S.BATCHED, S.SUBMITTED, S.ACCEPTED, S.PENDED, S.PARTIALLY_PAID).state
        is S.PARTIALLY_PAID
    )


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.CREATED, S.SUBMITTED),
        (S.HELD, S.BATCHED),
        (S.READY, S.PAID),
        (S.SUBMITTED, S.READY),
        (S.FINALIZED_PAID, S.READY),
        (S.FINALIZED_PAID, S.HELD),
        (S.FINALIZED_DENIED, S.WRITTEN_OFF),
        (S.FINALIZED_DENIED, S.FINALIZED_PAID),
        (S.VOIDED, S.READY),
    ],
)
def test_an_illegal_transition_raises_a_typed_error(current: ClaimState, to: ClaimState) -> None:
    with pytest.raises(IllegalTransition) as raised:
        transition("ABCDEFGHIJKLMNOPQ", current, to, reason="no", at=AT)
    assert isinstance(raised.value, ClaimsError)
    assert (raised.value.from_state, raised.value.to_state) == (current.value, to.value)


def test_each_transition_is_an_audit_record() -> None:
    record = transition("KEY", S.HELD, S.READY, reason="eligibility re-checked", at=AT, actor="operator:7")
    assert (record.from_state, record.to_state, record.reason, record.at, record.actor) == (
        S.HELD,
        S.READY,
        "eligibility re-checked",
        AT,
        "operator:7",
    )


def test_every_state_is_in_the_table_and_terminal_states_lead_nowhere_but_a_remits_reopening() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(ClaimState)
    assert {S.CORRECTED, S.VOIDED, S.FINALIZED_PAID, S.FINALIZED_DENIED} == TERMINAL_STATES
    assert {s for s in TERMINAL_STATES if ALLOWED_TRANSITIONS[s]} == FINALIZED_STATES
    assert all(
        ALLOWED_TRANSITIONS[s] == {*REOPENED_BY_REMIT, S.CORRECTED, S.VOIDED} for s in FINALIZED_STATES
    )
    reachable = {S.CREATED}
    frontier = [S.CREATED]
    while frontier:
        for nxt in ALLOWED_TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(ClaimState)


def test_a_claim_accepted_but_not_yet_adjudicated_can_be_replaced_and_a_late_remit_cannot_undo_it() -> None:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    record = transition("K", ClaimState.ACCEPTED, ClaimState.CORRECTED, reason="replacement sent", at=at)
    assert record.to_state is ClaimState.CORRECTED
    with pytest.raises(IllegalTransition):
        transition("K", ClaimState.CORRECTED, ClaimState.DENIED, reason="late remit", at=at)


@pytest.mark.parametrize("to", [S.PAID, S.PARTIALLY_PAID, S.DENIED, S.PENDED])
@pytest.mark.parametrize("final", [S.FINALIZED_PAID, S.FINALIZED_DENIED])
def test_a_later_remit_reopens_a_finalized_claim_to_what_it_says(final: ClaimState, to: ClaimState) -> None:
    record = transition("K", final, to, reason="reopened: remit-received CLP02 22", at=AT)
    assert (record.from_state, record.to_state) == (final, to)


def test_a_written_off_claim_is_finalized_as_paid_or_denied() -> None:
    written_off = walk(S.READY, S.BATCHED, S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_PAID, S.WRITTEN_OFF)
    assert written_off.move(S.FINALIZED_PAID, reason="settled", at=AT).is_terminal
    assert written_off.move(S.FINALIZED_DENIED, reason="settled", at=AT).is_terminal


def test_a_reversed_finalized_claim_is_paid_again_and_finalized_again() -> None:
    claim = walk(S.READY, S.BATCHED, S.SUBMITTED, S.ACCEPTED, S.PAID, S.FINALIZED_PAID, S.PENDED, S.PAID)
    assert not claim.is_terminal
    assert claim.move(S.FINALIZED_PAID, reason="settled again", at=AT).is_terminal


@pytest.mark.parametrize("final", [S.FINALIZED_PAID, S.FINALIZED_DENIED])
def test_a_replacement_or_void_sent_for_a_finalized_claim_supersedes_it(final: ClaimState) -> None:
    assert transition("K", final, S.CORRECTED, reason="replacement sent", at=AT).to_state is S.CORRECTED
    assert transition("K", final, S.VOIDED, reason="void sent", at=AT).to_state is S.VOIDED
