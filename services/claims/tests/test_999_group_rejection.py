"""A 999 whose AK9 rejects the functional group (AK901 R, M, W or X) rejects every transaction
set of it: a set its IK5 accepts goes with the group, and a group rejected without naming its
sets (no AK2 loop) takes down every claim sent in it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import cast

import pytest
from claims_direct import AckService, apply, force, handlers, one, rows
from claims_world import reference, session
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.acknowledgements import GROUP_CLAIMS, Acknowledgements, read_999
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import batch, batch_claim, claim
from rcm.clearinghouse import ReceivedFile
from rcm.events.models import AckStatus
from rcm.servicekit import Service
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


async def _in_batch(engine: AsyncEngine, batch_id: str, group: str, sets: dict[str, str]) -> None:
    """A sent batch with group control number ``group``: claim id -> its ST02."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            batch.insert().values(
                batch_id=batch_id,
                submitter_id="PRACTICE01",
                payer_id="EVRGRN",
                interchange_control_number=f"{int(group):09d}",
                group_control_number=group,
                file_name=f"{batch_id}.837",
                content=b"",
                sha256="0" * 64,
                created_at=now,
                uploaded_at=now,
            )
        )
        await conn.execute(
            batch_claim.insert(),
            [
                {"claim_id": c, "attempt": 1, "batch_id": batch_id, "transaction_set_control_number": st02}
                for c, st02 in sets.items()
            ],
        )


async def test_a_999_rejecting_the_group_without_naming_sets_holds_every_claim_of_it(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    for n in range(1, 4):
        await apply(
            engine, h, *reference(n, electronic_payer_id="EVRGRN", member_id=f"EVG20000000{n}"), session(n)
        )
    made = [(await rows(engine, claim.c.session_id == f"ses-000{n}"))[0] for n in range(1, 4)]
    for row in made:
        await force(engine, row.claim_id, state="submitted", attempts=1)
    await _in_batch(engine, "bat-group-1", "8801", {made[0].claim_id: "0001", made[1].claim_id: "0002"})
    await _in_batch(engine, "bat-group-2", "8802", {made[2].claim_id: "0001"})

    content = _999("8801", "", "AK9*R*2*2*0*5")
    acks = Acknowledgements(
        cast(Service, AckService(engine)), ClaimsMetrics(CollectorRegistry()), after=h.after_acknowledgement
    )
    await acks.handle(
        ReceivedFile(
            name="group.999",
            kind="999",
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
        )
    )
    for row in made[:2]:
        held = await one(engine, row.claim_id)
        assert held.state == "held"
        assert any("AK9:5" in h["message"] for h in held.hold_reasons)
    assert (await one(engine, made[2].claim_id)).state == "submitted"  # another group


async def test_a_group_s_claims_are_found_through_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await sequential_scans(conn, GROUP_CLAIMS) == []
