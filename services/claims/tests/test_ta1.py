"""A TA1 that rejects our 837 interchange (TA104 R) rejects and holds every claim of it, alone in
its file or ahead of a 999; one that accepts it (A, or E: accepted with errors) leaves the claims
to the 999 and 277CA that follow."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
import sqlalchemy as sa
from claims_direct import AckService, acknowledgements, handlers, in_batch, one, received, submitted_claims
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from test_999_group_rejection import ISA
from typer.testing import CliRunner

from rcm.claims.acknowledgements import INTERCHANGE_CLAIMS, Acknowledgements, read_999, read_ta1
from rcm.claims.cli import app
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import received_file
from rcm.servicekit import Service
from rcm.servicekit.testing import sequential_scans
from rcm.x12.errors import X12Error


def _ta1(interchange: str, status: str, note: str) -> bytes:
    return f"{ISA}TA1*{interchange}*250303*1159*{status}*{note}~IEA*0*000000011~".encode()


@pytest.mark.unit
def test_a_ta1_names_the_interchange_its_status_and_its_note() -> None:
    [verdict] = read_ta1(_ta1("000008801", "R", "024"))
    assert (verdict.interchange_control_number, verdict.rejected) == ("000008801", True)
    assert verdict.reason.code == "TA1:024"
    assert verdict.reason.description == "interchange rejected: invalid interchange content"
    [accepted] = read_ta1(_ta1("000008801", "E", "006"))
    assert not accepted.rejected


async def test_a_ta1_rejecting_our_interchange_holds_every_claim_of_it(engine: AsyncEngine) -> None:
    h = handlers()
    made = await submitted_claims(engine, h, 3, member="EVG30000000")
    await in_batch(engine, "bat-ta1-1", "8801", {made[0].claim_id: "0001", made[1].claim_id: "0002"})
    await in_batch(engine, "bat-ta1-2", "8802", {made[2].claim_id: "0001"})
    acks = acknowledgements(engine, h)

    # accepted with errors: the 999 decides
    await acks.handle(received("warned.ta1", "TA1", _ta1("000008802", "E", "006")))
    assert (await one(engine, made[2].claim_id)).state == "submitted"

    await acks.handle(received("rejected.ta1", "TA1", _ta1("000008801", "R", "025")))
    for row in made[:2]:
        held = await one(engine, row.claim_id)
        assert held.state == "held"
        assert [r["message"] for r in held.hold_reasons] == [
            "TA1 rejected: TA1:025 interchange rejected: duplicate interchange control number"
        ]
    assert (await one(engine, made[2].claim_id)).state == "submitted"  # another interchange


async def test_an_interchange_s_claims_are_found_through_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await sequential_scans(conn, INTERCHANGE_CLAIMS) == []


async def test_an_unreadable_acknowledgment_is_recorded_once_counted_and_listed(engine: AsyncEngine) -> None:
    # a set response that names no set (AK202) and cannot be read: which claims it answers is
    # unknown, so the 999 cannot be read, and no retry changes that
    content = (
        f"{ISA}GS*FA*SANDBOXCH*PRACTICE01*20250303*1200*11*X*005010X231A1~ST*999*0001*005010X231A1~"
        "AK1*HC*8801*005010X222A1~AK2*837**005010X222A1~IK3*NM1**2010BA*8~IK5*R*5~AK9*R*1*1*0~"
        "SE*7*0001~GE*1*11~IEA*1*000000011~"
    ).encode()
    with pytest.raises(X12Error):
        read_999(content)
    metrics = ClaimsMetrics(CollectorRegistry())
    acks = Acknowledgements(cast(Service, AckService(engine)), metrics)
    await acks.handle(received("broken.999", "999", content))
    await acks.handle(received("broken.999", "999", content))  # offered again: nothing new
    async with engine.connect() as conn:
        kinds = (await conn.execute(sa.select(received_file.c.kind))).scalars().all()
    assert kinds == ["999_unreadable"]
    assert metrics.acknowledged.labels(source="999", result="unreadable")._value.get() == 1

    env = {"RCM_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    listed = await asyncio.to_thread(CliRunner().invoke, app, ["acks"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "broken.999\t999\t" in listed.output and "1 unreadable acknowledgment file(s)" in listed.output
