"""The playbook as a table: each row is a group/CARC (with the RARC where it decides) and its
category and action, as DOMAIN.md 3.2 recommends. ``otherwise`` is the action when the fix or the
proof the row needs is missing."""

from __future__ import annotations

import pytest

from rcm.denials.domain.playbook import Action, Category, Fix, load_playbook
from rcm.denials.settings import load_configured_playbook

pytestmark = pytest.mark.unit

PLAYBOOK = load_configured_playbook()

A, C = Action, Category

# code, rarcs, category, action, fix, otherwise, opens a denial
TABLE = [
    ("PR-1", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, None, A.TRANSFER_TO_PATIENT, False),
    ("PR-2", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, None, A.TRANSFER_TO_PATIENT, False),
    ("PR-3", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, None, A.TRANSFER_TO_PATIENT, False),
    ("CO-45", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("PI-45", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("OA-23", (), C.COORDINATION_OF_BENEFITS, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("CO-4", (), C.MODIFIER, A.RESUBMIT_REPLACEMENT, Fix.MISSING_MODIFIER, A.HUMAN_REVIEW, True),
    ("CO-5", (), C.PLACE_OF_SERVICE, A.RESUBMIT_REPLACEMENT, Fix.PLACE_OF_SERVICE, A.HUMAN_REVIEW, True),
    ("CO-58", (), C.PLACE_OF_SERVICE, A.RESUBMIT_REPLACEMENT, Fix.PLACE_OF_SERVICE, A.HUMAN_REVIEW, True),
    ("CO-16", (), C.MISSING_INFORMATION, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("N290",), C.CREDENTIALING, A.FIX_CREDENTIALING, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("M51",), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("M76",), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("MA130",), C.MISSING_INFORMATION, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("M62",), C.AUTHORIZATION, A.RESUBMIT_REPLACEMENT, Fix.AUTHORIZATION_NUMBER, A.FIX_AUTH, True),
    (
        "CO-16",
        ("M77",),
        C.PLACE_OF_SERVICE,
        A.RESUBMIT_REPLACEMENT,
        Fix.PLACE_OF_SERVICE,
        A.HUMAN_REVIEW,
        True,
    ),
    ("CO-16", ("N822",), C.MODIFIER, A.RESUBMIT_REPLACEMENT, Fix.MISSING_MODIFIER, A.HUMAN_REVIEW, True),
    ("CO-16", ("MA27",), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("N382",), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("OA-18", (), C.DUPLICATE, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-18", (), C.DUPLICATE, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-22", (), C.COORDINATION_OF_BENEFITS, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-109", (), C.COORDINATION_OF_BENEFITS, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-B11", (), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-26", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-27", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-200", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-31", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-140", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    (
        "CO-129",
        (),
        C.COORDINATION_OF_BENEFITS,
        A.RESUBMIT_REPLACEMENT,
        Fix.REBUILD_COB,
        A.REVERIFY_ELIGIBILITY,
        True,
    ),
    ("CO-29", (), C.TIMELY_FILING, A.APPEAL, None, A.WRITE_OFF, True),
    ("CO-29", ("N211",), C.TIMELY_FILING, A.WRITE_OFF, None, A.HUMAN_REVIEW, True),
    ("CO-50", (), C.MEDICAL_NECESSITY, A.APPEAL, None, A.HUMAN_REVIEW, True),
    ("CO-150", (), C.MEDICAL_NECESSITY, A.APPEAL, None, A.HUMAN_REVIEW, True),
    ("CO-151", (), C.MEDICAL_NECESSITY, A.APPEAL, None, A.HUMAN_REVIEW, True),
    ("CO-152", (), C.MEDICAL_NECESSITY, A.APPEAL, None, A.HUMAN_REVIEW, True),
    ("CO-96", (), C.NON_COVERED, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-97", (), C.BUNDLING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-231", (), C.BUNDLING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-236", (), C.BUNDLING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-119", (), C.BENEFIT_LIMIT, A.BILL_SECONDARY, None, A.HUMAN_REVIEW, True),
    ("CO-198", (), C.AUTHORIZATION, A.FIX_AUTH, None, A.HUMAN_REVIEW, True),  # never resent by itself
    ("CO-273", (), C.BENEFIT_LIMIT, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-197", (), C.AUTHORIZATION, A.RESUBMIT_REPLACEMENT, Fix.AUTHORIZATION_NUMBER, A.FIX_AUTH, True),
    ("CO-284", (), C.AUTHORIZATION, A.FIX_AUTH, None, A.HUMAN_REVIEW, True),
    ("CO-296", (), C.AUTHORIZATION, A.FIX_AUTH, None, A.HUMAN_REVIEW, True),
    ("CO-8", (), C.CREDENTIALING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-170", (), C.CREDENTIALING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-185", (), C.CREDENTIALING, A.FIX_CREDENTIALING, None, A.HUMAN_REVIEW, True),
    ("CO-B7", (), C.CREDENTIALING, A.FIX_CREDENTIALING, None, A.HUMAN_REVIEW, True),
    ("CO-242", (), C.CREDENTIALING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-11", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-146", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-167", (), C.NON_COVERED, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-181", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-182", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-252", (), C.MISSING_INFORMATION, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("OA-133", (), C.OTHER, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("PR-204", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, None, A.TRANSFER_TO_PATIENT, True),
    ("PR-96", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, None, A.TRANSFER_TO_PATIENT, True),
    ("CO-999", (), C.OTHER, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    # -------- normal adjudication in other groups: not denials
    ("PR-142", (), C.PATIENT_RESPONSIBILITY, A.BILL_SECONDARY, None, A.TRANSFER_TO_PATIENT, False),
    ("OA-45", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("CO-253", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("CO-237", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("CO-23", (), C.COORDINATION_OF_BENEFITS, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("CR-45", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    ("CR-197", (), C.OTHER, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    # -------- PI (Medicaid MCOs) and OA read as CO where they have no row of their own
    ("PI-16", ("N290",), C.CREDENTIALING, A.FIX_CREDENTIALING, None, A.HUMAN_REVIEW, True),
    ("PI-197", (), C.AUTHORIZATION, A.RESUBMIT_REPLACEMENT, Fix.AUTHORIZATION_NUMBER, A.FIX_AUTH, True),
    ("PI-4", (), C.MODIFIER, A.RESUBMIT_REPLACEMENT, Fix.MISSING_MODIFIER, A.HUMAN_REVIEW, True),
    ("OA-27", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("OA-109", (), C.COORDINATION_OF_BENEFITS, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("OA-97", (), C.BUNDLING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    # -------- CO-16 and the RARC that names the field
    ("CO-16", ("N257",), C.CREDENTIALING, A.FIX_CREDENTIALING, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("N286",), C.MISSING_INFORMATION, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("M53",), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("M119",), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("M78",), C.MODIFIER, A.RESUBMIT_REPLACEMENT, Fix.MISSING_MODIFIER, A.HUMAN_REVIEW, True),
    ("CO-16", ("MA36",), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    (
        "CO-16",
        ("MA04",),
        C.COORDINATION_OF_BENEFITS,
        A.RESUBMIT_REPLACEMENT,
        Fix.REBUILD_COB,
        A.REVERIFY_ELIGIBILITY,
        True,
    ),
    (
        "CO-16",
        ("N479",),
        C.COORDINATION_OF_BENEFITS,
        A.RESUBMIT_REPLACEMENT,
        Fix.REBUILD_COB,
        A.REVERIFY_ELIGIBILITY,
        True,
    ),
    # MA130 (unprocessable) names no field: the RARC beside it decides
    (
        "CO-16",
        ("MA130", "M62"),
        C.AUTHORIZATION,
        A.RESUBMIT_REPLACEMENT,
        Fix.AUTHORIZATION_NUMBER,
        A.FIX_AUTH,
        True,
    ),
    ("CO-16", ("MA130", "N290"), C.CREDENTIALING, A.FIX_CREDENTIALING, None, A.HUMAN_REVIEW, True),
    ("CO-16", ("N999",), C.MISSING_INFORMATION, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-125", (), C.MISSING_INFORMATION, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    # -------- authorization and referral
    ("CO-15", (), C.AUTHORIZATION, A.RESUBMIT_REPLACEMENT, Fix.AUTHORIZATION_NUMBER, A.FIX_AUTH, True),
    ("CO-39", (), C.AUTHORIZATION, A.APPEAL, None, A.HUMAN_REVIEW, True),
    ("CO-288", (), C.AUTHORIZATION, A.FIX_AUTH, None, A.HUMAN_REVIEW, True),
    # -------- coverage and COB
    ("CO-24", (), C.COORDINATION_OF_BENEFITS, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-32", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-33", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("CO-177", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    ("PR-27", (), C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY, None, A.HUMAN_REVIEW, True),
    # -------- necessity, coverage, limits
    ("CO-55", (), C.NON_COVERED, A.APPEAL, None, A.HUMAN_REVIEW, True),
    ("CO-204", (), C.NON_COVERED, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-96", ("N216",), C.COORDINATION_OF_BENEFITS, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-B5", (), C.BENEFIT_LIMIT, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-234", (), C.BUNDLING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    # -------- coding and provider
    ("CO-6", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-107", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-B15", (), C.CODING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-171", (), C.CREDENTIALING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-243", (), C.AUTHORIZATION, A.FIX_AUTH, None, A.HUMAN_REVIEW, True),
    ("CO-279", (), C.CREDENTIALING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    # -------- retired codes: the successor's category, always for a person
    ("CO-62", (), C.AUTHORIZATION, A.HUMAN_REVIEW, None, A.FIX_AUTH, True),
    ("CO-38", (), C.CREDENTIALING, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-46", (), C.NON_COVERED, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("CO-42", (), C.CONTRACTUAL, A.POST_ONLY, None, A.HUMAN_REVIEW, False),
    # -------- unknown codes: a person, with the codes as they came
    ("CO-ZZ9", (), C.OTHER, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("PI-999", (), C.OTHER, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
    ("OA-999", ("N999",), C.OTHER, A.HUMAN_REVIEW, None, A.HUMAN_REVIEW, True),
]


@pytest.mark.parametrize(
    ("code", "rarcs", "category", "action", "fix", "otherwise", "denial"),
    TABLE,
    ids=[f"{row[0]}{'+' + '+'.join(row[1]) if row[1] else ''}" for row in TABLE],
)
def test_playbook_row(
    code: str,
    rarcs: tuple[str, ...],
    category: Category,
    action: Action,
    fix: Fix | None,
    otherwise: Action,
    denial: bool,
) -> None:
    group, _, carc = code.partition("-")
    rule = PLAYBOOK.rule_for(group, carc, rarcs)
    assert rule is not None
    assert (rule.category, rule.action, rule.fix, rule.otherwise, rule.denial) == (
        category,
        action,
        fix,
        otherwise,
        denial,
    )


REJECTIONS = [
    (["A7:562:85"], C.CREDENTIALING, A.FIX_CREDENTIALING),
    (["A3:33:IL"], C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY),
    (["A6:21:QC"], C.ELIGIBILITY, A.REVERIFY_ELIGIBILITY),
    (["A8:496:82"], C.CREDENTIALING, A.FIX_CREDENTIALING),
    (["999:5"], C.FRONT_END_REJECTION, A.HUMAN_REVIEW),
    (["A7:21"], C.FRONT_END_REJECTION, A.HUMAN_REVIEW),
]


@pytest.mark.parametrize(("codes", "category", "action"), REJECTIONS, ids=[r[0][0] for r in REJECTIONS])
def test_rejection_row(codes: list[str], category: Category, action: Action) -> None:
    rule = PLAYBOOK.rejection_rule_for(codes)
    assert (rule.category, rule.action) == (category, action)


def test_a_ta1_rejection_of_the_whole_interchange_says_to_fix_the_submitter_setup() -> None:
    rule = PLAYBOOK.rejection_rule_for(["TA1:025"])
    assert (rule.category, rule.action) == (C.FRONT_END_REJECTION, A.HUMAN_REVIEW)
    assert "interchange" in rule.next_step and "submitter" in rule.next_step


def test_a_payer_row_overrides_the_default_without_code_branches() -> None:
    text = """
rows:
  - codes: ["*-*"]
    category: other
    action: human_review
    next_step: Decide.
  - codes: [CO-96]
    category: non_covered
    action: human_review
    next_step: Check the benefit.
rejections:
  - codes: ["*"]
    category: front_end_rejection
    action: human_review
    next_step: Fix and resubmit.
payers:
  payer-strict:
    appeal_days: 45
    rows:
      - codes: [CO-96]
        category: non_covered
        action: write_off
        next_step: Excluded service under this plan.
"""
    playbook = load_playbook(text)
    assert playbook.rule_for("CO", "96", (), "payer-strict").action is A.WRITE_OFF  # type: ignore[union-attr]
    assert playbook.rule_for("CO", "96", (), "payer-other").action is A.HUMAN_REVIEW  # type: ignore[union-attr]
    assert playbook.appeal_days_for("payer-strict", "commercial") == 45
    assert playbook.appeal_days_for("payer-other", "commercial") == 180


def test_a_playbook_without_a_catch_all_row_is_refused() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        load_playbook(
            "rows: [{codes: [CO-4], category: modifier, action: human_review, next_step: x}]\n"
            "rejections: [{codes: ['*'], category: other, action: human_review, next_step: x}]\n"
        )
