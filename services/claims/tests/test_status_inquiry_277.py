"""How a 277 claim status response (005010X212) answering our 276 is read and applied.

Every 2200D claim status whose TRN*2 echoes the inquiry's trace is ours (a payer that split the
claim sends one per part); every composite of their STC segments, claim and line level, is
read and the most actionable decides; REF*1K are the payer's claim numbers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from claims_direct import AckService, apply, force, handlers, one, rows, trail
from claims_world import reference, session
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.domain import ClaimState
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.status_inquiry import StatusInquiry, answer_of_277, state_of_277
from rcm.claims.store import claim_audit
from rcm.events import testing as f
from rcm.x12.errors import X12Error


def x277(*tracking: str) -> str:
    """A one-claim 277 (005010X212) with the 2200D segments ``tracking`` (synthetic parties)."""
    body = [
        "ST*277*0001*005010X212",
        "BHT*0010*08*INQ1*20250301*1200*DG",
        "HL*1**20*1",
        "NM1*PR*2*SYNTHETIC PAYER*****PI*SYNPAYER",
        "HL*2*1*21*1",
        "NM1*41*2*SUBMITTER*****46*SUBM01",
        "HL*3*2*19*1",
        "NM1*1P*2*SYNTHETIC CLINIC*****XX*1234567893",
        "HL*4*3*22*0",
        "NM1*IL*1*MEMBER*SAM****MI*SYN000000001",
        *tracking,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    isa = (
        "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SUBM01         "
        "*250301*1200*^*00501*000000001*0*P*:"
    )
    segments = [isa, "GS*HN*RECEIVER*SUBM01*20250301*1200*1*X*005010X212", *body, "GE*1*1", "IEA*1*000000001"]
    return "~".join(segments) + "~"


@pytest.mark.unit
def test_a_277_about_another_claims_trace_is_not_applied() -> None:
    content = x277("TRN*2*OTHERCLAIM", "STC*F1:65*20250301**150.00*120.00", "REF*1K*PCN000777")
    assert answer_of_277(content, trace="CLAIM0001") is None
    assert state_of_277(content, trace="CLAIM0001") is None


@pytest.mark.unit
def test_the_answer_for_our_trace_is_read_among_several_claims() -> None:
    content = x277(
        "TRN*2*OTHERCLAIM",
        "STC*F2:85*20250301**150.00*0.00",
        "TRN*2*CLAIM0001",
        "STC*P1:20*20250301",
    )
    assert state_of_277(content, trace="CLAIM0001") is ClaimState.PENDED


@pytest.mark.unit
def test_every_composite_and_every_claim_level_stc_is_read() -> None:
    # STC01 carries an acknowledgement, STC10 the finalized payment
    content = x277(
        "TRN*2*CLAIM0001",
        "STC*A2:20*20250301**150.00*120.00*20250228**20250301*CHK0001*F1:65",
        "REF*1K*PCN000777",
    )
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None
    assert answer.categories == ("A2", "F1")
    assert answer.state is ClaimState.PAID
    assert answer.payer_claim_number == "PCN000777"


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A1", "A2", "E0", "E1", "E2", "F0", "F3", "F4"])
def test_statuses_that_do_not_settle_or_pend_the_claim_move_nothing(category: str) -> None:
    content = x277("TRN*2*CLAIM0001", f"STC*{category}:0*20250301")
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None
    assert answer.state is None


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A3", "A6", "A7", "A8"])
def test_a_claim_the_payer_rejected_is_reported_rejected(category: str) -> None:
    content = x277("TRN*2*CLAIM0001", f"STC*{category}:21:IL*20250301")
    assert state_of_277(content, trace="CLAIM0001") is ClaimState.REJECTED


@pytest.mark.unit
@pytest.mark.parametrize("category", ["A4", "D0"])
def test_a_claim_the_payer_cannot_find_is_told_apart(category: str) -> None:
    answer = answer_of_277(x277("TRN*2*CLAIM0001", f"STC*{category}:35*20250301"), trace="CLAIM0001")
    assert answer is not None
    assert answer.not_found and answer.state is ClaimState.REJECTED
    # a status the payer acts on, reported first, is the answer
    paid = answer_of_277(
        x277("TRN*2*CLAIM0001", "STC*F1:65*20250301**150.00*120.00", f"STC*{category}:35*20250301"),
        trace="CLAIM0001",
    )
    assert paid is not None and not paid.not_found and paid.state is ClaimState.PAID


@pytest.mark.unit
def test_a_malformed_value_in_another_claims_status_does_not_hide_ours() -> None:
    content = x277(
        "TRN*2*OTHERCLAIM",
        "STC*F2:85*20250301**150.00*0.00",
        "DTP*472*D8*20251340",
        "TRN*2*CLAIM0001",
        "STC*P1:20*20250301",
    )
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None and answer.state is ClaimState.PENDED


@pytest.mark.unit
def test_a_4010_277_is_not_read_with_the_5010_rules() -> None:
    content = x277("TRN*2*CLAIM0001", "STC*F1:65*20250301**150.00*120.00").replace(
        "*005010X212", "*004010X093A1"
    )
    with pytest.raises(X12Error, match=r"not 005010|no typed model for transaction set 277 \(004010X093A1\)"):
        answer_of_277(content, trace="CLAIM0001")


# A payer that split the claim answers with one 2200D per part, each echoing our trace and
# carrying its own ICN (REF*1K); several STCs and the 2220D service lines are read too.


@pytest.mark.unit
def test_a_split_claim_half_paid_and_half_denied_is_partially_paid_with_every_payer_claim_number() -> None:
    content = x277(
        "TRN*2*CLAIM0001",
        "STC*F1:65*20250301**100.00*80.00",
        "REF*1K*PCN000001",
        "TRN*2*CLAIM0001",
        "STC*F2:88*20250301**50.00*0.00",
        "REF*1K*PCN000002",
    )
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None
    assert answer.statuses == ("F1:65", "F2:88")
    assert answer.state is ClaimState.PARTIALLY_PAID
    assert answer.payer_claim_numbers == ("PCN000001", "PCN000002")
    assert answer.payer_claim_number == "PCN000001"  # the claim holds one: the first


@pytest.mark.unit
@pytest.mark.parametrize(
    ("first", "second", "state"),
    [
        # a finalized denial is worked now, whatever still pends
        ("F2:88", "P1:20", ClaimState.DENIED),
        ("P1:20", "F2:88", ClaimState.DENIED),
        # a part paid while another pends is not settled
        ("F1:65", "P1:20", ClaimState.PENDED),
        ("P3:20", "F1:65", ClaimState.PENDED),
        ("F1:65", "F1:65", ClaimState.PAID),
        # a rejected part beside an adjudicated one moves nothing to rejected
        ("F1:65", "A7:21", ClaimState.PAID),
        ("A3:21", "P1:20", ClaimState.PENDED),
        ("A7:21", "A4:35", ClaimState.REJECTED),
        ("F0:3", "F4:65", None),
    ],
)
def test_the_most_actionable_part_of_a_split_claim_is_its_state(
    first: str, second: str, state: ClaimState | None
) -> None:
    content = x277(
        "TRN*2*CLAIM0001",
        f"STC*{first}*20250301",
        "REF*1K*PCN000001",
        "TRN*2*CLAIM0001",
        f"STC*{second}*20250301",
        "REF*1K*PCN000002",
    )
    assert state_of_277(content, trace="CLAIM0001") is state


@pytest.mark.unit
def test_several_stcs_of_one_claim_are_combined_not_only_the_first() -> None:
    answer = answer_of_277(
        x277("TRN*2*CLAIM0001", "STC*F1:65*20250301", "STC*F2:96*20250301", "REF*1K*PCN000001"),
        trace="CLAIM0001",
    )
    assert answer is not None and answer.state is ClaimState.PARTIALLY_PAID
    assert answer.payer_claim_numbers == ("PCN000001",)


@pytest.mark.unit
def test_a_denied_service_line_of_a_paid_claim_makes_it_partially_paid() -> None:
    content = x277(
        "TRN*2*CLAIM0001",
        "STC*F1:65*20250301**250.00*120.00",
        "REF*1K*PCN000001",
        "SVC*HC:90837*150.00*120.00****1",
        "STC*F1:65*20250301",
        "REF*FJ*1",
        "SVC*HC:90785*100.00*0.00****1",
        "STC*F2:88*20250301",
        "REF*FJ*2",
    )
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None
    assert answer.statuses == ("F1:65",)
    assert answer.line_statuses == ("F1:65", "F2:88")
    assert answer.state is ClaimState.PARTIALLY_PAID


@pytest.mark.unit
def test_a_claim_the_payer_cannot_find_in_one_part_but_pends_in_another_is_not_sent_again() -> None:
    content = x277("TRN*2*CLAIM0001", "STC*A4:35*20250301", "TRN*2*CLAIM0001", "STC*P1:20*20250301")
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None
    assert answer.state is ClaimState.PENDED and not answer.not_found


class _Core:
    """The CORE real-time client: answers every 276 with ``payload``."""

    def __init__(self, payload: str) -> None:
        self.payload = payload
        self.asked: list[str] = []
        self.payers: list[str] = []

    async def claim_status(self, payer_id: str, x12: str) -> Any:
        self.asked.append(x12)
        self.payers.append(payer_id)
        return SimpleNamespace(payload=self.payload)


async def _aged_claim(engine: AsyncEngine, state: ClaimState, now: datetime) -> Any:
    await apply(
        engine, handlers(), *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1)
    )
    (row,) = await rows(engine)
    await force(engine, row.claim_id, state=state.value, submitted_at=now - timedelta(days=40))
    return await one(engine, row.claim_id)


async def test_an_unmatched_277_changes_nothing_but_the_check_time(engine: AsyncEngine) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.SUBMITTED, now)
    core = _Core(x277("TRN*2*OTHERCLAIM", "STC*F2:85*20250301**150.00*0.00", "REF*1K*PCN000999"))
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    assert await inquiry.run_once(core, now=now) == 1  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert after.state == ClaimState.SUBMITTED.value
    assert after.payer_claim_number is None
    assert after.status_checked_at == now


async def test_an_unreadable_277_changes_nothing_but_the_check_time(engine: AsyncEngine) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.SUBMITTED, now)
    core = _Core("<html>gateway error</html>")  # no interchange: X12Error, caught
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    assert await inquiry.run_once(core, now=now) == 1  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert (after.state, after.status_checked_at) == (ClaimState.SUBMITTED.value, now)


async def test_the_payer_claim_number_of_a_pended_answer_is_kept(engine: AsyncEngine) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.ACCEPTED, now)
    key = row.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*P1:20*20250301", "REF*1K*PCN000123"))
    metrics = ClaimsMetrics(CollectorRegistry())
    inquiry = StatusInquiry(
        AckService(engine),  # type: ignore[arg-type]
        submitter_id="S",
        receiver_id="R",
        after=timedelta(days=30),
        metrics=metrics,
    )
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert after.state == ClaimState.PENDED.value
    assert after.payer_claim_number == "PCN000123"
    assert metrics.status_inquiries.labels(result="answered")._value.get() == 1


async def test_a_pended_claim_is_asked_about_again_once_aged_and_the_277_moves_it(
    engine: AsyncEngine,
) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.PENDED, now)
    await force(engine, row.claim_id, status_checked_at=now - timedelta(days=31))
    key = row.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*F2:85*20250301**150.00*0.00", "REF*1K*PCN000456"))
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    assert await inquiry.run_once(core, now=now) == 1  # type: ignore[arg-type]
    assert (await one(engine, row.claim_id)).state == ClaimState.DENIED.value
    assert (ClaimState.PENDED.value, ClaimState.DENIED.value) in await trail(engine, row.claim_id)


async def test_a_claim_a_277_reports_rejected_waits_for_a_fix_with_the_status_as_reason(
    engine: AsyncEngine,
) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.ACCEPTED, now)
    key = row.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*A7:164:IL*20250301**150.00"))
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert after.state == ClaimState.HELD.value
    assert [r["message"] for r in after.hold_reasons] == ["277 claim status rejected: A7:164"]
    assert (await trail(engine, row.claim_id))[-2:] == [
        (ClaimState.ACCEPTED.value, ClaimState.REJECTED.value),
        (ClaimState.REJECTED.value, ClaimState.HELD.value),
    ]


async def test_an_aged_claim_the_payer_has_no_record_of_is_held_to_be_sent_again(engine: AsyncEngine) -> None:
    # accepted by the clearinghouse 40 days ago, unknown to the payer: it will never be paid as is
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.ACCEPTED, now)
    key = row.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*A4:35*20250301**150.00"))
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert after.state == ClaimState.HELD.value
    assert [r["message"] for r in after.hold_reasons] == [
        "277 the payer has no record of the claim: A4:35; send it again as an original"
    ]


async def test_a_split_claim_paid_in_part_and_denied_in_part_moves_to_partially_paid(
    engine: AsyncEngine,
) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.ACCEPTED, now)
    key = row.draft["claim_key"]
    core = _Core(
        x277(
            f"TRN*2*{key}",
            "STC*F1:65*20250301**100.00*80.00",
            "REF*1K*PCN000001",
            f"TRN*2*{key}",
            "STC*F2:88*20250301**50.00*0.00",
            "REF*1K*PCN000002",
        )
    )
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert after.state == ClaimState.PARTIALLY_PAID.value
    assert after.payer_claim_number == "PCN000001"


async def test_a_rejected_part_beside_a_pending_part_is_not_held(engine: AsyncEngine) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.ACCEPTED, now)
    key = row.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*P1:20*20250301", f"TRN*2*{key}", "STC*A7:164:IL*20250301"))
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert after.state == ClaimState.PENDED.value
    assert not after.hold_reasons


# ------------------------------------------------------------------ category R: information requested


@pytest.mark.unit
@pytest.mark.parametrize("category", ["R0", "R1", "R3", "R4", "R5", "R9", "R11", "R16"])
def test_a_request_for_additional_information_pends_the_claim_and_says_what_is_asked(category: str) -> None:
    answer = answer_of_277(x277("TRN*2*CLAIM0001", f"STC*{category}:294:1P*20250301"), trace="CLAIM0001")
    assert answer is not None
    assert answer.state is ClaimState.PENDED
    assert [(r.status, r.line_key) for r in answer.requests] == [(f"{category}:294:1P", None)]
    assert "request" in answer.requests[0].meaning or "documents" in answer.requests[0].meaning


@pytest.mark.unit
def test_a_service_lines_request_names_the_line_and_a_denial_beside_it_still_decides() -> None:
    content = x277(
        "TRN*2*CLAIM0001",
        "STC*A2:20*20250301**250.00",
        "SVC*HC:90837*150.00*0.00****1",
        "STC*R4:294*20250301",
        "REF*FJ*ses-0001:1",
        "SVC*HC:90785*100.00*0.00****1",
        "STC*F2:88*20250301",
        "REF*FJ*ses-0001:2",
    )
    answer = answer_of_277(content, trace="CLAIM0001")
    assert answer is not None
    assert [(r.status, r.line_key) for r in answer.requests] == [("R4:294", "ses-0001:1")]
    assert answer.state is ClaimState.DENIED  # the denied line is worked now
    paid_beside = x277("TRN*2*CLAIM0001", "STC*F1:65*20250301**150.00*120.00", "STC*R9:21*20250301")
    assert state_of_277(paid_beside, trace="CLAIM0001") is ClaimState.PENDED  # not settled yet


async def _published(engine: AsyncEngine, ce_type: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT value, headers FROM kit_outbox ORDER BY id"))
        return [json.loads(bytes(value)) for value, headers in found if dict(headers)["ce_type"] == ce_type]


async def test_a_277_requesting_documentation_pends_the_claim_and_tells_the_denials_service_what_is_asked(
    engine: AsyncEngine,
) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.ACCEPTED, now)
    key = row.draft["claim_key"]
    line = row.draft["lines"][0]["line_key"]
    core = _Core(
        x277(
            f"TRN*2*{key}",
            "STC*R4:294:1P*20250301**150.00",
            "REF*1K*PCN000321",
            "SVC*HC:90837*150.00*0.00****1",
            "STC*R5:21*20250301",
            f"REF*FJ*{line}",
        )
    )
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    after = await one(engine, row.claim_id)
    assert (after.state, after.payer_claim_number) == (ClaimState.PENDED.value, "PCN000321")
    async with engine.connect() as conn:
        reason = await conn.scalar(
            sa.select(claim_audit.c.reason)
            .where(claim_audit.c.claim_id == row.claim_id, claim_audit.c.to_state == "pended")
            .order_by(claim_audit.c.id.desc())
            .limit(1)
        )
    assert reason is not None and "R4:294:1P" in reason and "R5:21" in reason
    (event,) = await _published(engine, "rcm.claim-acknowledged.v1")
    assert (event["source"], event["status"]) == ("277", "information_requested")
    assert [r["code"] for r in event["reasons"]] == ["R4:294:1P"]
    assert "documentation" in event["reasons"][0]["description"]
    assert [(ln["line_key"], ln["status"], [r["code"] for r in ln["reasons"]]) for ln in event["lines"]] == [
        (line, "information_requested", ["R5:21"])
    ]
    assert event["payer_claim_number"] == "PCN000321"
    assert "SAM" not in json.dumps(event) and "SYN000000001" not in json.dumps(event)  # no member data


async def test_a_pended_claim_asked_for_information_stays_pended_with_the_request_on_its_trail(
    engine: AsyncEngine,
) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.PENDED, now)
    key = row.draft["claim_key"]
    core = _Core(x277(f"TRN*2*{key}", "STC*R9:21:1P*20250301"))
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(core, now=now)  # type: ignore[arg-type]
    assert (await one(engine, row.claim_id)).state == ClaimState.PENDED.value
    assert (await trail(engine, row.claim_id))[-1] == (ClaimState.PENDED.value, ClaimState.PENDED.value)
    (event,) = await _published(engine, "rcm.claim-acknowledged.v1")
    assert [r["code"] for r in event["reasons"]] == ["R9:21:1P"]
    assert "medical necessity" in event["reasons"][0]["description"]
    # an answer with no request publishes nothing
    await force(engine, row.claim_id, status_checked_at=now - timedelta(days=31))
    later = now + timedelta(days=1)
    inquiry = StatusInquiry(AckService(engine), submitter_id="S", receiver_id="R", after=timedelta(days=30))  # type: ignore[arg-type]
    await inquiry.run_once(_Core(x277(f"TRN*2*{key}", "STC*P1:20*20250301")), now=later)  # type: ignore[arg-type]
    assert len(await _published(engine, "rcm.claim-acknowledged.v1")) == 1


async def test_a_payer_the_clearinghouse_knows_by_its_own_id_is_asked_about_by_it(
    engine: AsyncEngine,
) -> None:
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    row = await _aged_claim(engine, ClaimState.SUBMITTED, now)
    # the payer's record now says how this clearinghouse (and another) names it
    await apply(
        engine,
        handlers(),
        f.payer_updated(
            1, electronic_payer_id="EVRGRN", clearinghouse_payer_ids={"synthetic-ch": "CH777", "x": "X1"}
        ),
    )
    core = _Core(x277("TRN*2*OTHERCLAIM", "STC*F2:85*20250301**150.00*0.00"))
    inquiry = StatusInquiry(  # type: ignore[arg-type]
        AckService(engine),
        submitter_id="S",
        receiver_id="R",
        after=timedelta(days=30),
        clearinghouse="synthetic-ch",
    )
    assert await inquiry.run_once(core, now=now) == 1  # type: ignore[arg-type]
    assert core.payers == ["CH777"]
    assert "*PI*CH777~" in core.asked[0]
    assert (await one(engine, row.claim_id)).status_checked_at == now
