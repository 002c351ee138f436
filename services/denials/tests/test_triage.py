"""Triage makes the playbook row concrete for a claim: fixes, proof, payer methods, deadlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm.denials.domain.deadlines import filing_deadline
from rcm.denials.domain.denial import denials_in_rejection, denials_in_remit, patient_cost_sharing
from rcm.denials.domain.facts import (
    Acceptance,
    AuthorizationOnFile,
    ClaimFacts,
    ClaimLineFacts,
    CoverageOnFile,
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
    CoveragePriority,
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
LATE = date(2025, 7, 8)
"""A remit date past the 90-day filing window of a service on DOS (it ends 2025-06-01)."""


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
def test_a_duplicate_is_never_resubmitted_nor_closed_unseen(group: str) -> None:
    # the claims service never sends a claim twice on purpose: a payer's duplicate is the same
    # claim received twice (its original to check) or distinct same-day services taken as one
    decision = triage(only(denied(group, "18")), ctx(), PLAYBOOK)
    assert decision.category is Category.DUPLICATE
    assert decision.action is Action.HUMAN_REVIEW
    assert "276" in decision.next_step
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
    decision = triage(only(denied("CO", "29", claim_level=True)), ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert decision.action is Action.WRITE_OFF
    assert decision.write_off_reason == "CO-29 without proof of timely filing"


def test_co29_on_a_submission_the_payer_acknowledged_in_time_goes_to_a_person_not_written_off() -> None:
    # the payer judged this very submission late, yet its own 277CA says it had it in time: a
    # payer error or a wrong window on file, and the money is not written off unseen
    own = Acceptance("clm-0001", date(2025, 3, 10))
    decision = triage(
        only(denied("CO", "29", claim_level=True)),
        ctx(acceptances=(own,)),
        PLAYBOOK,
        adjudicated_on=date(2025, 7, 8),
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert "acknowledged this submission within the filing window" in decision.why
    assert decision.evidence["acknowledged"] == "clm-0001 accepted 2025-03-10"
    assert "proof" not in decision.evidence
    assert decision.deadline is not None and decision.deadline > date(2025, 7, 8)


@pytest.mark.parametrize(
    ("group", "payer_", "adjudicated_on", "window_end"),
    [
        ("CO", payer(), date(2025, 4, 1), "2025-06-01"),  # 90 days; paid 29 days after the service
        ("PI", payer(), date(2025, 5, 30), "2025-06-01"),  # a Medicaid plan's CO-29 reads the same
        (
            "CO",
            PayerFacts("payer-0001", "medicare", PayerBillingRules(timely_filing_months=12)),
            date(2025, 5, 1),
            "2026-03-03",
        ),
    ],
)
def test_co29_adjudicated_inside_the_filing_window_goes_to_a_person_not_written_off(
    group: str, payer_: PayerFacts, adjudicated_on: date, window_end: str
) -> None:
    # no acknowledgment on file, but the payer adjudicated the claim before its own window closed:
    # it had the claim in time; a payer error (or a wrong window on file), never a write-off unseen
    decision = triage(
        only(denied(group, "29", claim_level=True)),
        ctx(payer=payer_),
        PLAYBOOK,
        adjudicated_on=adjudicated_on,
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert "within its filing window" in decision.why and "it had the claim in time" in decision.why
    assert decision.evidence["adjudicated"] == f"{adjudicated_on.isoformat()} (filing window to {window_end})"
    assert decision.deadline is not None


def test_co29_with_n211_adjudicated_inside_the_filing_window_is_for_a_reopening() -> None:
    decision = triage(
        only(denied("CO", "29", rarcs=["N211"])), ctx(), PLAYBOOK, adjudicated_on=date(2025, 4, 1)
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert "no appeal rights" in decision.why and "reopen" in decision.why


@pytest.mark.parametrize("rarcs", [[], ["N211"]])
def test_co29_on_a_claim_not_on_file_is_not_written_off(rarcs: list[str]) -> None:
    # no claim: no submission, acknowledgment or date of service to check the payer's CO-29 against
    decision = triage(
        only(denied("CO", "29", rarcs=rarcs, claim_level=True)),
        ctx(claim=None),
        PLAYBOOK,
        adjudicated_on=LATE,
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert "not on file" in decision.why


def test_co29_on_a_submission_acknowledged_only_after_the_window_is_written_off() -> None:
    late = Acceptance("clm-0001", date(2026, 3, 10))
    decision = triage(
        only(denied("CO", "29", claim_level=True)),
        ctx(acceptances=(late,)),
        PLAYBOOK,
        adjudicated_on=date(2026, 3, 20),
    )
    assert decision.action is Action.WRITE_OFF
    assert decision.write_off_reason == "CO-29 without proof of timely filing"
    assert "no proof" in decision.why


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
        only(denied("CO", "29")),
        ctx(claim=replacement_of_clm_0001(), acceptances=accepted),
        PLAYBOOK,
        adjudicated_on=LATE,
    )
    assert decision.action is Action.WRITE_OFF


def test_co29_with_n211_is_written_off_even_with_proof() -> None:
    decision = triage(
        only(denied("CO", "29", rarcs=["N211"])),
        ctx(claim=replacement_of_clm_0001(), acceptances=(Acceptance("clm-0001", date(2025, 3, 10)),)),
        PLAYBOOK,
        adjudicated_on=LATE,
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


# ---------------------------------------------------------------- real combinations, read as an analyst would


def remit(status: str, lines: list[dict[str, object]], **kw: object) -> RemitReceived:
    """A remit of claim clm-0001 with these lines (each 170.00 charged unless given)."""
    full = [
        {
            "line_key": LINE_KEY,
            "procedure_code": "90837",
            "modifiers": [],
            "service_date": DOS,
            "charge": "170.00",
            "paid": "0.00",
            **ln,
        }
        for ln in lines
    ]
    values: dict[str, object] = {
        "status": status,
        "paid": "0.00",
        "patient_responsibility": "0.00",
        "lines": full,
    }
    values.update(kw)
    return remit_received(1, **values)


def cas(group: str, carc: str, amount: str = "170.00") -> dict[str, str]:
    return {"group": group, "carc": carc, "amount": amount}


def test_co16_with_n290_asks_for_the_rendering_providers_npi() -> None:
    found = only(denied("CO", "16", rarcs=["N290"]))
    decision = triage(found, ctx(), PLAYBOOK)
    assert decision.action is Action.FIX_CREDENTIALING
    assert "Rendering provider" in decision.next_step and "NPI" in decision.next_step
    assert decision.queued


@pytest.mark.parametrize(
    ("rarc", "category", "action"),
    [
        ("M76", Category.CODING, Action.HUMAN_REVIEW),  # diagnosis / pointer
        ("N382", Category.ELIGIBILITY, Action.REVERIFY_ELIGIBILITY),  # patient identifier
        ("MA27", Category.ELIGIBILITY, Action.REVERIFY_ELIGIBILITY),  # entitlement number or name
        ("N257", Category.CREDENTIALING, Action.FIX_CREDENTIALING),  # billing provider identifier
        ("M53", Category.CODING, Action.HUMAN_REVIEW),  # days or units
        ("N286", Category.MISSING_INFORMATION, Action.HUMAN_REVIEW),  # referring provider
    ],
)
def test_co16_is_routed_by_the_rarc_that_names_the_field(
    rarc: str, category: Category, action: Action
) -> None:
    decision = triage(only(denied("CO", "16", rarcs=[rarc])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (category, action)
    assert decision.evidence["rarcs"] == rarc


def test_co16_with_a_claim_level_ma130_and_m62_goes_out_as_a_new_original_with_ref_g1() -> None:
    # MA130: unprocessable, never adjudicated: a replacement (frequency 7) would have nothing to replace
    auth = AuthorizationOnFile("auth-0001", "SYNAUTH000002", "payer-0001", date(2025, 1, 1), None)
    remit_ = remit("4", [{"adjustments": [cas("CO", "16")], "rarcs": ["M62"]}], rarcs=["MA130"])
    decision = triage(only(remit_), ctx(authorizations=(auth,)), PLAYBOOK)
    assert decision.category is Category.AUTHORIZATION
    assert decision.action is Action.RESUBMIT_ORIGINAL
    assert decision.correction_method is CorrectionMethod.NEW_ORIGINAL
    assert [(c.action, c.value) for c in decision.changes] == [
        (ClaimChangeAction.SET_AUTHORIZATION_NUMBER, "SYNAUTH000002")
    ]
    assert "MA130" in decision.why


def test_a_medical_necessity_denial_with_ma130_is_not_appealed() -> None:
    decision = triage(only(denied("CO", "50", rarcs=["MA130"])), ctx(), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.appeal_deadline is None
    assert "no appeal rights" in decision.why


def test_co16_with_ma04_on_a_secondary_claim_rebuilds_the_cob_loops() -> None:
    secondary = replace(claim(), payer_responsibility=CoveragePriority.SECONDARY)
    decision = triage(only(denied("CO", "16", rarcs=["MA04"])), ctx(claim=secondary), PLAYBOOK)
    assert decision.action is Action.RESUBMIT_REPLACEMENT
    assert [c.action for c in decision.changes] == [ClaimChangeAction.REBUILD_COB]


def test_a_medicaid_mco_pi_16_with_n290_is_read_as_co_16() -> None:
    decision = triage(only(denied("PI", "16", rarcs=["N290"])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.CREDENTIALING, Action.FIX_CREDENTIALING)
    assert decision.evidence["codes"] == "PI-16"


def test_pi_4_on_a_telehealth_line_adds_95_like_co_4() -> None:
    decision = triage(only(denied("PI", "4")), ctx(), PLAYBOOK)
    assert [(c.action, c.value) for c in decision.changes] == [(ClaimChangeAction.ADD_MODIFIER, "95")]


def test_pr_27_looks_for_other_coverage_before_the_patient_is_billed() -> None:
    decision = triage(only(denied("PR", "27", claim_level=True)), ctx(), PLAYBOOK)
    assert decision.action is Action.REVERIFY_ELIGIBILITY


def test_co15_with_an_authorization_on_file_adds_ref_g1() -> None:
    auth = AuthorizationOnFile("auth-0001", "SYNAUTH000003", "payer-0001", date(2025, 1, 1), None, ("90837",))
    decision = triage(only(denied("CO", "15")), ctx(authorizations=(auth,)), PLAYBOOK)
    assert decision.action is Action.RESUBMIT_REPLACEMENT
    assert decision.changes[0].value == "SYNAUTH000003"


def test_a_retired_carc_is_read_by_its_successor_but_queued_for_a_person() -> None:
    auth = AuthorizationOnFile("auth-0001", "SYNAUTH000004", "payer-0001", date(2025, 1, 1), None)
    decision = triage(only(denied("CO", "62")), ctx(authorizations=(auth,)), PLAYBOOK)
    assert decision.category is Category.AUTHORIZATION
    assert decision.action is Action.HUMAN_REVIEW  # not the automatic REF*G1 replacement
    assert decision.changes == ()
    assert "deactivated" in decision.next_step
    assert decision.evidence["codes"] == "CO-62"


def test_an_unknown_carc_is_queued_with_the_raw_codes() -> None:
    remit_ = remit("4", [{"adjustments": [cas("CO", "Q99")], "rarcs": ["N9999"]}])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.OTHER, Action.HUMAN_REVIEW)
    assert decision.queued
    assert decision.evidence == {"codes": "CO-Q99", "rarcs": "N9999"}


def test_an_unknown_carc_beside_a_known_one_stays_in_the_evidence() -> None:
    remit_ = remit("4", [{"adjustments": [cas("CO", "197", "150.00"), cas("CO", "Q99", "20.00")]}])
    found = only(remit_)
    assert found.label == "CO-197"
    decision = triage(found, ctx(), PLAYBOOK)
    assert decision.evidence["codes"] == "CO-197, CO-Q99"


def test_a_denied_claim_with_no_adjustment_that_explains_it_is_queued() -> None:
    # CLP02 4 with nothing but a contractual adjustment: never dropped, a person reads it
    remit_ = remit("4", [{"adjustments": [cas("CO", "45")]}])
    found = only(remit_)
    assert found.label == "CLP02 4" and found.deciding is None
    decision = triage(found, ctx(), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.evidence["codes"] == "CO-45"
    assert decision.evidence["claim_status"] == "4"


def test_a_denied_claim_with_no_adjustments_at_all_is_queued_for_its_charge() -> None:
    remit_ = remit("4", [], claim_adjustments=[])
    found = only(remit_)
    assert found.amount == Decimal("170.00")
    assert triage(found, ctx(), PLAYBOOK).action is Action.HUMAN_REVIEW


def test_a_claim_not_ours_forwarded_clp02_23_asks_for_a_cob_check() -> None:
    found = only(remit("23", [], claim_adjustments=[]))
    decision = triage(found, ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (
        Category.COORDINATION_OF_BENEFITS,
        Action.REVERIFY_ELIGIBILITY,
    )


@pytest.mark.parametrize("sign", ["-", ""])
def test_a_reversal_opens_nothing_and_shares_nothing(sign: str) -> None:
    # CLP02 22 negates an earlier payment (and its CAS); the corrected payment that follows counts
    reversal = remit(
        "22",
        [
            {
                "paid": "-110.00",
                "adjustments": [cas("CO", "45", f"{sign}35.00"), cas("PR", "3", f"{sign}25.00")],
            }
        ],
        paid="-110.00",
        patient_responsibility="-25.00",
        claim_adjustments=[cas("CO", "197", f"{sign}170.00")],
    )
    assert denials_in_remit(reversal, PLAYBOOK) == []
    assert patient_cost_sharing(reversal, PLAYBOOK) is None


def test_a_predetermination_is_not_a_denial() -> None:
    assert denials_in_remit(remit("25", [{"adjustments": [cas("CO", "50")]}]), PLAYBOOK) == []


def test_a_zero_paid_line_all_deductible_is_not_a_denial() -> None:
    remit_ = remit(
        "1",
        [{"adjustments": [cas("CO", "45", "40.00"), cas("PR", "1", "130.00")]}],
        patient_responsibility="130.00",
    )
    assert denials_in_remit(remit_, PLAYBOOK) == []
    sharing = patient_cost_sharing(remit_, PLAYBOOK)
    assert sharing is not None and sharing.amount == Decimal("130.00")


def test_a_zero_paid_line_of_a_paid_claim_is_a_line_denial() -> None:
    # 90785 bundled into the paid 90837: CLP02 1, yet the add-on line is denied on its own
    remit_ = remit(
        "1",
        [
            {"paid": "135.00", "adjustments": [cas("CO", "45", "35.00")]},
            {
                "line_key": "ses-0001:2",
                "procedure_code": "90785",
                "charge": "25.00",
                "adjustments": [cas("CO", "97", "25.00")],
                "rarcs": ["M15"],
            },
        ],
        paid="135.00",
    )
    found = only(remit_)
    assert (found.level.value, found.line_key, found.label) == ("line", "ses-0001:2", "CO-97")
    assert triage(found, ctx(), PLAYBOOK).category is Category.BUNDLING


def test_oa23_on_a_secondary_remit_is_not_a_denial() -> None:
    remit_ = remit("2", [{"paid": "20.00", "adjustments": [cas("OA", "23", "150.00")]}], paid="20.00")
    assert denials_in_remit(remit_, PLAYBOOK) == []


def test_the_bh_carve_out_remark_routes_a_non_covered_denial_to_the_carve_out() -> None:
    decision = triage(only(denied("CO", "96", rarcs=["N216"])), ctx(), PLAYBOOK)
    assert decision.category is Category.COORDINATION_OF_BENEFITS
    assert "carve-out" in decision.next_step


def test_a_non_covered_service_put_on_the_patient_goes_to_the_secondary_payer_first() -> None:
    # PR-204 from the primary; Medicaid is secondary: its member may not be balance-billed
    medicaid = CoverageOnFile("cov-0001-b", "payer-0002", CoveragePriority.SECONDARY, date(2025, 1, 1))
    remit_ = denied("PR", "204")
    decision = triage(only(remit_), ctx(coverages=(medicaid,)), PLAYBOOK)
    assert decision.action is Action.BILL_SECONDARY
    assert not decision.queued
    sharing = patient_cost_sharing(remit_, PLAYBOOK)
    assert sharing is not None and sharing.amount == Decimal("170.00")


def test_a_non_covered_service_put_on_the_patient_with_no_other_coverage_is_the_patients() -> None:
    ended = CoverageOnFile(
        "cov-0001-b", "payer-0002", CoveragePriority.SECONDARY, date(2024, 1, 1), date(2024, 12, 31)
    )
    decision = triage(only(denied("PR", "204")), ctx(coverages=(ended,)), PLAYBOOK)
    assert decision.action is Action.TRANSFER_TO_PATIENT


def test_a_duplicate_denial_of_a_correction_is_for_a_person_not_posted() -> None:
    # the replacement was denied OA-18: the payer did not take it as a replacement of clm-0001
    decision = triage(only(denied("OA", "18")), ctx(claim=replacement_of_clm_0001()), PLAYBOOK)
    assert decision.category is Category.DUPLICATE
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.changes == ()
    assert "REF*F8" in decision.why


def test_a_co29_filing_deadline_in_calendar_months_counts_the_leap_day() -> None:
    rules = PayerBillingRules(timely_filing_days=365, timely_filing_months=12)
    assert filing_deadline(rules, service_date=date(2023, 3, 15)) == date(2024, 3, 15)
    assert filing_deadline(PayerBillingRules(), service_date=date(2023, 3, 15)) == date(2024, 3, 14)
    # a corrected claim's own window, in days, is kept
    corrected = PayerBillingRules(timely_filing_months=12, corrected_claim_filing_days=90)
    assert filing_deadline(corrected, service_date=date(2023, 3, 15), corrected=True) == date(2023, 6, 13)
