"""Triage guards: no appeal without appeal rights, no write-off of the patient's share, no
closing of one party's amounts with another's, no write-off on a filing window not on file."""

from __future__ import annotations

from datetime import date

import pytest
from test_triage import claim as telehealth_claim
from triage_world import LATE, PLAYBOOK, TODAY, cas, claim, ctx, only, remit

from rcm.denials.domain.denial import denials_in_remit
from rcm.denials.domain.facts import Acceptance, PayerFacts, TriageContext
from rcm.denials.domain.playbook import Action, load_playbook
from rcm.denials.domain.triage import triage
from rcm.events.models import CoveragePriority, PayerBillingRules, TimelyFilingClock

pytestmark = pytest.mark.unit


def test_a_medical_necessity_denial_without_appeal_rights_is_not_appealed() -> None:
    remit_ = remit("4", [cas("CO", "50", "170.00")], line_rarcs=["N211"])
    decision = triage(only(remit_), ctx(), PLAYBOOK, adjudicated_on=TODAY)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.appeal_deadline is None
    assert "N211" in decision.why


def test_timely_filing_with_n211_at_claim_level_is_still_written_off() -> None:
    remit_ = remit("4", [cas("CO", "29", "170.00")], rarcs=["N211"])
    decision = triage(only(remit_), ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert decision.action is Action.WRITE_OFF
    assert decision.write_off_reason == "CO-29 (N211)"


def test_a_write_off_never_takes_the_patients_share_with_it() -> None:
    # CO-29 decides the line, but part of it the payer put on the patient (PR-204)
    remit_ = remit("4", [cas("CO", "29", "120.00"), cas("PR", "204", "50.00")])
    found = only(remit_)
    assert found.label == "CO-29"
    decision = triage(found, ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert "PR-204" in decision.why


def test_a_patient_share_never_closes_the_providers_part_of_the_denial() -> None:
    # PR-204 decides (largest), yet CO-97 on the same line is the provider's to work
    remit_ = remit("4", [cas("PR", "204", "150.00"), cas("CO", "97", "20.00")])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert "CO-97" in decision.why


def test_a_payer_row_that_writes_off_a_patient_responsibility_code_goes_to_a_person() -> None:
    text = (
        "rows:\n"
        "  - codes: ['*-*']\n    category: other\n    action: human_review\n    next_step: Read it.\n"
        "rejections:\n"
        "  - codes: ['*']\n    category: front_end_rejection\n    action: human_review\n    next_step: Fix.\n"
        "payers:\n"
        "  payer-0001:\n    rows:\n"
        "      - codes: [PR-96]\n        category: non_covered\n        action: write_off\n"
        "        next_step: Excluded service.\n"
    )
    playbook = load_playbook(text)
    found = denials_in_remit(remit("4", [cas("PR", "96", "170.00")], payer_id="payer-0001"), playbook)
    assert len(found) == 1
    decision = triage(found[0], ctx(), playbook)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None


def test_co29_on_a_secondary_claim_whose_clock_starts_at_the_primary_remit_is_not_written_off() -> None:
    # the secondary's window runs from the primary's remit, a date not on file here: an earlier
    # submission accepted after 90 days from the service may still be in time
    rules = PayerBillingRules(timely_filing_days=90, timely_filing_clock=TimelyFilingClock.PRIMARY_REMIT_DATE)
    payer = PayerFacts("payer-0001", "commercial", rules)
    accepted = (Acceptance("clm-0001", date(2025, 6, 20)),)
    secondary = claim("clm-0001-r", CoveragePriority.SECONDARY)
    decision = triage(
        only(remit("4", [cas("CO", "29", "170.00")])),
        ctx(claim=secondary, payer=payer, acceptances=accepted),
        PLAYBOOK,
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert "primary" in decision.why


def test_co29_on_a_primary_claim_without_proof_is_still_written_off() -> None:
    rules = PayerBillingRules(timely_filing_days=90, timely_filing_clock=TimelyFilingClock.PRIMARY_REMIT_DATE)
    payer = PayerFacts("payer-0001", "commercial", rules)
    decision = triage(
        only(remit("4", [cas("CO", "29", "170.00")])), ctx(payer=payer), PLAYBOOK, adjudicated_on=LATE
    )
    assert decision.action is Action.WRITE_OFF


def video() -> TriageContext:
    """A commercial payer's claim for a video visit at home (POS 10) billed without 95."""
    return ctx(claim=telehealth_claim())


@pytest.mark.parametrize(
    ("larger", "other"),
    [
        (("CO", "4"), ("CO", "197")),  # the modifier fix would go out without an authorization
        (("CO", "4"), ("CO", "18")),  # a duplicate is never resubmitted
        (("CO", "4"), ("CO", "185")),  # the modifier fixed, the provider still not eligible
    ],
)
def test_a_second_reason_calling_for_another_fix_sends_the_denial_to_a_person(
    larger: tuple[str, str], other: tuple[str, str]
) -> None:
    remit_ = remit("4", [cas(*larger, "100.00"), cas(*other, "70.00")])
    found = only(remit_)
    assert found.label == "-".join(larger)
    alone = triage(only(remit("4", [cas(*larger, "170.00")])), video(), PLAYBOOK, adjudicated_on=TODAY)
    assert alone.action is Action.RESUBMIT_REPLACEMENT  # what the larger reason alone gets
    decision = triage(found, video(), PLAYBOOK, adjudicated_on=TODAY)
    assert decision.action is Action.HUMAN_REVIEW
    assert "-".join(other) in decision.why and "another fix" in decision.why
    assert decision.changes == () and decision.fix_kind is None


def test_two_reasons_with_the_same_fix_are_still_corrected_automatically() -> None:
    both = remit("4", [cas("CO", "4", "100.00"), cas("PI", "4", "70.00")])
    decision = triage(only(both), video(), PLAYBOOK, adjudicated_on=TODAY)
    assert decision.action is Action.RESUBMIT_REPLACEMENT


@pytest.mark.parametrize("other", ["50", "39", "151"])
def test_a_co29_written_off_never_takes_a_reason_that_is_appealed_with_it(other: str) -> None:
    # CO-29's row says appeal, but without proof it is written off: CO-50 (necessity), CO-39 (an
    # authorization denied) or CO-151 beside it are appealed alone, not written off with it
    remit_ = remit("4", [cas("CO", "29", "100.00"), cas("CO", other, "70.00")])
    found = only(remit_)
    assert found.label == "CO-29"
    alone = triage(only(remit("4", [cas("CO", "29", "170.00")])), ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert alone.action is Action.WRITE_OFF  # what CO-29 alone gets
    decision = triage(found, ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert f"CO-{other}" in decision.why and "another fix" in decision.why


def test_the_same_timely_filing_reason_twice_is_still_written_off() -> None:
    both = remit("4", [cas("CO", "29", "100.00"), cas("PI", "29", "70.00")])
    decision = triage(only(both), ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert decision.action is Action.WRITE_OFF
