"""The prior payer adjudicates a claim again after the next payer's claim was made.

A corrected or reprocessed claim, or the rest of a split payment: the next payer's claim
carries the adjudication as it now stands, and it still balances (SV102 = SVD02 + 2430 CAS;
CLM02 = AMT*D + 2320 CAS + 2430 CAS).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_837p_guide_rules import line, prior, prior_line, secondary
from test_edits import held_by, make_context

from rcm.claims.domain.cob import LineAdjustment, adjudicated_again, lines_of_the_claim
from rcm.claims.domain.edits.cob import prior_adjudication_balances

pytestmark = pytest.mark.unit

PAID_IN_FULL = (LineAdjustment(group="CO", carc="45", amount=Decimal("20.00")),)


def balances(claim_lines: int, adjudication: object) -> bool:
    claim = secondary(*(line(n) for n in range(1, claim_lines + 1)))
    return held_by(prior_adjudication_balances, claim, make_context(prior=adjudication)) == set()


def test_the_whole_claim_adjudicated_again_takes_the_place_of_the_first() -> None:
    first = prior(prior_line(1), prior_line(2))
    again = prior(
        prior_line(1),
        prior_line(2, paid="100.00", adjustments=PAID_IN_FULL),
        payer_claim_number="ICN0002",
        patient_responsibility=Decimal("20.00"),
    )
    now = adjudicated_again(first, again)
    assert now is not None
    assert (now.paid, now.patient_responsibility, now.payer_claim_number) == (
        Decimal("180.00"),
        Decimal("20.00"),
        "ICN0002",
    )
    assert [p.paid for p in now.lines] == [Decimal("80.00"), Decimal("100.00")]
    assert balances(2, now)


def test_the_rest_of_a_split_payment_joins_the_first_part() -> None:
    first = prior(prior_line(1))
    rest = prior(prior_line(2, paid="100.00", adjustments=PAID_IN_FULL), patient_responsibility=Decimal("0"))
    assert not balances(2, first)  # the first part alone leaves line 2 without its 2430
    now = adjudicated_again(first, rest)
    assert now is not None
    assert [p.line_key for p in now.lines] == [prior_line(1).line_key, prior_line(2).line_key]
    assert (now.paid, now.patient_responsibility) == (Decimal("180.00"), Decimal("20.00"))
    assert now.payer_claim_number == first.payer_claim_number
    assert balances(2, now)


def test_one_line_reprocessed_moves_the_claim_figures_by_what_it_changed() -> None:
    first = prior(prior_line(1), prior_line(2))
    line_two = prior(
        prior_line(2, paid="100.00", adjustments=PAID_IN_FULL), patient_responsibility=Decimal("0")
    )
    now = adjudicated_again(first, line_two)
    assert now is not None
    assert (now.paid, now.patient_responsibility) == (Decimal("180.00"), Decimal("20.00"))
    assert [p.paid for p in now.lines] == [Decimal("80.00"), Decimal("100.00")]
    assert balances(2, now)


def test_the_same_adjudication_again_changes_nothing() -> None:
    first = prior(prior_line(1), prior_line(2))
    assert adjudicated_again(first, first) is None
    assert adjudicated_again(first, first.model_copy(update={"coverage_id": None})) is None
    assert adjudicated_again(first, first.model_copy(update={"remit_ids": ("rmt-copy",)})) is None


def test_a_remit_already_applied_is_not_applied_twice() -> None:
    first = prior(prior_line(1), remit_ids=("rmt-1",))
    rest = prior(
        prior_line(2, paid="100.00", adjustments=PAID_IN_FULL),
        patient_responsibility=Decimal("0"),
        remit_ids=("rmt-2",),
    )
    now = adjudicated_again(first, rest)
    assert now is not None and now.remit_ids == ("rmt-1", "rmt-2")
    assert adjudicated_again(now, rest) is None  # the split's second part delivered again
    assert adjudicated_again(now, first) is None


def test_the_pieces_of_a_line_add_up_and_a_piece_of_no_line_of_the_claim_is_left_out() -> None:
    claim = secondary(*(line(n, line_key=prior_line(n).line_key) for n in (1, 2)))  # the primary's keys
    pieces = (
        prior_line(2, paid="30.00"),
        prior_line(1),
        prior_line(2, paid="50.00", adjustments=PAID_IN_FULL),
        prior_line(9),
    )
    one, two = lines_of_the_claim(claim, pieces)
    assert (one.line_key, one.paid) == (prior_line(1).line_key, Decimal("80.00"))
    assert (two.line_key, two.paid) == (prior_line(2).line_key, Decimal("80.00"))
    assert len(two.adjustments) == 3
