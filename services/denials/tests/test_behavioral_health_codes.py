"""Behavioral-health denials whose remark or modifier changes what the code alone would call for.

A provider type that may not bill the service (N95) is not an enrollment gap whatever CARC it
comes with; credentialing data (N570) is credentialing work; an add-on billed alone (N122) is not
a bundling edit a 59/XE bypasses; a modifier inconsistent with the place of service (CO-4 with
M77) is not fixed by the modifier alone; a line billed GZ (no ABN signed) is never the patient's.
"""

from __future__ import annotations

from datetime import date

import pytest
from triage_world import PLAYBOOK, cas, ctx, only, remit

from rcm.denials.domain.denial import denials_in_remit
from rcm.denials.domain.facts import CoverageOnFile
from rcm.denials.domain.playbook import Action, Category
from rcm.denials.domain.triage import triage
from rcm.events.models import CoveragePriority

pytestmark = pytest.mark.unit

A, C = Action, Category

SECONDARY = CoverageOnFile("cov-0002", "payer-0002", CoveragePriority.SECONDARY, date(2024, 1, 1))

# code, rarcs, category, action
ROWS = [
    # N95 "this provider type/provider specialty may not bill this service" (an LPC or LMFT before
    # Medicare enrolled them in 2024): no enrollment fixes it, beside CO-185/B7 as beside CO-170
    ("CO-185", ("N95",), C.CREDENTIALING, A.HUMAN_REVIEW),
    ("CO-B7", ("N95",), C.CREDENTIALING, A.HUMAN_REVIEW),
    ("PI-185", ("N95",), C.CREDENTIALING, A.HUMAN_REVIEW),
    ("CO-185", (), C.CREDENTIALING, A.FIX_CREDENTIALING),  # not enrolled on the date: credentialing
    # N570 "missing/incomplete/invalid credentialing data": the enrollment, not a claim field
    ("CO-16", ("N570",), C.CREDENTIALING, A.FIX_CREDENTIALING),
    ("CO-A1", ("N570",), C.CREDENTIALING, A.FIX_CREDENTIALING),
    # N122 "add-on code cannot be billed by itself" (90785, 90833, 90840 without the primary)
    ("CO-97", ("N122",), C.CODING, A.HUMAN_REVIEW),
    ("CO-234", ("N122",), C.CODING, A.HUMAN_REVIEW),
    ("CO-16", ("N122",), C.CODING, A.HUMAN_REVIEW),
    ("CO-97", ("M80",), C.BUNDLING, A.HUMAN_REVIEW),  # a true same-day edit stays bundling
    # the modifier is inconsistent with the POS (M77): the modifier fix alone leaves the POS wrong
    ("CO-4", ("M77",), C.PLACE_OF_SERVICE, A.HUMAN_REVIEW),
    ("CO-4", (), C.MODIFIER, A.RESUBMIT_REPLACEMENT),
]


@pytest.mark.parametrize(("code", "rarcs", "category", "action"), ROWS)
def test_row(code: str, rarcs: tuple[str, ...], category: Category, action: Action) -> None:
    group, _, carc = code.partition("-")
    rule = PLAYBOOK.rule_for(group, carc, rarcs)
    assert rule is not None
    assert (rule.category, rule.action) == (category, action)
    assert rule.fix is None or action is A.RESUBMIT_REPLACEMENT


def test_an_add_on_billed_alone_is_not_told_to_take_a_bypass_modifier() -> None:
    rule = PLAYBOOK.rule_for("CO", "97", ("N122",))
    assert rule is not None and "primary" in rule.next_step and "does not help" in rule.next_step


@pytest.mark.parametrize("rarc", ["N264", "N265"])
def test_an_ordering_provider_remark_names_the_ordering_provider(rarc: str) -> None:
    rule = PLAYBOOK.rule_for("CO", "16", (rarc,))
    assert rule is not None and rule.action is A.HUMAN_REVIEW and "ordering" in rule.next_step


@pytest.mark.parametrize("rarc", ["N570", "N122", "N265"])
def test_a_patient_responsibility_denial_with_these_remarks_is_not_the_patients(rarc: str) -> None:
    remit_ = remit("4", [cas("PR", "96", "170.00")], line_rarcs=[rarc])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert decision.action is A.HUMAN_REVIEW and rarc in decision.next_step


def test_a_co4_with_m77_is_not_corrected_by_adding_the_modifier() -> None:
    # a video visit at POS 10 without 95: CO-4 alone adds 95; with M77 the payer names the POS too
    remit_ = remit("4", [cas("CO", "4", "170.00")], line_rarcs=["M77"])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert decision.action is A.HUMAN_REVIEW and decision.changes == ()


# ---------------------------------------------------------------- GZ: no ABN, the provider's liability


@pytest.mark.parametrize(("code", "modifier"), [("PR-96", "GZ"), ("PR-50", "GZ"), ("PR-204", "GZ")])
def test_a_denial_grouped_pr_on_a_gz_line_is_never_moved_to_the_patient(code: str, modifier: str) -> None:
    group, _, carc = code.partition("-")
    remit_ = remit("4", [cas(group, carc, "170.00")], modifiers=[modifier])
    decision = triage(only(remit_), ctx(), PLAYBOOK)
    assert decision.action is A.HUMAN_REVIEW
    assert "GZ" in decision.why and "ABN" in decision.why


def test_a_denial_grouped_pr_on_a_ga_line_is_the_patients_under_the_signed_abn() -> None:
    remit_ = remit("4", [cas("PR", "50", "170.00")], modifiers=["GA"], line_rarcs=["M38"])
    assert triage(only(remit_), ctx(), PLAYBOOK).action is A.TRANSFER_TO_PATIENT


def test_a_gz_line_still_goes_to_the_next_payer_on_file() -> None:
    # the next payer sees the prior payer's adjudication and decides; only the patient is spared
    remit_ = remit("4", [cas("PR", "96", "170.00")], modifiers=["GZ"])
    assert triage(only(remit_), ctx(coverages=(SECONDARY,)), PLAYBOOK).action is A.BILL_SECONDARY


def test_a_gz_line_denied_as_not_necessary_is_not_appealed() -> None:
    # GZ: the provider billed it expecting this denial, without an ABN; nothing to appeal
    remit_ = remit("4", [cas("CO", "50", "170.00")], modifiers=["GZ"])
    (denial,) = denials_in_remit(remit_, PLAYBOOK)
    decision = triage(denial, ctx(), PLAYBOOK)
    assert decision.action is A.HUMAN_REVIEW and decision.appeal_deadline is None
    assert "GZ" in decision.why and decision.deadline is not None


def test_a_line_denied_as_not_necessary_without_gz_is_appealed() -> None:
    remit_ = remit("4", [cas("CO", "50", "170.00")], modifiers=["GA"])
    assert triage(only(remit_), ctx(), PLAYBOOK).action is A.APPEAL
