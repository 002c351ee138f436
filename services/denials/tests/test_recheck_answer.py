"""What a denial waiting for a re-check becomes, for each answer the payer can give."""

from __future__ import annotations

from datetime import date

import pytest

from rcm.denials.domain.facts import CoverageOnFile
from rcm.denials.domain.playbook import Action
from rcm.denials.handlers import recheck_answer
from rcm.events.models import CoveragePriority
from rcm.events.testing import eligibility_checked

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 3)
OTHER = CoverageOnFile("cov-b", "payer-b", CoveragePriority.SECONDARY, start=date(2025, 1, 1))
ENDED = CoverageOnFile(
    "cov-c", "payer-c", CoveragePriority.SECONDARY, start=date(2024, 1, 1), end=date(2024, 12, 31)
)


def _answer(status: str, **fields: object) -> object:
    return eligibility_checked(
        1, status=status, service_date=DOS, trigger="recheck", request_id="req-1", **fields
    )


def test_active_without_another_payer_is_appealed_with_the_271() -> None:
    action, step, why = recheck_answer(_answer("active"), [OTHER])  # type: ignore[arg-type]
    assert action is Action.APPEAL and "reprocess" in step and "contradicting" in why


def test_active_naming_another_payer_is_a_cob_question() -> None:
    e = _answer("active", other_payer={"name": "SYNTHETIC BH PARTNERS"})
    action, step, _ = recheck_answer(e, [])  # type: ignore[arg-type]
    assert action is Action.HUMAN_REVIEW and "SYNTHETIC BH PARTNERS" in step and "first" in step


def test_inactive_names_only_a_coverage_in_force_that_day() -> None:
    _, step, _ = recheck_answer(_answer("inactive"), [ENDED, OTHER])  # type: ignore[arg-type]
    assert "cov-b" in step and "cov-c" not in step
    _, step, _ = recheck_answer(_answer("inactive"), [ENDED])  # type: ignore[arg-type]
    assert "on file" not in step and "the patient" in step


def test_not_found_names_the_fields_to_correct() -> None:
    e = _answer(
        "not_found",
        aaa_follow_up={"action": "correct", "corrections": ["member_id", "birth_date"], "message": "fix"},
    )
    action, step, _ = recheck_answer(e, [])  # type: ignore[arg-type]
    assert action is Action.HUMAN_REVIEW and "member_id, birth_date" in step


def test_no_answer_sends_a_person_to_the_portal() -> None:
    action, step, why = recheck_answer(
        _answer("error", aaa_follow_up={"action": "stop", "message": "do not resubmit"}),
        [],  # type: ignore[arg-type]
    )
    assert action is Action.HUMAN_REVIEW and "portal" in step and "do not resubmit" in why
