"""A 277CA that rejects above the claims: the whole batch (information source or receiver
level) or one billing provider in it. The claims it takes down are found through the batch's
BHT03, returned in 2200B TRN02, often without a claim-level loop of their own."""

from __future__ import annotations

import hashlib
from typing import Any

from claims_direct import (
    acknowledgements,
    force,
    handlers,
    in_batch,
    one,
    received,
    submitted_claims,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.acknowledgements import BATCH_CLAIMS, read_277ca_file
from rcm.events.models import AckStatus
from rcm.servicekit.testing import sequential_scans

ISA = "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*000000009*0*P*:~"


def _277ca(
    *,
    batch_ref: str,
    providers: list[tuple[str, str, list[tuple[str, str]]]],
    source_status: str | None = None,
    batch_status: str = "A1:19:PR",
) -> bytes:
    """A 277CA for one batch: per (billing NPI, provider STC, [(claim id, claim STC)])."""
    segments = [
        "ST*277*0001*005010X214",
        "BHT*0085*08*CA9*20250303*1200*TH",
        "HL*1**20*1",
        "NM1*PR*2*PAYER*****PI*EVRGRN",
        "TRN*1*CA9",
        *([f"STC*{source_status}*20250303*U"] if source_status else []),
        "DTP*050*D8*20250303",
        "DTP*009*D8*20250303",
        "HL*2*1*21*1",
        "NM1*41*2*SUB*****46*PRACTICE01",
        f"TRN*2*{batch_ref}",
        f"STC*{batch_status}*20250303*WQ*900.00",
    ]
    hl = 2
    for npi, provider_status, claims in providers:
        hl += 1
        provider_hl = hl
        segments += [
            f"HL*{provider_hl}*2*19*{1 if claims else 0}",
            f"NM1*85*2*GROUP*****XX*{npi}",
            f"TRN*1*P{provider_hl}",
            f"STC*{provider_status}*20250303*WQ*300.00",
        ]
        for claim_id, status in claims:
            hl += 1
            segments += [
                f"HL*{hl}*{provider_hl}*PT",
                "NM1*QC*1*SAMPLE*PAT****MI*M1",
                f"TRN*2*{claim_id}",
                f"STC*{status}*20250303*WQ*180.00",
            ]
    body = "~".join(segments) + "~"
    count = len(segments) + 1
    text = (
        ISA
        + "GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*9*X*005010X214~"
        + body
        + f"SE*{count}*0001~GE*1*9~IEA*1*000000009~"
    )
    return text.encode()


def test_a_provider_level_rejection_is_read_with_its_batch_and_npi_and_the_claims_named_beneath() -> None:
    read = read_277ca_file(
        _277ca(
            batch_ref="bat-1",
            providers=[("1234567893", "A3:85:85", [("CLAIM1", "A3:85:85")]), ("1245319599", "A1:19:PR", [])],
        )
    )
    assert [(v.claim_id, v.status) for v in read.verdicts] == [("CLAIM1", AckStatus.REJECTED)]
    (rejection,) = read.rejections
    assert (rejection.batch_reference, rejection.billing_npi, rejection.named) == (
        "bat-1",
        "1234567893",
        frozenset({"CLAIM1"}),
    )
    assert [r.code for r in rejection.reasons] == ["A3:85:85"]  # not the A1 receipt


def test_a_source_level_rejection_reaches_every_batch_beneath_it() -> None:
    read = read_277ca_file(
        _277ca(batch_ref="bat-2", providers=[("1234567893", "A1:19:PR", [])], source_status="A3:24")
    )
    (rejection,) = read.rejections
    assert (rejection.batch_reference, rejection.billing_npi) == ("bat-2", None)
    assert [r.code for r in rejection.reasons] == ["A3:24"]


def test_a_277ca_that_accepts_everywhere_rejects_nothing_above_the_claims() -> None:
    read = read_277ca_file(
        _277ca(batch_ref="bat-3", providers=[("1234567893", "A1:19:PR", [("CLAIM1", "A2:20")])])
    )
    assert read.rejections == []
    assert [(v.claim_id, v.status) for v in read.verdicts] == [("CLAIM1", AckStatus.ACCEPTED)]


async def _in_batch(engine: AsyncEngine, batch_id: str, claim_ids: list[str], *, attempt: int = 1) -> None:
    number = str(abs(hash(batch_id)) % 10**8)
    await in_batch(engine, batch_id, number, dict.fromkeys(claim_ids, "0001"), attempt=attempt)


async def _receive(engine: AsyncEngine, content: bytes) -> None:
    name = f"ack-{hashlib.sha256(content).hexdigest()[:8]}.277"
    await acknowledgements(engine, handlers()).handle(received(name, "277CA", content))


async def _submitted_claims(engine: AsyncEngine, count: int) -> list[Any]:
    return await submitted_claims(engine, handlers(), count, member="EVG10000000")


def _with_billing_npi(row: Any, npi: str) -> dict[str, Any]:
    draft = dict(row.draft)
    draft["billing"] = {**draft["billing"], "npi": npi}
    return draft


async def test_a_rejected_billing_provider_takes_down_its_claims_of_that_batch_only(
    engine: AsyncEngine,
) -> None:
    made = await _submitted_claims(engine, 4)
    npi = made[0].draft["billing"]["npi"]
    other_npi = "1245319599" if npi != "1245319599" else "1234567893"
    # claim 2 is billed under another group; claim 4 went in another batch
    await force(engine, made[1].claim_id, draft=_with_billing_npi(made[1], other_npi))
    await _in_batch(engine, "bat-levels-1", [r.claim_id for r in made[:3]])
    await _in_batch(engine, "bat-levels-2", [made[3].claim_id])

    await _receive(
        engine,
        _277ca(
            batch_ref="bat-levels-1",
            providers=[
                # claim 3 has a verdict of its own beneath the rejected provider: the more specific one
                (npi, "A3:562:85", [(made[2].claim_id, "A2:20")]),
                (other_npi, "A1:19:PR", [(made[1].claim_id, "A2:20")]),
            ],
        ),
    )
    first = await one(engine, made[0].claim_id)
    assert first.state == "held"
    assert any("A3:562:85" in h["message"] for h in first.hold_reasons)
    assert (await one(engine, made[1].claim_id)).state == "accepted"
    assert (await one(engine, made[2].claim_id)).state == "accepted"
    assert (await one(engine, made[3].claim_id)).state == "submitted"  # another batch


async def test_a_rejected_batch_takes_down_its_claims_in_their_current_attempt(engine: AsyncEngine) -> None:
    made = await _submitted_claims(engine, 3)
    await _in_batch(engine, "bat-levels-3", [r.claim_id for r in made])
    # claim 3 was sent again since, in a batch of its own: the old batch's answer is not its
    await force(engine, made[2].claim_id, attempts=2)
    await _in_batch(engine, "bat-levels-4", [made[2].claim_id], attempt=2)

    await _receive(
        engine,
        _277ca(
            batch_ref="bat-levels-3",
            providers=[(made[0].draft["billing"]["npi"], "A1:19:PR", [])],
            batch_status="A3:21",
        ),
    )
    for row in made[:2]:
        held = await one(engine, row.claim_id)
        assert held.state == "held"
        assert any("A3:21" in h["message"] for h in held.hold_reasons)
    assert (await one(engine, made[2].claim_id)).state == "submitted"

    # a rejection of a batch that is not ours changes nothing
    await _receive(
        engine,
        _277ca(batch_ref="bat-unknown", providers=[("1234567893", "A1:19:PR", [])], batch_status="A3:21"),
    )
    assert (await one(engine, made[2].claim_id)).state == "submitted"


async def test_a_batch_s_claims_are_found_through_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        assert await sequential_scans(conn, BATCH_CLAIMS) == []
