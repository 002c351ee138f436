"""AAA decisions, coverage changes, cache keys, the re-check schedule and the 270."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rcm.clearinghouse import ClearinghouseSettings, CoreEndpoint, RejectedPayload, UnreadablePayload
from rcm.eligibility.checker import Checker
from rcm.eligibility.domain import (
    AaaAction,
    BenefitSummary,
    InquiryRequest,
    Person,
    build_270,
    cache_key,
    decide,
    detect_changes,
    fingerprint_of,
    first_visit_of_month,
    is_fresh,
    night_before,
)
from rcm.eligibility.settings import PayerPolicy
from rcm.events.models import AaaError, CoverageChange, EligibilityStatus, OtherPayer
from rcm.events.models.common import CoveragePriority, Period
from rcm.x12 import read, validate

pytestmark = pytest.mark.unit


def aaa(code: str, follow_up: str | None = None) -> AaaError:
    return AaaError(code=code, follow_up=follow_up)


# ------------------------------------------------------------------ AAA


def test_resubmission_allowed_is_retried() -> None:
    decision = decide([aaa("42", "R")])
    assert decision is not None and decision.action is AaaAction.RETRY


def test_resubmit_original_is_retried() -> None:
    decision = decide([aaa("80", "P")])
    assert decision is not None and decision.action is AaaAction.RETRY


@pytest.mark.parametrize(("follow_up", "days"), [("W", 30), ("X", 10)])
def test_wait_codes_reschedule_after_their_days(follow_up: str, days: int) -> None:
    decision = decide([aaa("42", follow_up)])
    assert decision is not None and decision.action is AaaAction.WAIT
    assert decision.wait == timedelta(days=days)


@pytest.mark.parametrize(
    ("code", "fields"),
    [("72", ("member_id",)), ("73", ("name",)), ("71", ("birth_date",)), ("58", ("birth_date",))],
)
def test_correct_and_resubmit_says_which_member_data_to_fix(code: str, fields: tuple[str, ...]) -> None:
    decision = decide([aaa(code, "C")])
    assert decision is not None and decision.action is AaaAction.CORRECT
    assert decision.corrections == fields
    assert "correct" in decision.message and fields[0] in decision.message


@pytest.mark.parametrize("follow_up", ["N", "S", "Y"])
def test_do_not_resubmit_stops(follow_up: str) -> None:
    decision = decide([aaa("75", follow_up)])
    assert decision is not None and decision.action is AaaAction.STOP


def test_without_a_follow_up_the_reason_decides() -> None:
    assert decide([aaa("42")]).action is AaaAction.RETRY  # type: ignore[union-attr]
    assert decide([aaa("73")]).action is AaaAction.CORRECT  # type: ignore[union-attr]
    assert decide([aaa("41")]).action is AaaAction.STOP  # type: ignore[union-attr]


def test_the_worst_of_several_rejections_wins() -> None:
    decision = decide([aaa("42", "R"), aaa("73", "C")])
    assert decision is not None and decision.action is AaaAction.CORRECT
    assert decide([]) is None


# ------------------------------------------------------------------ coverage changes


def found(**fields: object) -> BenefitSummary:
    values: dict[str, object] = {
        "status": EligibilityStatus.ACTIVE,
        "plan_name": "SYNTHETIC PPO",
        "group_number": "GRP00001",
    }
    values.update(fields)
    return BenefitSummary.model_validate(values)


def changes(previous: BenefitSummary | None, current: BenefitSummary) -> list[CoverageChange]:
    return [c.change for c in detect_changes(previous, current)]


def test_no_change_no_event() -> None:
    assert changes(found(), found()) == []


def test_a_terminated_coverage_is_a_change_with_its_end_date() -> None:
    current = found(
        status=EligibilityStatus.INACTIVE, plan_period=Period(start=date(2024, 1, 1), end=date(2025, 2, 28))
    )
    detected = detect_changes(found(), current)
    assert [(c.change, c.effective_date) for c in detected] == [
        (CoverageChange.TERMINATED, date(2025, 2, 28))
    ]


def test_a_new_plan_is_a_change() -> None:
    assert changes(found(), found(plan_name="SYNTHETIC HMO", group_number="GRP00002")) == [
        CoverageChange.PLAN_CHANGED
    ]


def test_another_payer_named_for_the_first_time_is_found() -> None:
    assert changes(None, found(other_payer=OtherPayer(name="MINDFUL BH"))) == [
        CoverageChange.OTHER_PAYER_FOUND
    ]


def test_a_changed_payer_order_is_a_resequence() -> None:
    before = found(other_payer=OtherPayer(name="MINDFUL BH", priority=CoveragePriority.SECONDARY))
    after = found(other_payer=OtherPayer(name="MINDFUL BH", priority=CoveragePriority.PRIMARY))
    assert changes(before, after) == [CoverageChange.RESEQUENCED]


def test_a_member_no_longer_found_and_a_failed_check_say_different_things() -> None:
    assert changes(found(), found(status=EligibilityStatus.NOT_FOUND)) == [CoverageChange.NOT_FOUND]
    assert changes(found(), found(status=EligibilityStatus.ERROR)) == []


def test_a_reactivated_coverage_is_activated() -> None:
    assert changes(found(status=EligibilityStatus.INACTIVE), found()) == [CoverageChange.ACTIVATED]


# ------------------------------------------------------------------ cache and schedule


def request(**fields: object) -> InquiryRequest:
    values: dict[str, object] = {
        "trace": "elig-1",
        "payer_name": "SYNTHETIC HEALTH PLAN",
        "payer_electronic_id": "SYNP0001",
        "provider_name": "SYNTHETIC COUNSELING GROUP",
        "provider_npi": "1000000004",
        "member_id": "SYN000001",
        "subscriber": Person("TEST", "PATIENT 0001", date(1990, 1, 2), "U"),
        "service_date": date(2025, 3, 3),
    }
    values.update(fields)
    return InquiryRequest(**values)  # type: ignore[arg-type]


def test_the_same_request_has_the_same_key_whatever_its_trace() -> None:
    assert fingerprint_of(request()) == fingerprint_of(request(trace="elig-2"))
    assert fingerprint_of(request()) != fingerprint_of(request(member_id="SYN000002"))
    key = cache_key(patient_id="pat-1", payer_id="payer-1", service_date=date(2025, 3, 3), fingerprint="f")
    assert "SYN000001" not in key


def test_a_result_is_fresh_within_the_window_and_after_the_request() -> None:
    at = datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert is_fresh(at, now=at + timedelta(hours=11), window=timedelta(hours=12))
    assert not is_fresh(at, now=at + timedelta(hours=13), window=timedelta(hours=12))
    assert not is_fresh(at, now=at, window=timedelta(hours=12), not_before=at + timedelta(seconds=1))


def test_the_night_before_is_local_to_the_patient() -> None:
    visit = datetime(2025, 3, 3, 10, tzinfo=ZoneInfo("America/New_York"))
    due = night_before(visit, hour=19, zone="America/Los_Angeles")
    assert due == datetime(2025, 3, 2, 19, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_the_first_visit_of_a_month() -> None:
    assert first_visit_of_month(date(2025, 3, 3), [date(2025, 2, 24), date(2025, 3, 10)])
    assert not first_visit_of_month(date(2025, 3, 10), [date(2025, 3, 3)])


# ------------------------------------------------------------------ the 270


def test_the_270_asks_for_mental_health_substance_use_and_plan_coverage() -> None:
    x12 = build_270(
        request(),
        sender_id="PRACTICE01",
        receiver_id="SANDBOXCH",
        interchange_control_number=7,
        created=datetime(2025, 3, 1, 12, 0),
    )
    assert [f for f in validate(x12) if f.severity.value == "error"] == []
    segments = [s for tx in read(x12).transactions for s in _segments(tx.root)]
    eqs = [s.get(1) for s in segments if s.id == "EQ"]
    assert eqs == ["MH", "AI", "30"]
    assert any(s.id == "DTP" and s.get(1) == "291" and s.get(3) == "20250303" for s in segments)
    assert any(s.id == "NM1" and s.get(1) == "IL" and s.get(9) == "SYN000001" for s in segments)


def test_a_name_as_people_write_it_is_asked_about_as_x12_can_carry_it() -> None:
    # accents, a tilde (the segment terminator) and a tab would otherwise be refused or break the file
    named = request(subscriber=Person("Zoë", "Núñez~O'Brien\tSr", date(1990, 1, 2), "U"))
    x12 = build_270(
        named,
        sender_id="PRACTICE01",
        receiver_id="SANDBOXCH",
        interchange_control_number=7,
        created=datetime(2025, 3, 1, 12, 0),
    )
    assert [f for f in validate(x12) if f.severity.value == "error"] == []
    (nm1,) = [
        s for tx in read(x12).transactions for s in _segments(tx.root) if s.id == "NM1" and s.get(1) == "IL"
    ]
    assert (nm1.get(3), nm1.get(4)) == ("NUNEZ O'BRIEN SR", "ZOE")
    # the practice's and the payer's names too
    clinic = request(provider_name="Clínica Salud Mental", payer_name="Salud Plan Médico")
    x12 = build_270(
        clinic,
        sender_id="PRACTICE01",
        receiver_id="SANDBOXCH",
        interchange_control_number=8,
        created=datetime(2025, 3, 1, 12, 0),
    )
    names = {s.get(1): s.get(3) for tx in read(x12).transactions for s in _segments(tx.root) if s.id == "NM1"}
    assert (names["1P"], names["PR"]) == ("CLINICA SALUD MENTAL", "SALUD PLAN MEDICO")


def test_a_dependent_is_asked_about_at_the_dependent_level() -> None:
    x12 = build_270(
        request(dependent=Person("CHILD", "PATIENT 0001", date(2015, 5, 5))),
        sender_id="PRACTICE01",
        receiver_id="SANDBOXCH",
        interchange_control_number=8,
        created=datetime(2025, 3, 1, 12, 0),
    )
    assert "HL*4*3*23*0" in x12 and "NM1*03*1*PATIENT 0001*CHILD" in x12


def _segments(loop):  # type: ignore[no-untyped-def]
    yield from loop.segments
    for child in loop.loops:
        yield from _segments(child)


def test_the_event_tells_the_front_desk_which_member_data_to_correct() -> None:
    from rcm.eligibility.checker import CheckOutcome
    from rcm.eligibility.domain.benefits import BenefitSummary
    from rcm.eligibility.handlers import _follow_up

    summary = BenefitSummary(status=EligibilityStatus.NOT_FOUND)
    follow_up = _follow_up(CheckOutcome(summary=summary, decision=decide([aaa("72", "C"), aaa("73", "C")])))
    assert follow_up is not None
    assert follow_up.action == "correct"
    assert follow_up.corrections == ["member_id", "name"]
    assert follow_up.wait_days is None
    waiting = _follow_up(CheckOutcome(summary=summary, decision=decide([aaa("42", "W")])))
    assert waiting is not None and (waiting.action, waiting.wait_days) == ("wait", 30)
    assert _follow_up(CheckOutcome(summary=summary)) is None


async def test_a_check_whose_270_cannot_be_written_fails_alone_without_asking_the_payer() -> None:
    # a member id pasted with a character outside X12's set: nothing is sent, the check is an error
    settings = ClearinghouseSettings(
        submitter_id="PRACTICE01",
        core=CoreEndpoint(
            url="http://127.0.0.1:9/core",
            sender_id="PRACTICE01",
            receiver_id="SANDBOXCH",
            username="u",
            password="p",
        ),
    )
    checker = Checker(settings)
    try:
        outcome = await checker._ask(request(member_id="SYN\u2013000001"), PayerPolicy(), cache_key="k")
    finally:
        await checker.aclose()
    assert (outcome.summary.status, outcome.failure) == (EligibilityStatus.ERROR, "Unwritable270")


class _ReplyingCore:
    """A stand-in for the CORE client that fails every exchange with one transport error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def eligibility(self, payer_id: str, x12_270: str) -> object:
        raise self.error

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (UnreadablePayload("CORE reply holds no payload", reason="empty"), "UnreadablePayload"),
        (UnreadablePayload("CORE reply payload is not X12", reason="not_x12"), "UnreadablePayload"),
        (
            RejectedPayload("CORE reply carries 999", transaction="999", error_codes=["IK501:R"]),
            "RejectedPayload",
        ),
    ],
)
async def test_a_reply_that_is_not_a_271_is_a_failed_check_with_its_reason(
    error: Exception, failure: str
) -> None:
    settings = ClearinghouseSettings(
        submitter_id="PRACTICE01",
        core=CoreEndpoint(
            url="http://127.0.0.1:9/core",
            sender_id="PRACTICE01",
            receiver_id="SANDBOXCH",
            username="u",
            password="p",
        ),
    )
    checker = Checker(settings, core=_ReplyingCore(error))  # type: ignore[arg-type]
    try:
        outcome = await checker._ask(request(), PayerPolicy(), cache_key="k")
    finally:
        await checker.aclose()
    assert (outcome.summary.status, outcome.failure, outcome.retry_later) == (
        EligibilityStatus.ERROR,
        failure,
        False,
    )
