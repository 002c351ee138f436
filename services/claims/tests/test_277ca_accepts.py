"""A 277CA accepting many submitted claims moves them in one statement, each with its own
payer claim number, and ends as the verdicts applied one at a time would."""

from __future__ import annotations

import hashlib
from typing import cast

import sqlalchemy as sa
from claims_direct import AckService, apply, corrected, force, handlers, one, rows, trail
from claims_world import reference, session
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.acknowledgements import SET_CLAIMS, Acknowledgements
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import claim
from rcm.clearinghouse import ReceivedFile
from rcm.servicekit import Service
from rcm.servicekit.testing import sequential_scans, statements_sent

ISA = "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*000000009*0*P*:~"


def _277ca(*verdicts: tuple[str, str, str | None]) -> bytes:
    """A 277CA with a claim-level STC (and REF*1K when given) per (claim id, category, number)."""
    claims = "".join(
        f"HL*{4 + i}*3*PT~NM1*QC*1*SAMPLE*PAT****MI*M{i}~TRN*2*{claim_id}~STC*{category}*20250303*WQ*180.00~"
        + (f"REF*1K*{number}~" if number else "")
        for i, (claim_id, category, number) in enumerate(verdicts)
    )
    body = (
        "ST*277*0001*005010X214~BHT*0085*08*CA9*20250303*1200*TH~HL*1**20*1~NM1*PR*2*PAYER*****PI*EVRGRN~"
        "TRN*1*CA9~DTP*050*D8*20250303~DTP*009*D8*20250303~HL*2*1*21*1~NM1*41*2*SUB*****46*PRACTICE01~TRN*2*B9~"
        "STC*A1:19:PR*20250303*WQ*900.00~HL*3*2*19*1~NM1*85*2*GROUP*****XX*1234567893~TRN*1*P9~" + claims
    )
    count = body.count("~") + 1
    text = (
        ISA
        + "GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*9*X*005010X214~"
        + body
        + f"SE*{count}*0001~GE*1*9~IEA*1*000000009~"
    )
    return text.encode()


async def _outbox(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(key, CloudEvents type) of every event written, in order."""
    async with engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT key, headers FROM kit_outbox ORDER BY id"))
        return [(bytes(key).decode() if key else "", dict(headers)["ce_type"]) for key, headers in found]


async def test_a_277ca_accepts_its_plain_claims_in_one_statement_and_the_rest_one_at_a_time(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    for n in range(1, 6):
        await apply(
            engine, h, *reference(n, electronic_payer_id="EVRGRN", member_id=f"EVG10000000{n}"), session(n)
        )
    made = {n: (await rows(engine, claim.c.session_id == f"ses-000{n}"))[0] for n in range(1, 6)}
    for row in made.values():
        await force(engine, row.claim_id, state="submitted", attempts=1)
    # patient 4's session is corrected while its claim is in flight: the acknowledgement that
    # names the payer's claim number replaces it (one at a time, not in the bulk)
    await apply(engine, h, corrected(4, minutes=40))
    assert (await one(engine, made[4].claim_id)).state == "submitted"
    # patient 5's claim is rejected
    content = _277ca(
        (made[1].claim_id, "A2:20", "ICN-A"),
        (made[2].claim_id, "A5:20", "ICN-B"),
        (made[3].claim_id, "A2:20", None),
        (made[4].claim_id, "A2:20", "ICN-D"),
        (made[5].claim_id, "A3:33", None),
    )
    acks = Acknowledgements(
        cast(Service, AckService(engine)),
        ClaimsMetrics(CollectorRegistry()),
        after=h.after_acknowledgement,
    )
    received = ReceivedFile(
        name="ack.277",
        kind="277CA",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
    with statements_sent(engine) as sent:
        await acks.handle(received)
    state_moves = [s for s in sent if s.startswith("UPDATE claim SET") and "state=" in s]
    # one for claims 1-3 together (one at a time: three); claim 4 accepted, replaced and its
    # replacement readied; claim 5 rejected, then held
    assert sum(1 for s in state_moves if "CASE" in s) == 1
    assert len(state_moves) == 1 + 3 + 2

    accepted = [await one(engine, made[n].claim_id) for n in (1, 2, 3)]
    assert [(c.state, c.payer_claim_number) for c in accepted] == [
        ("accepted", "ICN-A"),
        ("accepted", "ICN-B"),
        ("accepted", None),
    ]
    for n in (1, 2, 3):
        assert (await trail(engine, made[n].claim_id))[-1] == ("submitted", "accepted")
    fourth = await one(engine, made[4].claim_id)
    assert fourth.payer_claim_number == "ICN-D" and fourth.state in ("corrected", "voided")
    replacement = (await rows(engine, claim.c.session_id == "ses-0004"))[-1]
    assert replacement.claim_id != made[4].claim_id and replacement.payer_claim_number == "ICN-D"
    assert (await one(engine, made[5].claim_id)).state == "held"
    # each claim's acknowledgment just before its move, as one at a time (events are keyed by patient)
    events = await _outbox(engine)
    written = [kind for key, kind in events if key in ("pat-0001", "pat-0002", "pat-0003")][-6:]
    assert written == ["rcm.claim-acknowledged.v1", "rcm.claim-status-changed.v1"] * 3

    # the same file again changes nothing
    with statements_sent(engine) as again:
        await acks.handle(received)
    assert not [s for s in again if s.startswith("UPDATE")]


async def test_a_999_finds_its_claims_through_indexes_however_many_batches_were_sent(
    engine: AsyncEngine,
) -> None:
    """A 999 names a transaction set by GS06 and ST02: its claims are found through indexes (the
    batch's group control number among them), not a scan of every batch ever sent."""
    async with engine.begin() as conn:
        assert await sequential_scans(conn, SET_CLAIMS) == []
