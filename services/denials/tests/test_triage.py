"""Triage makes the playbook row concrete for a claim: fixes, proof, payer methods, deadlines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcm.denials.domain.denial import denials_in_rejection, denials_in_remit, patient_cost_sharing
from rcm.denials.domain.facts import (
    Acceptance,
    AuthorizationOnFile,
    ClaimFacts,
    ClaimLineFacts,
    PayerFacts,
    TriageContext,
)
from rcm.denials.domain.playbook import Action, Category
from rcm.denials.domain.triage import triage
from rcm.denials.settings import load_configured_playbook
from rcm.events.models import (
    ClaimChangeAction,
    CorrectedClaimMethod,
    CorrectionMethod,
    PayerBillingRules,
    RemitReceived,
    TelehealthRules,
)
from rcm.events.testing import claim_acknowledged, remit_received

pytestmark = pytest.mark.unit

PLAYBOOK = load_configured_playbook()
DOS = date(2025, 3, 3)
LINE_KEY = "ses-0001:1"
TODAY = date(2025, 4, 1)


def payer(**rules: object) -> PayerFacts:
    base: dict[str, object] = {
        "telehealth": TelehealthRules(video_modifiers=["95"]),
        "timely_filing_days": 90,
    }
    return PayerFacts("payer-0001", "commercial", PayerBillingRules.model_validate({**base, **rules}))


def claim(*, modifiers: tuple[str, ...] = (), pos: str = "10", auth: str | None = None) -> ClaimFacts:
    line = ClaimLineFacts(LINE_KEY, "90837", modifiers, pos, DOS, 1, Decimal("170.00"))
    return ClaimFacts(
        "clm-0001", "clm-0001", "pat-0001", "payer-0001", "cov-0001", "prov-0001", (line,), auth
    )


def denied(
    group: str, carc: str, *, rarcs: list[str] | None = None, claim_level: bool = False
) -> RemitReceived:
    cas = [{"group": group, "carc": carc, "amount": "170.00"}]
    line = {
        "line_key": LINE_KEY,
        "procedure_code": "90837",
        "modifiers": [],
        "service_date": DOS,
        "charge": "170.00",
        "paid": "0.00",
        "adjustments": [] if claim_level else cas,
        "rarcs": [] if claim_level else (rarcs or []),
    }
    return remit_received(
        1,
        status="4",
        paid="0.00",
        patient_responsibility="0.00",
        claim_adjustments=cas if claim_level else [],
        rarcs=(rarcs or []) if claim_level else [],
        lines=[] if claim_level else [line],
    )


def ctx(**kw: object) -> TriageContext:
    values: dict[str, object] = {"today": TODAY, "claim": claim(), "payer": payer()}
    values.update(kw)
    return TriageContext(**values)  # type: ignore[arg-type]


def only(remit: RemitReceived):  # type: ignore[no-untyped-def]
    found = denials_in_remit(remit, PLAYBOOK)
    assert len(found) == 1
    return found[0]


def test_co4_on_a_telehealth_line_missing_95_is_corrected_with_the_modifier() -> None:
    decision = triage(only(denied("CO", "4")), ctx(), PLAYBOOK, adjudicated_on=TODAY)
    assert decision.action is Action.RESUBMIT_REPLACEMENT
    assert decision.correction_method is CorrectionMethod.REPLACEMENT
    assert [(c.action, c.line_key, c.value) for c in decision.changes] == [
        (ClaimChangeAction.ADD_MODIFIER, LINE_KEY, "95")
    ]
    assert decision.fix_kind == f"missing_modifier:{LINE_KEY}"
    assert not decision.queued


def test_co4_on_a_video_line_when_our_rules_list_no_modifier_adds_the_standard_95() -> None:
    rules_without = payer(telehealth=TelehealthRules(video_modifiers=[]))
    decision = triage(only(denied("CO", "4")), ctx(payer=rules_without), PLAYBOOK, adjudicated_on=TODAY)
    assert decision.action is Action.RESUBMIT_REPLACEMENT
    assert [(c.action, c.value) for c in decision.changes] == [(ClaimChangeAction.ADD_MODIFIER, "95")]


def test_co4_on_an_audio_only_line_when_our_rules_list_no_modifier_adds_93() -> None:
    rules_without = payer(telehealth=TelehealthRules(video_modifiers=[], audio_only_modifiers=[]))
    audio = ctx(payer=rules_without, claim=claim(modifiers=("FQ",)))
    decision = triage(only(denied("CO", "4")), audio, PLAYBOOK, adjudicated_on=TODAY)
    assert decision.action is Action.HUMAN_REVIEW  # FQ is already an audio-only modifier: a person decides


def test_co4_when_the_modifier_is_already_there_goes_to_a_person() -> None:
    decision = triage(only(denied("CO", "4")), ctx(claim=claim(modifiers=("95",))), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.queued
    assert decision.deadline is not None


def test_the_same_fix_is_never_requested_twice_for_a_claim() -> None:
    tried = frozenset({f"missing_modifier:{LINE_KEY}"})
    decision = triage(only(denied("CO", "4")), ctx(fixes_tried=tried), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.changes == ()
    assert "already requested" in decision.why


@pytest.mark.parametrize("group", ["OA", "CO"])
def test_a_duplicate_is_never_resubmitted(group: str) -> None:
    decision = triage(only(denied(group, "18")), ctx(), PLAYBOOK)
    assert decision.category is Category.DUPLICATE
    assert decision.action is Action.POST_ONLY
    assert decision.changes == ()
    assert decision.correction_method is None


def test_co197_with_an_authorization_on_file_adds_ref_g1() -> None:
    auth = AuthorizationOnFile(
        "auth-0001", "SYNAUTH000001", "payer-0001", date(2025, 1, 1), date(2025, 6, 30), ("90837",)
    )
    decision = triage(only(denied("CO", "197")), ctx(authorizations=(auth,)), PLAYBOOK)
    assert decision.action is Action.RESUBMIT_REPLACEMENT
    assert [(c.action, c.value) for c in decision.changes] == [
        (ClaimChangeAction.SET_AUTHORIZATION_NUMBER, "SYNAUTH000001")
    ]


@pytest.mark.parametrize(
    "auth",
    [
        None,
        AuthorizationOnFile("a", "OTHERPAYER", "payer-9999", date(2025, 1, 1), None),
        AuthorizationOnFile("a", "EXPIRED", "payer-0001", date(2024, 1, 1), date(2024, 12, 31)),
        AuthorizationOnFile("a", "TESTING", "payer-0001", date(2025, 1, 1), None, ("96130",)),
    ],
)
def test_co197_without_a_covering_authorization_needs_one(auth: AuthorizationOnFile | None) -> None:
    decision = triage(only(denied("CO", "197")), ctx(authorizations=(auth,) if auth else ()), PLAYBOOK)
    assert decision.action is Action.FIX_AUTH
    assert decision.queued


def test_co197_when_the_auth_was_already_on_the_claim_needs_a_person() -> None:
    auth = AuthorizationOnFile("a", "SYNAUTH000001", "payer-0001", date(2025, 1, 1), None)
    decision = triage(
        only(denied("CO", "197")), ctx(claim=claim(auth="SYNAUTH000001"), authorizations=(auth,)), PLAYBOOK
    )
    assert decision.action is Action.FIX_AUTH


def replacement_of_clm_0001() -> ClaimFacts:
    """The replacement (frequency 7) of claim clm-0001: same chain, a claim id of its own."""
    original = claim()
    return ClaimFacts(
        "clm-0001-r",
        original.root_claim_id,
        original.patient_id,
        original.payer_id,
        original.coverage_id,
        original.rendering_provider_id,
        original.lines,
    )


def test_claim_level_co29_without_proof_is_written_off() -> None:
    decision = triage(only(denied("CO", "29", claim_level=True)), ctx(), PLAYBOOK)
    assert decision.action is Action.WRITE_OFF
    assert decision.write_off_reason == "CO-29 without proof of timely filing"


def test_co29_on_the_first_and_only_submission_is_written_off_although_it_was_accepted() -> None:
    # the payer judged this very submission late: its own acceptance proves nothing
    own = Acceptance("clm-0001", date(2025, 3, 10))
    decision = triage(only(denied("CO", "29", claim_level=True)), ctx(acceptances=(own,)), PLAYBOOK)
    assert decision.action is Action.WRITE_OFF
    assert decision.write_off_reason == "CO-29 without proof of timely filing"
    assert "no proof" in decision.why
    assert "proof" not in decision.evidence


def test_co29_on_a_replacement_whose_original_was_accepted_in_time_is_appealed_with_the_proof() -> None:
    accepted = (Acceptance("clm-0001", date(2025, 3, 10)), Acceptance("clm-0001-r", date(2025, 7, 1)))
    decision = triage(
        only(denied("CO", "29", claim_level=True)),
        ctx(claim=replacement_of_clm_0001(), acceptances=accepted),
        PLAYBOOK,
        adjudicated_on=date(2025, 7, 8),
    )
    assert decision.action is Action.APPEAL
    assert decision.appeal_deadline == decision.deadline == date(2026, 1, 4)  # 180 days, commercial
    assert decision.evidence["proof"] == "clm-0001 accepted 2025-03-10"


def test_co29_on_a_replacement_whose_original_was_accepted_after_the_window_is_no_proof() -> None:
    accepted = (Acceptance("clm-0001", date(2025, 6, 20)), Acceptance("clm-0001-r", date(2025, 7, 1)))
    decision = triage(
        only(denied("CO", "29")), ctx(claim=replacement_of_clm_0001(), acceptances=accepted), PLAYBOOK
    )
    assert decision.action is Action.WRITE_OFF


def test_co29_with_n211_is_written_off_even_with_proof() -> None:
    decision = triage(
        only(denied("CO", "29", rarcs=["N211"])),
        ctx(claim=replacement_of_clm_0001(), acceptances=(Acceptance("clm-0001", date(2025, 3, 10)),)),
        PLAYBOOK,
    )
    assert decision.action is Action.WRITE_OFF
    assert decision.write_off_reason == "CO-29 (N211)"


def test_medicare_appeals_have_their_own_window() -> None:
    medicare = PayerFacts("payer-0001", "medicare")
    decision = triage(
        only(denied("CO", "50")), ctx(payer=medicare), PLAYBOOK, adjudicated_on=date(2025, 4, 1)
    )
    assert decision.appeal_deadline == date(2025, 7, 30)  # 120 days


def test_co16_with_n290_routes_to_credentialing() -> None:
    decision = triage(only(denied("CO", "16", rarcs=["N290"])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.CREDENTIALING, Action.FIX_CREDENTIALING)
    assert decision.evidence["rarcs"] == "N290"


def test_a_void_and_rebill_payer_gets_a_void_then_a_new_original() -> None:
    decision = triage(
        only(denied("CO", "4")),
        ctx(payer=payer(corrected_claim_method=CorrectedClaimMethod.VOID_AND_REBILL)),
        PLAYBOOK,
    )
    assert decision.action is Action.VOID
    assert decision.correction_method is CorrectionMethod.NEW_ORIGINAL


def test_a_paper_only_payer_puts_the_correction_in_the_queue() -> None:
    decision = triage(
        only(denied("CO", "4")), ctx(payer=payer(corrected_claim_method=CorrectedClaimMethod.PAPER)), PLAYBOOK
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.changes  # the person sees the fix to make


def test_co5_with_a_payer_that_wants_the_in_person_pos_sets_11() -> None:
    rules = {"telehealth": TelehealthRules(video_modifiers=["95"], use_in_person_pos=True)}
    decision = triage(only(denied("CO", "5")), ctx(payer=payer(**rules)), PLAYBOOK)
    assert [(c.action, c.value) for c in decision.changes] == [(ClaimChangeAction.SET_PLACE_OF_SERVICE, "11")]


def test_co27_asks_eligibility_to_recheck_once() -> None:
    first = triage(only(denied("CO", "27", claim_level=True)), ctx(), PLAYBOOK)
    assert first.action is Action.REVERIFY_ELIGIBILITY
    again = triage(
        only(denied("CO", "27", claim_level=True)),
        ctx(fixes_tried=frozenset({first.fix_kind or ""})),
        PLAYBOOK,
    )
    assert again.action is Action.HUMAN_REVIEW


def test_a_front_end_rejection_with_a_fix_is_resubmitted_as_a_new_original() -> None:
    ack = claim_acknowledged(1, status="rejected", reasons=[{"code": "A7:21"}])
    found = denials_in_rejection(ack, PLAYBOOK, "payer-0001", Decimal("170.00"))
    assert len(found) == 1 and found[0].rejection_codes == ("A7:21",)
    decision = triage(found[0], ctx(), PLAYBOOK, from_rejection=True)
    assert decision.category is Category.FRONT_END_REJECTION
    assert decision.action is Action.HUMAN_REVIEW


def test_normal_adjudication_opens_no_denial_but_cost_sharing_is_found() -> None:
    remit = remit_received(1)  # CO-45 and PR-3 on a paid line
    assert denials_in_remit(remit, PLAYBOOK) == []
    sharing = patient_cost_sharing(remit, PLAYBOOK)
    assert sharing is not None and sharing.amount == Decimal("25.00")


def test_the_largest_denied_reason_decides_the_line() -> None:
    remit = denied("CO", "197")
    line = remit.lines[0].model_copy(
        update={
            "adjustments": [
                *remit.lines[0].adjustments,
                remit.lines[0].adjustments[0].model_copy(update={"carc": "16", "amount": Decimal("10.00")}),
            ]
        }
    )
    found = denials_in_remit(remit.model_copy(update={"lines": [line]}), PLAYBOOK)
    assert found[0].label == "CO-197"
    assert found[0].amount == Decimal("180.00")
