"""Group/CARC/RARC combinations read as the published code lists define them.

X12 CARCs and RARCs with the group codes (CO contractual obligation, PR patient responsibility,
OA other, PI payer-initiated): which are denials to work, which are normal adjudication, what a
retired code now means, and that patient responsibility is never written off automatically.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from triage_world import PLAYBOOK, cas, ctx, only, remit

from rcm.denials.domain.denial import denials_in_remit, patient_cost_sharing
from rcm.denials.domain.facts import (
    CoverageOnFile,
)
from rcm.denials.domain.playbook import Action, Category, load_playbook
from rcm.denials.domain.triage import triage
from rcm.events.models import (
    CoveragePriority,
)

pytestmark = pytest.mark.unit

A, C = Action, Category

# code, rarcs, category, action, opens a denial
ROWS = [
    # PR-45: the charge above the allowed amount put on the patient (out of network), not a write-off
    ("PR-45", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, False),
    # sequestration is a federal payment reduction in any group, never a denial
    ("PR-253", (), C.CONTRACTUAL, A.POST_ONLY, False),
    # 100: the payer paid the patient; not cost sharing for the next payer
    ("PR-100", (), C.PATIENT_RESPONSIBILITY, A.TRANSFER_TO_PATIENT, False),
    ("OA-100", (), C.PATIENT_RESPONSIBILITY, A.HUMAN_REVIEW, True),
    # not this payer / not identified, with PR: look for the right payer before the patient is billed
    ("PR-22", (), C.COORDINATION_OF_BENEFITS, A.REVERIFY_ELIGIBILITY, True),
    ("PR-109", (), C.COORDINATION_OF_BENEFITS, A.REVERIFY_ELIGIBILITY, True),
    # B11: the payer transferred the claim itself; the receiving payer is not billed again
    ("PR-B11", (), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    ("PR-31", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, True),
    ("PR-32", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, True),
    ("PR-140", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, True),
    # another carrier is liable (workers' comp, liability, no-fault), hospice
    ("CO-19", (), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    ("CO-20", (), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    ("CO-21", (), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    ("CO-B9", (), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    # benefit limits and coverage rules
    ("CO-35", (), C.BENEFIT_LIMIT, A.BILL_SECONDARY, True),
    ("CO-149", (), C.BENEFIT_LIMIT, A.BILL_SECONDARY, True),
    ("CO-272", (), C.NON_COVERED, A.HUMAN_REVIEW, True),
    ("CO-49", (), C.NON_COVERED, A.HUMAN_REVIEW, True),
    ("CO-B1", (), C.NON_COVERED, A.HUMAN_REVIEW, True),
    ("CO-56", (), C.NON_COVERED, A.APPEAL, True),
    # referral exceeded, like referral absent
    ("CO-287", (), C.AUTHORIZATION, A.FIX_AUTH, True),
    # coding
    ("CO-B16", (), C.CODING, A.HUMAN_REVIEW, True),
    ("CO-189", (), C.CODING, A.HUMAN_REVIEW, True),
    ("CO-B14", (), C.BUNDLING, A.HUMAN_REVIEW, True),
    ("CO-B13", (), C.DUPLICATE, A.HUMAN_REVIEW, True),
    # referring / ordering provider not eligible
    ("CO-183", (), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    ("CO-184", (), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    # documentation requested and not received
    ("CO-226", (), C.MISSING_INFORMATION, A.HUMAN_REVIEW, True),
    ("CO-163", (), C.MISSING_INFORMATION, A.HUMAN_REVIEW, True),
    # the RARC names the field (CO-16) or the reason (CO-96)
    ("CO-16", ("N56",), C.CODING, A.HUMAN_REVIEW, True),
    ("CO-16", ("MA63",), C.CODING, A.HUMAN_REVIEW, True),
    ("CO-16", ("N288",), C.CREDENTIALING, A.FIX_CREDENTIALING, True),
    ("CO-16", ("N297",), C.CREDENTIALING, A.FIX_CREDENTIALING, True),
    ("CO-16", ("N198",), C.CREDENTIALING, A.FIX_CREDENTIALING, True),
    # N95 "this provider type/provider specialty may not bill this service": CO-170's meaning, which
    # enrolment does not fix (a supervisor's claim, an appeal or a write-off)
    ("CO-96", ("N95",), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    ("PI-96", ("N95",), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    ("CO-16", ("N95",), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    # N216 "not enrolled in this portion of our benefit package": a carve-out owes it, also when the
    # payer put it on the patient
    ("PR-96", ("N216",), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    ("PR-204", ("N216",), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, True),
    # workers' compensation jurisdictional fee schedule: a contractual reduction, as CO-45
    ("CO-W1", (), C.CONTRACTUAL, A.POST_ONLY, False),
    # P12, W1's successor: "workers' compensation jurisdictional fee schedule adjustment"
    ("CO-P12", (), C.CONTRACTUAL, A.POST_ONLY, False),
    ("PI-P12", (), C.CONTRACTUAL, A.POST_ONLY, False),
    # pending in an exchange premium grace period: reversed and corrected later
    ("OA-257", (), C.ELIGIBILITY, A.HUMAN_REVIEW, True),
    ("OA-277", (), C.ELIGIBILITY, A.HUMAN_REVIEW, True),
    # retired codes: the successor's category, always for a person
    ("CO-57", (), C.MEDICAL_NECESSITY, A.HUMAN_REVIEW, True),
    ("CO-52", (), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    ("CO-B6", (), C.CREDENTIALING, A.HUMAN_REVIEW, True),
    ("CO-B18", (), C.CODING, A.HUMAN_REVIEW, True),
    ("CO-47", (), C.NON_COVERED, A.HUMAN_REVIEW, True),
    ("CO-30", (), C.ELIGIBILITY, A.HUMAN_REVIEW, True),
]


@pytest.mark.parametrize(
    ("code", "rarcs", "category", "action", "denial"),
    ROWS,
    ids=[f"{row[0]}{'+' + '+'.join(row[1]) if row[1] else ''}" for row in ROWS],
)
def test_code_list_row(
    code: str, rarcs: tuple[str, ...], category: Category, action: Action, denial: bool
) -> None:
    group, _, carc = code.partition("-")
    rule = PLAYBOOK.rule_for(group, carc, rarcs)
    assert rule is not None
    assert (rule.category, rule.action, rule.denial) == (category, action, denial)


# ---------------------------------------------------------------- remits and triage


SECONDARY = CoverageOnFile("cov-0002", "payer-0002", CoveragePriority.SECONDARY, date(2025, 1, 1))


def test_an_out_of_network_balance_put_on_the_patient_is_cost_sharing_not_a_denial() -> None:
    # PR-45: allowed 100, paid 80, PR-2 20, PR-45 70 over the allowed amount
    remit_ = remit("1", [cas("PR", "2", "20.00"), cas("PR", "45", "70.00")], paid="80.00")
    assert denials_in_remit(remit_, PLAYBOOK) == []
    sharing = patient_cost_sharing(remit_, PLAYBOOK)
    assert sharing is not None and sharing.amount == Decimal("90.00")


def test_a_payment_made_to_the_patient_is_not_billed_to_the_next_payer() -> None:
    # PR-100: the payer sent its payment to the member; the secondary owes nothing for it
    remit_ = remit("1", [cas("CO", "45", "40.00"), cas("PR", "100", "130.00")])
    assert denials_in_remit(remit_, PLAYBOOK) == []
    assert patient_cost_sharing(remit_, PLAYBOOK) is None


def test_a_payment_made_to_the_patient_under_oa_is_a_work_item_to_bill_them() -> None:
    remit_ = remit("1", [cas("CO", "45", "40.00"), cas("OA", "100", "130.00")])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert decision.action is Action.HUMAN_REVIEW
    assert "paid the patient" in decision.next_step
    assert decision.write_off_reason is None


def test_pr_109_with_a_secondary_on_file_looks_for_the_right_payer_first() -> None:
    # "not covered by this payer, send to the correct payer" is not the patient's share to pass on
    remit_ = remit("4", [cas("PR", "109", "170.00")])
    decision = triage(only(remit_), ctx(coverages=(SECONDARY,)), PLAYBOOK)
    assert decision.action is Action.REVERIFY_ELIGIBILITY
    assert decision.category is Category.COORDINATION_OF_BENEFITS
    assert patient_cost_sharing(remit_, PLAYBOOK) is None  # the secondary is not billed for it


def test_a_sequestration_reduction_on_a_paid_line_is_not_a_denial_in_any_group() -> None:
    remit_ = remit(
        "1",
        [cas("CO", "45", "30.00"), cas("PI", "253", "2.20"), cas("PR", "2", "27.00")],
        paid="110.80",
    )
    assert denials_in_remit(remit_, PLAYBOOK) == []


def test_a_retired_medical_necessity_code_is_queued_with_its_meaning() -> None:
    decision = triage(only(remit("4", [cas("CO", "57", "170.00")])), ctx(), PLAYBOOK)
    assert decision.category is Category.MEDICAL_NECESSITY
    assert decision.action is Action.HUMAN_REVIEW
    assert "deactivated" in decision.next_step


def test_cost_sharing_reads_a_line_adjustment_with_the_lines_own_remarks() -> None:
    # a payer row holds PR-96 with N130 (a waiver to check) for a person: not billed to the next
    # payer as cost sharing, whether the remark came with the claim (MOA) or the line (LQ)
    playbook = load_playbook(
        "rows:\n"
        "  - codes: ['PR-*']\n    category: patient_responsibility\n    action: bill_secondary\n"
        "    otherwise: transfer_to_patient\n    next_step: Bill the next payer.\n"
        "  - codes: ['*-*']\n    category: other\n    action: human_review\n    next_step: Read it.\n"
        "rejections:\n"
        "  - codes: ['*']\n    category: front_end_rejection\n    action: human_review\n    next_step: Fix.\n"
        "payers:\n"
        "  payer-0001:\n    rows:\n"
        "      - codes: [PR-96]\n        rarcs: [N130]\n        category: non_covered\n"
        "        action: human_review\n        next_step: Check the waiver on file.\n"
    )
    adjustments = [cas("PR", "96", "170.00")]
    at_line = remit("1", adjustments, payer_id="payer-0001", line_rarcs=["N130"])
    at_claim = remit("1", adjustments, payer_id="payer-0001", rarcs=["N130"])
    assert patient_cost_sharing(at_claim, playbook) is None
    assert patient_cost_sharing(at_line, playbook) is None
    assert [d.rule.action for d in denials_in_remit(at_line, playbook)] == [Action.HUMAN_REVIEW]


def test_a_workers_compensation_fee_schedule_reduction_is_posted_not_a_denial() -> None:
    # P12 (W1's successor) on a paid line: the jurisdiction's fee schedule, as CO-45 is a contract's
    remit_ = remit("1", [cas("CO", "P12", "50.00")], paid="120.00")
    assert denials_in_remit(remit_, PLAYBOOK) == []


# ---------------------------------------------------------------- PR with a provider-error remark


@pytest.mark.parametrize("code", ["PR-96", "PR-204"])
@pytest.mark.parametrize(
    ("rarc", "level"),
    [
        ("M62", "line"),  # authorization number missing
        ("N54", "line"),  # inconsistent with the authorized services
        ("N95", "line"),  # this provider type may not bill this service
        ("N290", "line"),  # rendering provider identifier missing or invalid
        ("M51", "line"),  # procedure code missing or invalid
        ("N362", "line"),  # units over the maximum
        ("MA130", "claim"),  # unprocessable: never adjudicated
    ],
)
def test_a_patient_responsibility_denial_with_a_provider_error_remark_goes_to_a_person(
    code: str, rarc: str, level: str
) -> None:
    # the group says the patient owes it, the remark that the claim was wrong: a billing, provider
    # or coding error is never moved to the patient, nor billed to the next payer in their place
    group, _, carc = code.partition("-")
    where = {"line_rarcs": [rarc]} if level == "line" else {"rarcs": [rarc]}
    remit_ = remit("4", [cas(group, carc, "170.00")], **where)
    for others in ((), (SECONDARY,)):
        decision = triage(only(remit_), ctx(coverages=others), PLAYBOOK)
        assert decision.action is Action.HUMAN_REVIEW, others
        assert rarc in decision.next_step and "not the patient's" in decision.next_step
    assert patient_cost_sharing(remit_, PLAYBOOK) is None


def test_a_patient_responsibility_denial_without_such_a_remark_is_still_the_patients() -> None:
    remit_ = remit("4", [cas("PR", "96", "170.00")], line_rarcs=["N130"])
    assert triage(only(remit_), ctx(), PLAYBOOK).action is Action.TRANSFER_TO_PATIENT


def test_cost_sharing_beside_a_provider_error_remark_is_still_cost_sharing() -> None:
    # a copay on a paid line is the patient's whatever remark the line carries
    remit_ = remit("1", [cas("CO", "45", "35.00"), cas("PR", "3", "25.00")], paid="110.00", rarcs=["M62"])
    assert denials_in_remit(remit_, PLAYBOOK) == []
    sharing = patient_cost_sharing(remit_, PLAYBOOK)
    assert sharing is not None and sharing.amount == Decimal("25.00")


def test_every_remark_naming_a_field_of_a_co16_denial_is_a_provider_error() -> None:
    # the remarks the playbook reads as a field, code, identifier or authorization to correct on a
    # CO-16 denial are provider errors beside a PR denial too: the two lists do not drift apart
    named = {rarc for row in PLAYBOOK.rows if "CO-16" in row.codes for rarc in row.rarcs}
    assert named and named <= set(PLAYBOOK.provider_error_rarcs)
