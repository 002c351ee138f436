"""A new original (frequency 1) resends every line of a claim: it is the answer for a whole claim
that was rejected or unprocessable (MA130 at claim level), not for one line of a claim whose other
lines the payer took."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcm.denials.domain.denial import FoundDenial, denials_in_rejection, denials_in_remit
from rcm.denials.domain.facts import (
    AuthorizationOnFile,
    ClaimFacts,
    ClaimLineFacts,
    PayerFacts,
    TriageContext,
)
from rcm.denials.domain.playbook import Action, load_playbook
from rcm.denials.domain.triage import triage
from rcm.denials.settings import load_configured_playbook
from rcm.events.models import ClaimChangeAction, CorrectionMethod, PayerBillingRules, RemitReceived
from rcm.events.testing import claim_acknowledged, remit_received

pytestmark = pytest.mark.unit

PLAYBOOK = load_configured_playbook()
DOS = date(2025, 3, 3)
TODAY = date(2025, 4, 1)
PSYCHOTHERAPY = "ses-0001:1"
TESTING = "ses-0001:2"
AUTH = AuthorizationOnFile("auth-0001", "SYNAUTH000009", "payer-0001", date(2025, 1, 1), None)


def claim(*keys: str) -> ClaimFacts:
    codes = {PSYCHOTHERAPY: "90837", TESTING: "96130"}
    lines = tuple(ClaimLineFacts(k, codes[k], (), "11", DOS, 1, Decimal("170.00")) for k in keys)
    return ClaimFacts("clm-0001", "clm-0001", "pat-0001", "payer-0001", "cov-0001", "prov-0001", lines)


def ctx(claim_: ClaimFacts) -> TriageContext:
    return TriageContext(
        today=TODAY,
        claim=claim_,
        payer=PayerFacts("payer-0001", "commercial", PayerBillingRules(timely_filing_days=90)),
        authorizations=(AUTH,),
    )


def line(
    key: str, code: str, paid: str, adjustments: list[dict[str, str]], rarcs: list[str]
) -> dict[str, object]:
    return {
        "line_key": key,
        "procedure_code": code,
        "modifiers": [],
        "service_date": DOS,
        "charge": "170.00",
        "paid": paid,
        "adjustments": adjustments,
        "rarcs": rarcs,
    }


def cas(group: str, carc: str, amount: str) -> dict[str, str]:
    return {"group": group, "carc": carc, "amount": amount}


def remit(lines: list[dict[str, object]], *, status: str, paid: str, rarcs: list[str]) -> RemitReceived:
    return remit_received(
        1, status=status, paid=paid, patient_responsibility="0.00", charge="340.00", lines=lines, rarcs=rarcs
    )


def unprocessable_testing_line() -> dict[str, object]:
    return line(TESTING, "96130", "0.00", [cas("CO", "16", "170.00")], ["M62", "MA130"])


def only(remit_: RemitReceived) -> FoundDenial:
    found = denials_in_remit(remit_, PLAYBOOK)
    assert len(found) == 1
    return found[0]


def test_one_unprocessable_line_of_a_paid_claim_is_not_resent_with_the_paid_line() -> None:
    paid = line(PSYCHOTHERAPY, "90837", "135.00", [cas("CO", "45", "35.00")], [])
    found = only(remit([paid, unprocessable_testing_line()], status="1", paid="135.00", rarcs=[]))
    decision = triage(found, ctx(claim(PSYCHOTHERAPY, TESTING)), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.correction_method is None
    assert decision.fix_kind is None
    assert [(c.action, c.value) for c in decision.changes] == [
        (ClaimChangeAction.SET_AUTHORIZATION_NUMBER, "SYNAUTH000009")
    ]
    assert "alone" in decision.why


def test_a_claim_made_unprocessable_as_a_whole_goes_out_again_as_a_new_original() -> None:
    # MA130 in the claim's MOA: nothing on the claim was adjudicated
    both = [
        line(PSYCHOTHERAPY, "90837", "0.00", [cas("CO", "16", "170.00")], ["M62"]),
        line(TESTING, "96130", "0.00", [cas("CO", "16", "170.00")], ["M62"]),
    ]
    found = denials_in_remit(remit(both, status="4", paid="0.00", rarcs=["MA130"]), PLAYBOOK)
    assert len(found) == 2
    for denial in found:
        decision = triage(denial, ctx(claim(PSYCHOTHERAPY, TESTING)), PLAYBOOK)
        assert decision.action is Action.RESUBMIT_ORIGINAL
        assert decision.correction_method is CorrectionMethod.NEW_ORIGINAL


def test_an_unprocessable_line_of_a_one_line_claim_goes_out_again_as_a_new_original() -> None:
    found = only(remit([unprocessable_testing_line()], status="4", paid="0.00", rarcs=[]))
    decision = triage(found, ctx(claim(TESTING)), PLAYBOOK)
    assert decision.action is Action.RESUBMIT_ORIGINAL
    assert decision.correction_method is CorrectionMethod.NEW_ORIGINAL


def test_a_rejected_line_of_an_accepted_claim_is_not_resent_with_the_accepted_line() -> None:
    playbook = load_playbook(
        "rows:\n"
        "  - codes: ['*-*']\n    category: other\n    action: human_review\n    next_step: Read it.\n"
        "rejections:\n"
        "  - codes: ['*']\n    category: front_end_rejection\n    action: human_review\n    next_step: Fix.\n"
        "payers:\n"
        "  payer-0001:\n    rejections:\n"
        "      - codes: ['A7:252']\n        category: authorization\n        action: resubmit_original\n"
        "        fix: authorization_number\n        otherwise: fix_auth\n"
        "        next_step: Authorization number missing; add REF*G1.\n"
    )
    ack = claim_acknowledged(
        1,
        status="accepted",
        lines=[
            {"line_key": PSYCHOTHERAPY, "status": "accepted"},
            {"line_key": TESTING, "status": "rejected", "reasons": [{"code": "A7:252"}]},
        ],
    )
    found = denials_in_rejection(ack, playbook, "payer-0001")
    assert [d.line_key for d in found] == [TESTING]
    decision = triage(found[0], ctx(claim(PSYCHOTHERAPY, TESTING)), playbook, from_rejection=True)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.correction_method is None
    assert decision.changes
