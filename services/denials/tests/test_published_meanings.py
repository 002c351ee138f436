"""Denials read as the published CARC/RARC meanings ask a billing team to act on them.

Each test names the code's published meaning (X12 CARC/RARC lists) and the action it calls for:
a benefit maximum is the next payer's before anyone else's; a claim the payer transferred is not
billed again; a remark code decides what A1 (like 16) means; a missing authorization (M62) is a
corrected claim with REF*G1 whatever CARC carries it; negotiated discounts and withholds are
contractual, not denials.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from triage_world import DOS, LATE, LINE_KEY, PLAYBOOK, cas, claim, ctx, only, remit

from rcm.denials.domain.denial import denials_in_remit, patient_cost_sharing
from rcm.denials.domain.facts import (
    Acceptance,
    AuthorizationOnFile,
    ClaimLineFacts,
    CoverageOnFile,
    PayerFacts,
)
from rcm.denials.domain.playbook import Action, Category
from rcm.denials.domain.triage import triage
from rcm.events.models import (
    ClaimChangeAction,
    CoveragePriority,
    PayerBillingRules,
    RecheckReason,
    TelehealthRules,
)

pytestmark = pytest.mark.unit

SECONDARY = CoverageOnFile("cov-0002", "payer-0002", CoveragePriority.SECONDARY, date(2025, 1, 1))
AUTH = AuthorizationOnFile("auth-0001", "SYNAUTH000001", "payer-0001", date(2025, 1, 1), date(2025, 6, 30))


# ---------------------------------------------------------------- benefit maximum (119, 35, 149)


@pytest.mark.parametrize("carc", ["119", "35", "149"])
def test_a_benefit_maximum_reached_with_this_payer_is_billed_to_the_next_payer(carc: str) -> None:
    # 119 "benefit maximum for this time period or occurrence has been reached" (35, 149: lifetime):
    # the visits this plan no longer pays are the secondary's to consider
    remit_ = remit("4", [cas("CO", carc, "170.00")])
    decision = triage(only(remit_), ctx(coverages=(SECONDARY,)), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.BENEFIT_LIMIT, Action.BILL_SECONDARY)
    sharing = patient_cost_sharing(remit_, PLAYBOOK)
    assert sharing is not None and sharing.amount == Decimal("170.00")


def test_a_benefit_maximum_with_no_next_payer_goes_to_a_person_not_to_the_patient() -> None:
    # under CO the patient is billed only under a signed waiver; an exception (parity) may be asked
    decision = triage(only(remit("4", [cas("CO", "119", "170.00")])), ctx(), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None


# ---------------------------------------------------------------- B11: transferred by the payer


@pytest.mark.parametrize("group", ["CO", "OA", "PR"])
def test_a_claim_the_payer_transferred_to_the_proper_payer_is_not_billed_there_again(group: str) -> None:
    # B11 "the claim/service has been transferred to the proper payer/processor for processing":
    # the receiving payer already has it; a re-check that names it would bill it a second time
    decision = triage(only(remit("4", [cas(group, "B11", "170.00")])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.COORDINATION_OF_BENEFITS, Action.HUMAN_REVIEW)
    assert decision.recheck_reason is None
    assert "do not bill" in decision.next_step


# ---------------------------------------------------------------- MA04 / 129 on a primary claim


@pytest.mark.parametrize(
    ("adjustments", "rarcs"), [([cas("CO", "16", "170.00")], ["MA04"]), ([cas("CO", "129", "170.00")], [])]
)
def test_prior_payer_information_asked_of_a_claim_billed_as_primary_is_a_cob_check(
    adjustments: list[dict[str, str]], rarcs: list[str]
) -> None:
    # MA04 "secondary payment cannot be considered without the identity of or payment information
    # from the primary payer": on a claim billed as primary there is no prior remit to rebuild
    # the 2320/2430 loops from; the payer sees another payer first
    decision = triage(only(remit("4", adjustments, line_rarcs=rarcs)), ctx(), PLAYBOOK)
    assert decision.action is Action.REVERIFY_ELIGIBILITY
    assert decision.recheck_reason is RecheckReason.COB_DENIAL
    assert decision.changes == ()


def test_prior_payer_information_on_a_secondary_claim_still_rebuilds_the_cob_loops() -> None:
    secondary = claim(priority=CoveragePriority.SECONDARY)
    decision = triage(
        only(remit("4", [cas("CO", "16", "170.00")], line_rarcs=["MA04"])), ctx(claim=secondary), PLAYBOOK
    )
    assert decision.action is Action.RESUBMIT_REPLACEMENT
    assert [c.action for c in decision.changes] == [ClaimChangeAction.REBUILD_COB]


# ---------------------------------------------------------------- the RARC decides (A1, 96 + M62)


def test_co96_with_m62_and_an_authorization_on_file_is_a_corrected_claim_with_ref_g1() -> None:
    # M62 "missing/incomplete/invalid treatment authorization code": the non-covered charge is
    # the missing authorization, not a benefit exclusion
    remit_ = remit("4", [cas("CO", "96", "170.00")], line_rarcs=["M62"])
    decision = triage(only(remit_), ctx(authorizations=(AUTH,)), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.AUTHORIZATION, Action.RESUBMIT_REPLACEMENT)
    assert [(c.action, c.value) for c in decision.changes] == [
        (ClaimChangeAction.SET_AUTHORIZATION_NUMBER, "SYNAUTH000001")
    ]


def test_co96_with_m62_and_no_authorization_on_file_needs_one() -> None:
    decision = triage(only(remit("4", [cas("CO", "96", "170.00")], line_rarcs=["M62"])), ctx(), PLAYBOOK)
    assert decision.action is Action.FIX_AUTH


@pytest.mark.parametrize(
    ("rarc", "category", "action"),
    [
        ("N290", Category.CREDENTIALING, Action.FIX_CREDENTIALING),
        ("MA27", Category.ELIGIBILITY, Action.REVERIFY_ELIGIBILITY),
        ("M51", Category.CODING, Action.HUMAN_REVIEW),
        ("M62", Category.AUTHORIZATION, Action.RESUBMIT_REPLACEMENT),
    ],
)
def test_a1_is_read_by_its_remark_code_as_16_is(rarc: str, category: Category, action: Action) -> None:
    # A1 "claim/service denied; at least one remark code must be provided": the RARC is the reason
    remit_ = remit("4", [cas("CO", "A1", "170.00")], line_rarcs=[rarc])
    decision = triage(only(remit_), ctx(authorizations=(AUTH,)), PLAYBOOK)
    assert (decision.category, decision.action) == (category, action)


def test_co4_with_an_invalid_modifier_combination_adds_no_modifier() -> None:
    # N519 "invalid combination of HCPCS modifiers": adding the telehealth modifier keeps the
    # conflicting one; a person removes or replaces it
    line = ClaimLineFacts(LINE_KEY, "90837", ("GT",), "02", DOS, 1, Decimal("170.00"))
    telehealth = replace(claim(), lines=(line,))
    payer = PayerFacts(
        "payer-0001",
        "commercial",
        PayerBillingRules(timely_filing_days=90, telehealth=TelehealthRules(video_modifiers=["95"])),
    )
    remit_ = remit("4", [cas("CO", "4", "170.00")], line_rarcs=["N519"])
    decision = triage(only(remit_), ctx(claim=telehealth, payer=payer), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.changes == ()
    without_remark = triage(
        only(remit("4", [cas("CO", "4", "170.00")])), ctx(claim=telehealth, payer=payer), PLAYBOOK
    )
    # the plain CO-4 replaces GT with the 95 the payer takes (GT beside 95 would come back N519)
    assert without_remark.action is Action.RESUBMIT_REPLACEMENT
    assert [(c.action, c.value) for c in without_remark.changes] == [
        (ClaimChangeAction.REMOVE_MODIFIER, "GT"),
        (ClaimChangeAction.ADD_MODIFIER, "95"),
    ]


# ---------------------------------------------------------------- contractual reductions


@pytest.mark.parametrize("carc", ["131", "104", "A2"])
def test_negotiated_discounts_and_withholds_are_contractual_not_denials(carc: str) -> None:
    # 131 "claim specific negotiated discount" (single-case agreements), 104 "managed care
    # withholding", A2 "contractual adjustment" (retired, now 45): the line was paid as agreed
    remit_ = remit("1", [cas("CO", carc, "50.00")], paid="120.00")
    assert denials_in_remit(remit_, PLAYBOOK) == []


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("CO-12", Category.CODING),  # diagnosis inconsistent with the provider type
        ("CO-59", Category.BUNDLING),  # multiple or concurrent procedure rules
        ("CO-256", Category.NON_COVERED),  # not payable per managed care contract
        ("CO-275", Category.COORDINATION_OF_BENEFITS),  # prior payer's patient responsibility not covered
    ],
)
def test_codes_read_by_their_family_for_a_person(code: str, category: Category) -> None:
    group, _, carc = code.partition("-")
    rule = PLAYBOOK.rule_for(group, carc, ())
    assert rule is not None
    assert (rule.category, rule.action) == (category, Action.HUMAN_REVIEW)


# ---------------------------------------------------------------- no appeal rights, payer's error


def test_co29_with_n211_on_a_submission_the_payer_acknowledged_in_time_is_not_written_off_unseen() -> None:
    # N211 "you may not appeal this decision": no appeal, but the payer's own 277CA says it had
    # this very claim within its one calendar year (Medicare): its error, for a reopening
    medicare = PayerFacts("payer-0001", "medicare", PayerBillingRules(timely_filing_months=12))
    remit_ = remit("4", [cas("CO", "29", "170.00")], rarcs=["N211"])
    acknowledged = (Acceptance("clm-0001", date(2025, 3, 20)),)
    decision = triage(only(remit_), ctx(payer=medicare, acceptances=acknowledged), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None
    assert decision.evidence["acknowledged"] == "clm-0001 accepted 2025-03-20"


def test_co29_with_n211_and_no_acknowledgment_in_time_is_written_off() -> None:
    medicare = PayerFacts("payer-0001", "medicare", PayerBillingRules(timely_filing_months=12))
    late = (Acceptance("clm-0001", date(2026, 3, 20)),)
    remit_ = remit("4", [cas("CO", "29", "170.00")], rarcs=["N211"])
    decision = triage(
        only(remit_), ctx(payer=medicare, acceptances=late), PLAYBOOK, adjudicated_on=date(2026, 4, 1)
    )
    assert decision.action is Action.WRITE_OFF


# ---------------------------------------------------------------- referral from the network


def test_services_not_authorized_by_the_network_or_primary_care_provider_need_the_referral() -> None:
    # 243 "services not authorized by network/primary care providers" is the referral (as 288),
    # not the provider's network status (242)
    decision = triage(only(remit("4", [cas("CO", "243", "170.00")])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.AUTHORIZATION, Action.FIX_AUTH)
    network = triage(only(remit("4", [cas("CO", "242", "170.00")])), ctx(), PLAYBOOK)
    assert network.category is Category.CREDENTIALING


# ---------------------------------------------------------------- PR codes that are not the patient's bill


@pytest.mark.parametrize(("carc", "action"), [("18", Action.HUMAN_REVIEW), ("B13", Action.HUMAN_REVIEW)])
def test_a_duplicate_is_never_billed_to_the_patient_or_the_next_payer_whatever_its_group(
    carc: str, action: Action
) -> None:
    # 18 "exact duplicate claim/service", B13 "previously paid": under PR (a payer's grouping
    # slip) it is still the same service adjudicated before, nobody's new bill
    remit_ = remit("4", [cas("PR", carc, "170.00")])
    decision = triage(only(remit_), ctx(coverages=(SECONDARY,)), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.DUPLICATE, action)
    assert patient_cost_sharing(remit_, PLAYBOOK) is None


def test_information_the_patient_did_not_send_is_asked_of_them_before_anyone_is_billed() -> None:
    # 227 "information requested from the patient/insured/responsible party was not provided":
    # the payer has not adjudicated; the next payer would deny it for want of this one's decision
    remit_ = remit("4", [cas("PR", "227", "170.00")])
    decision = triage(only(remit_), ctx(coverages=(SECONDARY,)), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.MISSING_INFORMATION, Action.HUMAN_REVIEW)
    assert patient_cost_sharing(remit_, PLAYBOOK) is None


# ---------------------------------------------------------------- authorization exceeded


def test_an_exceeded_authorization_is_never_resent_as_the_claims_authorization_number() -> None:
    # 198 "precertification/authorization exceeded": the payer matched the claim to an authorization
    # and counted it used up, REF*G1 or not. The one on file that covers the date may be that very
    # authorization: a replacement naming it would be denied again. A person asks for an extension
    # or a retro-auth
    remit_ = remit("4", [cas("CO", "198", "170.00")])
    decision = triage(only(remit_), ctx(claim=claim(), authorizations=(AUTH,)), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.AUTHORIZATION, Action.FIX_AUTH)
    assert decision.changes == () and decision.fix_kind is None and decision.correction_method is None
    assert "extension" in decision.next_step and "never the exceeded one" in decision.next_step


def test_an_exceeded_authorization_with_another_on_file_is_still_a_persons_to_confirm() -> None:
    # an authorization of another number covering the date is not known to be the extension (it
    # may be the same visits under an older number): a person confirms it before it is sent
    exhausted = replace(claim(), authorization_number="SYNAUTH000001")
    other = AuthorizationOnFile(
        "auth-0002", "SYNAUTH000002", "payer-0001", date(2025, 3, 1), date(2025, 8, 31)
    )
    remit_ = remit("4", [cas("CO", "198", "170.00")])
    decision = triage(only(remit_), ctx(claim=exhausted, authorizations=(AUTH, other)), PLAYBOOK)
    assert decision.action is Action.FIX_AUTH
    assert decision.changes == ()


def test_an_exceeded_authorization_with_no_extension_on_file_needs_one() -> None:
    exhausted = replace(claim(), authorization_number="SYNAUTH000001")
    remit_ = remit("4", [cas("CO", "198", "170.00")])
    decision = triage(only(remit_), ctx(claim=exhausted, authorizations=(AUTH,)), PLAYBOOK)
    assert decision.action is Action.FIX_AUTH


# ---------------------------------------------------------------- CO-16 remarks: authorization, records


def test_co16_with_n54_is_an_authorization_to_amend_not_a_field_to_correct() -> None:
    # N54 "claim information is inconsistent with pre-certified/authorized services"
    decision = triage(only(remit("4", [cas("CO", "16", "170.00")], line_rarcs=["N54"])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.AUTHORIZATION, Action.FIX_AUTH)


@pytest.mark.parametrize("rarc", ["N706", "M127", "N29"])
def test_co16_asking_for_records_sends_records_not_a_corrected_claim(rarc: str) -> None:
    # N706 "missing documentation", M127 "missing patient medical record for this service",
    # N29 "missing documentation/orders/notes/summary/report/chart"
    decision = triage(only(remit("4", [cas("CO", "16", "170.00")], line_rarcs=[rarc])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.MISSING_INFORMATION, Action.HUMAN_REVIEW)
    assert "275" in decision.next_step and "not a corrected claim" in decision.next_step


# ---------------------------------------------------------------- what the patient may be billed


@pytest.mark.parametrize("carc", ["96", "204", "119"])
def test_a_denial_a_commercial_payer_puts_on_the_patient_is_theirs_with_no_next_payer(carc: str) -> None:
    decision = triage(only(remit("4", [cas("PR", carc, "170.00")])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (
        Category.PATIENT_RESPONSIBILITY,
        Action.TRANSFER_TO_PATIENT,
    )


@pytest.mark.parametrize("payer_type", ["medicaid", "medicaid_mco"])
def test_a_medicaid_member_is_not_balance_billed_for_what_the_plan_denied(payer_type: str) -> None:
    # 42 CFR 447.15: the provider accepts Medicaid's payment as payment in full; a non-covered
    # service is the member's only under a signed agreement the state allows
    medicaid = PayerFacts("payer-0001", payer_type, PayerBillingRules(timely_filing_days=90))
    decision = triage(only(remit("4", [cas("PR", "96", "170.00")])), ctx(payer=medicaid), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert "balance-billed" in decision.why
    # a next payer on file is still billed first (Medicaid is the payer of last resort anyway)
    billed = triage(
        only(remit("4", [cas("PR", "96", "170.00")])), ctx(payer=medicaid, coverages=(SECONDARY,)), PLAYBOOK
    )
    assert billed.action is Action.BILL_SECONDARY


@pytest.mark.parametrize(("carc", "rarcs"), [("16", ["N290"]), ("16", []), ("4", []), ("185", [])])
def test_a_billing_or_provider_error_grouped_pr_is_not_billed_to_the_patient(
    carc: str, rarcs: list[str]
) -> None:
    # 16 "lacks information or has submission/billing error(s)", 4 "inconsistent with the modifier",
    # 185 "rendering provider not eligible": the provider's to fix, whatever group the payer used
    remit_ = remit("4", [cas("PR", carc, "170.00")], line_rarcs=rarcs)
    decision = triage(only(remit_), ctx(coverages=(SECONDARY,)), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.PATIENT_RESPONSIBILITY, Action.HUMAN_REVIEW)
    assert "not theirs" in decision.next_step


# ---------------------------------------------------------------- units over the maximum (N362)


@pytest.mark.parametrize("carc", ["151", "96"])
def test_units_over_the_daily_maximum_are_a_units_check_not_a_clinical_appeal(carc: str) -> None:
    # N362 "the number of days or units of service exceeds our acceptable maximum" (the MUE)
    decision = triage(only(remit("4", [cas("CO", carc, "170.00")], line_rarcs=["N362"])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.CODING, Action.HUMAN_REVIEW)
    assert "units" in decision.next_step and "never billable to the patient" in decision.next_step
    clinical = triage(only(remit("4", [cas("CO", "151", "170.00")])), ctx(), PLAYBOOK)
    assert (clinical.category, clinical.action) == (Category.MEDICAL_NECESSITY, Action.APPEAL)


def test_a_diagnosis_the_plan_does_not_cover_is_not_a_coding_error() -> None:
    # 167 "this (these) diagnosis(es) is (are) not covered": a benefit exclusion, never a code to change
    decision = triage(only(remit("4", [cas("CO", "167", "170.00")])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.NON_COVERED, Action.HUMAN_REVIEW)
    assert "never change it" in decision.next_step


def test_a_reporting_only_code_opens_no_denial() -> None:
    # 246 "this non-payable code is for required reporting only"
    assert denials_in_remit(remit("1", [cas("CO", "246", "170.00")]), PLAYBOOK) == []


@pytest.mark.parametrize("carc", ["8", "170", "171"])
def test_a_provider_type_the_payer_does_not_pay_goes_to_a_person_not_to_credentialing(carc: str) -> None:
    # 170 "payment is denied when performed/billed by this type of provider": an exclusion
    # (an LPC, an associate) that no enrolment fixes
    decision = triage(only(remit("4", [cas("CO", carc, "170.00")])), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (Category.CREDENTIALING, Action.HUMAN_REVIEW)


def test_an_unprocessable_claim_queued_for_a_person_says_a_new_claim_not_a_replacement() -> None:
    # MA130: "no appeal rights are afforded because the claim is unprocessable; submit a new claim"
    remit_ = remit("4", [cas("CO", "16", "170.00")], line_rarcs=["MA130"])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert "new claim (frequency 1)" in decision.why


def test_a_late_secondary_claim_is_not_written_off_unseen() -> None:
    # 29 "the time limit for filing has expired": a secondary waits for the primary's remit, which
    # most payers take as the start of its window (and as the proof), whatever window is on file
    secondary = claim(priority=CoveragePriority.SECONDARY)
    decision = triage(
        only(remit("4", [cas("CO", "29", "170.00")])), ctx(claim=secondary), PLAYBOOK, adjudicated_on=LATE
    )
    assert decision.action is Action.HUMAN_REVIEW
    assert decision.write_off_reason is None and "prior payer's remit" in decision.why
    primary = triage(only(remit("4", [cas("CO", "29", "170.00")])), ctx(), PLAYBOOK, adjudicated_on=LATE)
    assert primary.action is Action.WRITE_OFF


@pytest.mark.parametrize(
    ("carc", "category", "denial"),
    [
        ("17", Category.MISSING_INFORMATION, True),  # requested information not provided -> 226
        ("165", Category.AUTHORIZATION, True),  # referral absent or exceeded -> 288
        ("41", Category.CONTRACTUAL, False),  # PPO discount -> 45, no denial
        ("71", Category.COORDINATION_OF_BENEFITS, False),  # primary payer amount -> 23, no denial
    ],
)
def test_retired_codes_are_read_by_their_successors(carc: str, category: Category, denial: bool) -> None:
    remit_ = remit("1", [cas("CO", carc, "170.00")])
    found = denials_in_remit(remit_, PLAYBOOK)
    assert bool(found) is denial
    if found:
        [one] = found
        assert one.rule.category is category
        assert triage(one, ctx(), PLAYBOOK).action is Action.HUMAN_REVIEW


@pytest.mark.parametrize(
    ("carc", "rarcs", "category"),
    [
        ("97", ["M86"], Category.DUPLICATE),  # paid before within the time frame: not a PTP edit
        ("B14", [], Category.BUNDLING),  # one visit a day per physician
        ("B12", [], Category.MISSING_INFORMATION),  # not documented in the record
        ("147", [], Category.CONTRACTUAL),  # no contracted rate on file
        ("193", [], Category.OTHER),  # decision maintained on review
        ("276", [], Category.COORDINATION_OF_BENEFITS),  # denied by the prior payer, not covered here
        ("A1", [], Category.MISSING_INFORMATION),  # denied, the remark tells why: none came
    ],
)
def test_codes_with_a_specific_meaning_are_not_read_as_unknown(
    carc: str, rarcs: list[str], category: Category
) -> None:
    decision = triage(only(remit("4", [cas("CO", carc, "170.00")], line_rarcs=rarcs)), ctx(), PLAYBOOK)
    assert (decision.category, decision.action) == (category, Action.HUMAN_REVIEW)
    assert "Unknown reason" not in decision.next_step
    if carc == "97":
        assert "59/XE" not in decision.next_step
    if carc == "B14":
        assert "25" in decision.next_step


def test_two_remarks_calling_for_different_fixes_go_to_a_person_naming_both() -> None:
    # M62 "missing/incomplete/invalid treatment authorization code" and N290 "missing/incomplete/
    # invalid rendering provider primary identifier": an automatic REF*G1 would leave the NPI
    remit_ = remit("4", [cas("CO", "16", "170.00")], line_rarcs=["M62", "N290"])
    decision = triage(only(remit_), ctx(authorizations=(AUTH,)), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW and decision.changes == ()
    assert "also" in decision.next_step
    alone = triage(
        only(remit("4", [cas("CO", "16", "170.00")], line_rarcs=["M62"])),
        ctx(authorizations=(AUTH,)),
        PLAYBOOK,
    )
    assert alone.action is Action.RESUBMIT_REPLACEMENT


def test_a_correction_paid_before_for_a_similar_service_is_not_called_a_replacement_slip() -> None:
    # M86 (same or similar service paid in the time frame) on a corrected claim: the payer's frequency
    # rule, not a replacement it took as a new claim (that is 18 on a correction)
    corrected = replace(claim("clm-0001-r"), root_claim_id="clm-0001")
    m86 = triage(
        only(remit("4", [cas("CO", "97", "170.00")], line_rarcs=["M86"])), ctx(claim=corrected), PLAYBOOK
    )
    assert m86.category is Category.DUPLICATE and "REF*F8" not in m86.why
    dup = triage(only(remit("4", [cas("CO", "18", "170.00")])), ctx(claim=corrected), PLAYBOOK)
    assert "REF*F8" in dup.why
