"""AAA 42 and the other "try again" reasons are never an inactive coverage nor a final failure until
the service's bounded retries are used up; reasons naming request data say which. Synthetic 271s:
every identifier, name and date is invented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rcm.eligibility.checker import CheckOutcome
from rcm.eligibility.domain import AaaAction, decide
from rcm.eligibility.domain.benefits import BenefitSummary
from rcm.eligibility.handlers import CheckJob, Eligibility, _follow_up, _verification
from rcm.eligibility.settings import EligibilityOptions, PayerPolicy
from rcm.events.models import EligibilityStatus, Verification

from .test_271_aaa_follow_ups import read
from .test_rules import aaa, request

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "where",
    [
        {"source": ("AAA*Y**42*R",)},
        {"payer": ("AAA*Y**42*R",)},
        {"receiver": ("AAA*Y**42*R",)},
        {"subscriber": ("AAA*Y**42*R",)},
        {"subscriber": (), "dependent": ("AAA*Y**42*R",)},
    ],
    ids=["2000A", "2100A", "2100B", "2100C", "2100D"],
)
def test_unable_to_respond_anywhere_in_the_request_is_no_answer_and_a_retry(
    where: dict[str, tuple[str, ...]],
) -> None:
    subscriber = where.pop("subscriber", ())
    summary = read(*subscriber, **where)  # type: ignore[arg-type]
    assert summary.status is EligibilityStatus.ERROR
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.RETRY and decision.named == ()


def test_unable_to_respond_beside_benefits_that_state_no_coverage_is_not_inactive() -> None:
    """A 2100C AAA 42 with a copay but no EB01 1-8: the payer did not answer for the coverage."""
    summary = read("AAA*Y**42*R", "EB*B*IND*MH*PR**27*25.00")
    assert summary.status is EligibilityStatus.ERROR


def test_a_benefit_s_own_aaa_does_not_reject_an_answered_coverage() -> None:
    summary = read("EB*1*IND*30", "EB*B*IND*MH*PR**27*25.00", "AAA*Y**42*R")
    assert summary.status is EligibilityStatus.ACTIVE


@pytest.mark.parametrize(
    ("reason", "follow_up", "fields"),
    [
        ("72", "C", ("member_id",)),
        ("73", "R", ("name",)),
        ("58", "C", ("birth_date",)),
        ("75", "N", ("member_id", "name", "birth_date")),
    ],
)
def test_member_data_reasons_name_their_field_whatever_the_follow_up(
    reason: str, follow_up: str, fields: tuple[str, ...]
) -> None:
    summary = read(f"AAA*N**{reason}*{follow_up}")
    assert summary.status is EligibilityStatus.NOT_FOUND
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.named == fields
    outcome = CheckOutcome(summary, decision=decision)
    assert _verification(outcome, retrying=False) is Verification.INVALID_REQUEST_DATA


def _job(attempt: int) -> CheckJob:
    return CheckJob(
        check_id="elig-1",
        patient_id="pat-1",
        coverage_id="cov-1",
        payer_id="payer-1",
        service_date=NOW.date(),
        request=request(),
        policy=PayerPolicy(),
        cache_key="k",
        trigger="appointment",
        attempt=attempt,
    )


def test_unable_to_respond_is_retried_on_the_backoff_then_unable_to_verify() -> None:
    eligibility = Eligibility(None, EligibilityOptions(unavailable_retry_s=[60.0, 600.0]), now=lambda: NOW)  # type: ignore[arg-type]
    outcome = CheckOutcome(
        BenefitSummary(status=EligibilityStatus.ERROR), decision=decide([aaa("42", "R")]), retry_later=True
    )
    assert eligibility._next_attempt(_job(0), outcome, NOW) == (NOW + timedelta(seconds=60), "aaa_retry")
    assert eligibility._next_attempt(_job(1), outcome, NOW) == (NOW + timedelta(seconds=600), "aaa_retry")
    assert eligibility._next_attempt(_job(2), outcome, NOW) is None  # bounded
    assert _verification(outcome, retrying=True) is Verification.RETRYING
    assert _verification(outcome, retrying=False) is Verification.UNABLE_TO_VERIFY

    retrying = _follow_up(outcome, exhausted=False, attempts=1)
    assert retrying is not None and retrying.action == "retry"
    # used up: nobody is to wait for an answer that will not come, and it says so (no member data)
    final = _follow_up(outcome, exhausted=True, attempts=3)
    assert final is not None and final.action == "stop"
    assert "unable to verify" in final.message and "3 attempt" in final.message
    assert "SYN000001" not in final.message


def test_a_payer_asking_to_wait_is_always_checked_again_after_its_days() -> None:
    eligibility = Eligibility(None, EligibilityOptions(unavailable_retry_s=[]), now=lambda: NOW)  # type: ignore[arg-type]
    outcome = CheckOutcome(
        BenefitSummary(status=EligibilityStatus.ERROR), decision=decide([aaa("42", "X")]), retry_later=True
    )
    assert eligibility._next_attempt(_job(5), outcome, NOW) == (NOW + timedelta(days=10), "aaa_wait")


def test_an_outage_without_aaa_ends_unable_to_verify_not_inactive() -> None:
    outcome = CheckOutcome(
        BenefitSummary(status=EligibilityStatus.ERROR), failure="PayerTimeout", retry_later=True
    )
    assert _verification(outcome, retrying=False) is Verification.UNABLE_TO_VERIFY
    assert _follow_up(outcome, exhausted=True, attempts=2) is None
    answered = CheckOutcome(BenefitSummary(status=EligibilityStatus.INACTIVE))
    assert _verification(answered, retrying=False) is Verification.ANSWERED
