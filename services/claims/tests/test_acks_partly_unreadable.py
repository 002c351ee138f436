"""One value that cannot be read (a date 20250231, a segment position that is no number, a TA1
status that is no status) sets aside only the 999 set response, the 277CA claim or the TA1 it is
in: the rest of the file is applied, and the part set aside is recorded with the file, counted
and listed by ``rcm claims acks``. A broken envelope, a 4010 group and a 999 set response that
names no set still make the whole file unreadable."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import pytest
import sqlalchemy as sa
from claims_direct import AckService, handlers, in_batch, one, received, submitted_claims
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from test_999_group_rejection import ISA, _999
from typer.testing import CliRunner

from rcm.claims.acknowledgements import (
    Acknowledgements,
    UnreadPart,
    read_277ca_file,
    read_999,
    read_acknowledgment_file,
    read_ta1,
)
from rcm.claims.cli import app
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import received_file, unread_acknowledgment
from rcm.events.models import AckStatus
from rcm.servicekit import Service
from rcm.x12.convert import read_interchanges
from rcm.x12.errors import X12Error

GOOD_SET = "AK2*837*{n}*005010X222A1~IK5*A~"
REJECTED_SET = "AK2*837*{n}*005010X222A1~IK3*CLM*12*2300*8~IK5*R*5~"
BAD_SET = "AK2*837*{n}*005010X222A1~IK3*CLM*1X*2300*8~IK5*R*5~"  # IK302 is no position


def _sets(*shapes: str) -> str:
    return "".join(shape.format(n=f"{i:04d}") for i, shape in enumerate(shapes, 1))


def _277ca(*claims: tuple[str, str, str]) -> bytes:
    """A 277CA with one patient level per (claim id, category, STC02 date)."""
    levels = "".join(
        f"HL*{4 + i}*3*PT~NM1*QC*1*SAMPLE*PAT****MI*M{i}~TRN*2*{claim_id}~STC*{category}*{day}*WQ*180.00~"
        for i, (claim_id, category, day) in enumerate(claims)
    )
    body = (
        "ST*277*0001*005010X214~BHT*0085*08*CA9*20250303*1200*TH~HL*1**20*1~NM1*PR*2*PAYER*****PI*EVRGRN~"
        "TRN*1*CA9~DTP*050*D8*20250303~DTP*009*D8*20250303~HL*2*1*21*1~NM1*41*2*SUB*****46*PRACTICE01~TRN*2*B9~"
        "STC*A1:19:PR*20250303*WQ*900.00~HL*3*2*19*1~NM1*85*2*GROUP*****XX*1234567893~TRN*1*P9~" + levels
    )
    return (
        ISA
        + "GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*9*X*005010X214~"
        + body
        + f"SE*{body.count('~') + 1}*0001~GE*1*9~IEA*1*000000011~"
    ).encode()


@pytest.mark.unit
def test_a_999_set_with_a_bad_value_is_set_aside_and_the_other_sets_are_read() -> None:
    content = _999("8801", _sets(GOOD_SET, BAD_SET, REJECTED_SET), "AK9*P*3*3*1")
    with pytest.raises(X12Error, match="IK302"):  # the same file read strictly: nothing of it
        read_interchanges(content)
    verdicts = read_999(content)
    assert [(v.set_control_number, v.status) for v in verdicts] == [
        ("0001", AckStatus.ACCEPTED),
        ("0003", AckStatus.REJECTED),
    ]
    assert read_acknowledgment_file(content).unread == [UnreadPart("set", "8801/0002", 7)]


@pytest.mark.unit
def test_a_999_set_set_aside_in_a_group_the_ak9_rejects_is_rejected_with_the_group() -> None:
    content = _999("8801", _sets(GOOD_SET, BAD_SET), "AK9*R*2*2*0*5")
    verdicts = read_999(content)
    assert [(v.set_control_number, v.status, [r.code for r in v.reasons]) for v in verdicts] == [
        ("0001", AckStatus.REJECTED, ["AK9:5"]),
        ("0002", AckStatus.REJECTED, ["AK9:5"]),
    ]
    # still listed as set aside: what in it could not be read is on file
    assert read_acknowledgment_file(content).unread == [UnreadPart("set", "8801/0002", 7)]
    # a group the AK9 accepts in part leaves the set aside waiting
    partly = read_999(_999("8801", _sets(GOOD_SET, BAD_SET), "AK9*P*2*2*1"))
    assert [(v.set_control_number, v.status) for v in partly] == [("0001", AckStatus.ACCEPTED)]


@pytest.mark.unit
def test_a_999_set_response_that_names_no_set_makes_the_file_unreadable() -> None:
    content = _999(
        "8801", _sets(GOOD_SET) + "AK2*837**005010X222A1~IK3*CLM*1X*2300*8~IK5*R*5~", "AK9*P*2*2*1"
    )
    with pytest.raises(X12Error, match="names no set"):
        read_999(content)


@pytest.mark.unit
def test_a_4010_acknowledgment_is_not_read_with_the_5010_rules() -> None:
    content = _999("8801", _sets(GOOD_SET), "AK9*A*1*1*1").replace(
        b"*X*005010X231A1~", b"*X*004010X231A1~", 1
    )
    with pytest.raises(X12Error, match="not 005010"):
        read_999(content)


@pytest.mark.unit
def test_a_277ca_claim_with_an_impossible_date_is_set_aside_and_not_taken_as_accepted() -> None:
    content = _277ca(
        ("CLM-A", "A1:20", "20250303"), ("CLM-B", "A7:562:85", "20250231"), ("CLM-C", "A3:21", "20250303")
    )
    read = read_277ca_file(content)
    assert [(v.claim_id, v.status) for v in read.verdicts] == [
        ("CLM-A", AckStatus.ACCEPTED),
        ("CLM-C", AckStatus.REJECTED),
    ]
    [part] = read.unread
    assert (part.what, part.reference) == ("claim", "CLM-B")


@pytest.mark.unit
def test_a_ta1_that_cannot_be_read_does_not_take_the_999_beside_it() -> None:
    content = _999("8801", _sets(GOOD_SET), "AK9*A*1*1*1").replace(
        b"~GS*", b"~TA1*000008801*250303*1159*Q*000~GS*", 1
    )
    file = read_acknowledgment_file(content)
    assert read_ta1(file) == []
    assert [v.set_control_number for v in read_999(file)] == ["0001"]
    assert [(p.what, p.reference) for p in file.unread] == [("TA1", "000008801")]


async def test_a_999_applies_its_readable_sets_and_lists_the_one_set_aside(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    h = handlers()
    made = await submitted_claims(engine, h, 3, member="EVG40000000")
    ids = [row.claim_id for row in made]
    await in_batch(engine, "bat-partly-1", "8801", {ids[0]: "0001", ids[1]: "0002", ids[2]: "0003"})
    metrics = ClaimsMetrics(CollectorRegistry())
    acks = Acknowledgements(cast(Service, AckService(engine)), metrics, after=h.after_acknowledgement)
    content = _999("8801", _sets(GOOD_SET, BAD_SET, REJECTED_SET), "AK9*P*3*3*1")

    with caplog.at_level(logging.WARNING):
        await acks.handle(received("partly.999", "999", content))
        await acks.handle(received("partly.999", "999", content))  # offered again: nothing new

    assert (await one(engine, ids[0])).state == "submitted"  # a 999 acceptance leaves it to the 277CA
    assert (await one(engine, ids[1])).state == "submitted"  # its set response was set aside: it waits
    held = await one(engine, ids[2])
    assert held.state == "held" and any("IK5:5" in r["message"] for r in held.hold_reasons)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(received_file.c.kind))).scalars().all() == ["999"]
        parts = (await conn.execute(sa.select(unread_acknowledgment))).all()
    assert [(p.name, p.part, p.reference) for p in parts] == [("partly.999", "set", "8801/0002")]
    assert metrics.acknowledged.labels(source="999", result="part_unreadable")._value.get() == 1
    assert metrics.acknowledged.labels(source="999", result="rejected")._value.get() == 1
    warned = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert warned == [
        "999 partly.999: 1 part(s) unreadable, set aside, the rest applied: set 8801/0002 at segment 7"
    ]

    env = {"RCM_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    listed = await asyncio.to_thread(CliRunner().invoke, app, ["acks"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "partly.999\t999\tset 8801/0002\tsegment 7\t" in listed.output
    assert "0 unreadable acknowledgment file(s)" in listed.output
    assert "1 unreadable part(s) of acknowledgment files" in listed.output


async def test_a_999_rejecting_its_group_rejects_the_claim_of_the_set_set_aside_too(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    made = await submitted_claims(engine, h, 2, member="EVG40000000")
    ids = [row.claim_id for row in made]
    await in_batch(engine, "bat-partly-2", "8802", {ids[0]: "0001", ids[1]: "0002"})
    metrics = ClaimsMetrics(CollectorRegistry())
    acks = Acknowledgements(cast(Service, AckService(engine)), metrics, after=h.after_acknowledgement)
    await acks.handle(
        received("rejected.999", "999", _999("8802", _sets(GOOD_SET, BAD_SET), "AK9*R*2*2*0*5"))
    )

    for claim_id in ids:  # neither waits: the whole group was rejected
        row = await one(engine, claim_id)
        assert row.state == "held" and any("AK9:5" in r["message"] for r in row.hold_reasons)
    async with engine.connect() as conn:
        parts = (await conn.execute(sa.select(unread_acknowledgment))).all()
    assert [(p.name, p.reference) for p in parts] == [("rejected.999", "8802/0002")]


async def test_a_277ca_applies_its_readable_claims_and_the_claim_set_aside_waits(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    h = handlers()
    made = await submitted_claims(engine, h, 3, member="EVG50000000")
    ids = [row.claim_id for row in made]
    acks = Acknowledgements(
        cast(Service, AckService(engine)), ClaimsMetrics(CollectorRegistry()), after=h.after_acknowledgement
    )
    content = _277ca(
        (ids[0], "A2:20", "20250303"), (ids[1], "A2:20", "20250231"), (ids[2], "A7:562:85", "20250303")
    )

    with caplog.at_level(logging.WARNING):
        await acks.handle(received("partly.277ca", "277CA", content))

    assert (await one(engine, ids[0])).state == "accepted"
    assert (await one(engine, ids[1])).state == "submitted"  # STC02 20250231: no verdict guessed
    assert (await one(engine, ids[2])).state == "held"
    async with engine.connect() as conn:
        parts = (await conn.execute(sa.select(unread_acknowledgment))).all()
    assert [(p.kind, p.part, p.reference) for p in parts] == [("277CA", "claim", ids[1])]
    # the log names the part by its place, never by the claim or the value
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "claim at segment" in logged and ids[1] not in logged and "20250231" not in logged
