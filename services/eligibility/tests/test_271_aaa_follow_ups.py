"""AAA rejections of a 271 and their follow-up actions (AAA04), on synthetic 271s.

Every identifier, name and date here is invented.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rcm.eligibility.domain import AaaAction, decide
from rcm.events.models import EligibilityStatus

from .test_271_rules import read

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("reason", "fields"),
    [
        ("72", ("member_id",)),
        ("73", ("name",)),
        ("58", ("birth_date",)),
        ("75", ("member_id", "name", "birth_date")),
    ],
)
def test_resubmission_allowed_on_wrong_member_data_asks_to_correct_it(
    reason: str, fields: tuple[str, ...]
) -> None:
    """AAA04 R allows a resubmission; the same member id, name or birth date would fail again."""
    summary = read(f"AAA*N**{reason}*R")
    assert summary.status is EligibilityStatus.NOT_FOUND
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.CORRECT
    assert decision.corrections == fields


def test_resubmission_allowed_on_a_wrong_provider_id_asks_to_correct_it() -> None:
    summary = read(receiver=("AAA*N**43*R",))
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.CORRECT
    assert decision.corrections == ("provider",)


def test_resubmit_the_original_is_honoured_as_asked() -> None:
    decision = decide(read("AAA*N**72*P").aaa_errors, ["2100C"])
    assert decision is not None and decision.action is AaaAction.RETRY


@pytest.mark.parametrize("source", [("AAA*N**42*R",), ("AAA*N**79*R",), ("AAA*N**80*R",)])
def test_resubmission_allowed_when_the_payer_could_not_answer_is_a_retry(source: tuple[str, ...]) -> None:
    summary = read(source=source)
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.RETRY


def test_resubmission_allowed_on_a_reason_naming_no_data_is_a_retry() -> None:
    decision = decide(read(payer=("AAA*N**41*R",)).aaa_errors, ["2100A"])
    assert decision is not None and decision.action is AaaAction.RETRY


@pytest.mark.parametrize(
    ("follow_up", "action", "days"),
    [
        ("C", AaaAction.CORRECT, None),
        ("N", AaaAction.STOP, None),
        ("S", AaaAction.STOP, None),
        ("Y", AaaAction.STOP, None),
        ("W", AaaAction.WAIT, 30),
        ("X", AaaAction.WAIT, 10),
    ],
)
def test_the_other_follow_ups_on_a_member_not_found_are_honoured(
    follow_up: str, action: AaaAction, days: int | None
) -> None:
    decision = decide(read(f"AAA*N**75*{follow_up}").aaa_errors, ["2100C"])
    assert decision is not None and decision.action is action
    assert (decision.wait.days if decision.wait else None) == days


# ------------------------------------------------------------------ EB01 V: cannot process


def test_a_payer_that_can_only_say_it_cannot_process_has_not_answered() -> None:
    """EB01 V alone says nothing about the coverage: an error, never an inactive coverage."""
    summary = read("EB*V**30", "MSG*SYNTHETIC SYSTEM NOTICE")
    assert summary.status is EligibilityStatus.ERROR


def test_unable_to_respond_with_a_cannot_process_benefit_is_checked_again() -> None:
    summary = read("AAA*Y**42*R", "EB*V**30")
    assert summary.status is EligibilityStatus.ERROR
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.RETRY


def test_a_member_not_found_with_a_cannot_process_benefit_is_not_found() -> None:
    summary = read("AAA*N**75*C", "EB*V**30")
    assert summary.status is EligibilityStatus.NOT_FOUND


def test_a_cannot_process_service_type_beside_an_answered_plan_is_still_an_answer() -> None:
    summary = read("EB*1*IND*30", "EB*V*IND*MH")
    assert summary.status is EligibilityStatus.ACTIVE


@pytest.mark.parametrize("reason", ["62", "63"])
def test_a_visit_too_far_ahead_is_checked_again_on_its_date_not_corrected(reason: str) -> None:
    """62/63 about a visit still to come: the payer answers only nearer the date, which is right."""
    errors = read(f"AAA*N**{reason}*C").aaa_errors
    decision = decide(errors, ["2100C"], service_date=date(2026, 3, 20), today=date(2026, 3, 6))
    assert decision is not None and decision.action is AaaAction.WAIT
    assert decision.wait == timedelta(days=14) and decision.corrections == ()
    assert "on the date of service" in decision.message
    # without the dates the reason still points at the date sent
    undated = decide(errors, ["2100C"])
    assert undated is not None and undated.action is AaaAction.CORRECT
    assert undated.corrections == ("service_date",)


def test_a_date_past_the_inquiry_window_is_not_asked_again() -> None:
    errors = read("AAA*N**62*C").aaa_errors
    decision = decide(errors, ["2100C"], service_date=date(2024, 1, 5), today=date(2026, 3, 6))
    assert decision is not None and decision.action is AaaAction.STOP and decision.corrections == ()
    # "in the future" on the date itself: the payer's day has not begun yet; asked again tomorrow
    today = decide(
        read("AAA*N**63*C").aaa_errors, ["2100C"], service_date=date(2026, 3, 6), today=date(2026, 3, 6)
    )
    assert today is not None and today.action is AaaAction.WAIT and today.wait == timedelta(days=1)
    # a payer that says not to resubmit is heard
    never = decide(
        read("AAA*N**63*N").aaa_errors, ["2100C"], service_date=date(2026, 3, 20), today=date(2026, 3, 6)
    )
    assert never is not None and never.action is AaaAction.STOP
