"""A 999 whose AK9 rejects the functional group (AK901 R, M, W or X) rejects every transaction
set of it: a set its IK5 accepts goes with the group, and a group rejected without naming its
sets (no AK2 loop) takes down every claim sent in it."""

from __future__ import annotations

import pytest
from claims_direct import acknowledgements, handlers, in_batch, one, received, submitted_claims
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.acknowledgements import GROUP_CLAIMS, read_999
from rcm.events.models import AckStatus
from rcm.servicekit.testing import sequential_scans

ISA = "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*000000011*0*P*:~"


def _999(group: str, body: str, ak9: str) -> bytes:
    segments = [
        "ST*999*0001*005010X231A1",
        f"AK1*HC*{group}*005010X222A1",
        *filter(None, body.split("~")),
        ak9,
    ]
    text = (
        ISA
        + "GS*FA*SANDBOXCH*PRACTICE01*20250303*1200*11*X*005010X231A1~"
        + "~".join(segments)
        + f"~SE*{len(segments) + 1}*0001~GE*1*11~IEA*1*000000011~"
    )
    return text.encode()


@pytest.mark.unit
def test_a_set_accepted_on_its_own_is_rejected_with_its_group() -> None:
    content = _999("42", "AK2*837*0001*005010X222A1~IK5*A~", "AK9*R*2*1*1*5")
    [verdict] = read_999(content)
    assert (verdict.group_control_number, verdict.set_control_number, verdict.status) == (
        "42",
        "0001",
        AckStatus.REJECTED,
    )
    assert [r.code for r in verdict.reasons] == ["AK9:5"]


@pytest.mark.unit
def test_a_group_rejected_without_an_ak2_is_one_verdict_for_all_its_sets() -> None:
    [verdict] = read_999(_999("42", "", "AK9*R*3*3*0*2"))
    assert (verdict.group_control_number, verdict.set_control_number, verdict.status) == (
        "42",
        "",
        AckStatus.REJECTED,
    )
    assert [r.code for r in verdict.reasons] == ["AK9:2"]


@pytest.mark.unit
def test_a_partly_accepted_group_keeps_each_set_s_own_verdict() -> None:
    body = "AK2*837*0001*005010X222A1~IK5*A~AK2*837*0002*005010X222A1~IK5*R*5~"
    accepted, rejected = read_999(_999("42", body, "AK9*P*2*2*1"))
    assert (accepted.status, rejected.status) == (AckStatus.ACCEPTED, AckStatus.REJECTED)
    assert not accepted.reasons and [r.code for r in rejected.reasons] == ["IK5:5"]


async def test_a_999_rejecting_the_group_without_naming_sets_holds_every_claim_of_it(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    made = await submitted_claims(engine, h, 3, member="EVG20000000")
    await in_batch(engine, "bat-group-1", "8801", {made[0].claim_id: "0001", made[1].claim_id: "0002"})
    await in_batch(engine, "bat-group-2", "8802", {made[2].claim_id: "0001"})

    await acknowledgements(engine, h).handle(received("group.999", "999", _999("8801", "", "AK9*R*2*2*0*5")))
    for row in made[:2]:
        held = await one(engine, row.claim_id)
        assert held.state == "held"
        assert any("AK9:5" in h["message"] for h in held.hold_reasons)
    assert (await one(engine, made[2].claim_id)).state == "submitted"  # another group


async def test_a_group_s_claims_are_found_through_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await sequential_scans(conn, GROUP_CLAIMS) == []
