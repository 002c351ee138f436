"""What a denial waiting for a re-check becomes, for each answer the payer can give."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from test_overlapping_batches import PAYER, apply, handlers

from rcm.denials import store
from rcm.denials.domain.facts import CoverageOnFile
from rcm.denials.domain.playbook import Action
from rcm.denials.handlers import recheck_answer
from rcm.events.models import CoveragePriority
from rcm.events.testing import (
    claim_created,
    coverage_updated,
    eligibility_checked,
    payer_updated,
    remit_received,
)
from rcm.servicekit.db import outbox

DOS = date(2025, 3, 3)
OTHER = CoverageOnFile("cov-b", "payer-b", CoveragePriority.SECONDARY, start=date(2025, 1, 1))
ENDED = CoverageOnFile(
    "cov-c", "payer-c", CoveragePriority.SECONDARY, start=date(2024, 1, 1), end=date(2024, 12, 31)
)


def _answer(status: str, **fields: object) -> object:
    return eligibility_checked(
        1, status=status, service_date=DOS, trigger="recheck", request_id="req-1", **fields
    )


@pytest.mark.unit
@pytest.mark.parametrize("carc", ["26", "27", "31", "32", "33", "177", "200"])
def test_active_without_another_payer_is_appealed_with_the_271(carc: str) -> None:
    # coverage not in force on the date of service (before it began, after it ended, a lapse, not
    # an eligible member or dependent): the payer's own 271 saying "active" contradicts it
    action, step, why = recheck_answer(_answer("active"), [OTHER], carc=carc)  # type: ignore[arg-type]
    assert action is Action.APPEAL and "reprocess" in step and "contradicting" in why


@pytest.mark.unit
@pytest.mark.parametrize("carc", ["109", "22", "24", "140", "16", None])
def test_active_does_not_answer_a_denial_naming_another_payer_plan_or_the_members_data(
    carc: str | None,
) -> None:
    # 109 "not covered by this payer", 22 "another payer per COB", 24 "covered by a capitation or
    # managed care plan", 140 "name and id do not match", 16 with MA27, CLP02 23 (no CARC): a member
    # active with this payer stands beside each; a person finds the payer responsible, no appeal
    action, step, why = recheck_answer(_answer("active"), [OTHER], carc=carc)  # type: ignore[arg-type]
    assert action is Action.HUMAN_REVIEW
    assert "payer responsible" in step and "does not contradict" in why


@pytest.mark.unit
def test_active_naming_another_payer_is_a_cob_question() -> None:
    e = _answer("active", other_payer={"name": "SYNTHETIC BH PARTNERS"})
    action, step, _ = recheck_answer(e, [], carc="27")  # type: ignore[arg-type]
    assert action is Action.HUMAN_REVIEW and "SYNTHETIC BH PARTNERS" in step and "first" in step


@pytest.mark.unit
def test_inactive_names_only_a_coverage_in_force_that_day() -> None:
    _, step, _ = recheck_answer(_answer("inactive"), [ENDED, OTHER], carc="27")  # type: ignore[arg-type]
    assert "cov-b" in step and "cov-c" not in step
    _, step, _ = recheck_answer(_answer("inactive"), [ENDED], carc="27")  # type: ignore[arg-type]
    assert "on file" not in step and "the patient" in step


@pytest.mark.unit
def test_not_found_names_the_fields_to_correct() -> None:
    e = _answer(
        "not_found",
        aaa_follow_up={"action": "correct", "corrections": ["member_id", "birth_date"], "message": "fix"},
    )
    action, step, _ = recheck_answer(e, [], carc="31")  # type: ignore[arg-type]
    assert action is Action.HUMAN_REVIEW and "member_id, birth_date" in step


@pytest.mark.unit
def test_no_answer_sends_a_person_to_the_portal() -> None:
    action, step, why = recheck_answer(
        _answer("error", aaa_follow_up={"action": "stop", "message": "do not resubmit"}),
        [],  # type: ignore[arg-type]
        carc="27",
    )
    assert action is Action.HUMAN_REVIEW and "portal" in step and "do not resubmit" in why


async def test_an_active_answer_appeals_only_the_denial_it_contradicts(engine: AsyncEngine) -> None:
    # one claim, two lines: CO-27 (coverage terminated) and CO-109 with N418 (not this payer's, a
    # behavioral-health carve-out). The payer's 271 answers "active": the first denial is wrong,
    # the second stands beside an active member; a person finds the payer responsible
    first = claim_created(1).lines[0].model_dump(mode="json")
    second = {**first, "line_key": "ses-0001:2", "procedure_code": "90785", "charge": "25.00"}

    def denied_line(line: dict[str, Any], carc: str, rarcs: list[str]) -> dict[str, Any]:
        adjustment = {"group": "CO", "carc": carc, "amount": line["charge"]}
        keep = ("line_key", "procedure_code", "modifiers", "service_date", "charge")
        return {**{k: line[k] for k in keep}, "paid": "0.00", "adjustments": [adjustment], "rarcs": rarcs}

    denied = remit_received(
        1,
        payer_id=PAYER,
        status="4",
        paid="0.00",
        patient_responsibility="0.00",
        charge="195.00",
        lines=[denied_line(first, "27", []), denied_line(second, "109", ["N418"])],
    )
    h = handlers()
    async with engine.begin() as conn:
        await apply(
            conn,
            h,
            "setup",
            [
                payer_updated(1),
                coverage_updated(1, payer_id=PAYER),
                claim_created(1, payer_id=PAYER, lines=[first, second], total_charge="195.00"),
            ],
        )
    async with engine.begin() as conn:
        await apply(conn, h, "remit", [denied])
        asked = [
            json.loads(v)
            for v in await conn.scalars(
                sa.select(outbox.c.value).where(outbox.c.topic == "eligibility-recheck-requested")
            )
        ]
    assert len(asked) == 2  # one re-check per denied line
    answer = eligibility_checked(
        1,
        payer_id=PAYER,
        status="active",
        service_date=date(2025, 3, 3),
        trigger="recheck",
        request_id=asked[0]["request_id"],
    )
    async with engine.begin() as conn:
        await apply(conn, h, "answer", [answer])
        items: dict[str, Any] = {
            r.evidence["line_key"]: r for r in await conn.execute(sa.select(store.work_item))
        }
        carcs = dict((await conn.execute(sa.select(store.denial.c.carc, store.denial.c.action))).all())
    assert carcs == {"27": "appeal", "109": "human_review"}
    assert items["ses-0001:1"].action == "appeal" and "reprocess" in items["ses-0001:1"].next_step
    assert items["ses-0001:2"].action == "human_review" and items["ses-0001:2"].appeal_level is None
    assert "does not contradict CARC 109" in items["ses-0001:2"].reason
    assert "payer responsible" in items["ses-0001:2"].next_step
