"""A 277CA may name a rejected billing provider by its tax id (2100C NM108 FI) instead of its
NPI: the rejection takes down that provider's claims of the batch, not every claim the file
does not name. Synthetic data (made-up parties, identifiers and amounts)."""

from __future__ import annotations

from typing import Any

import pytest
from claims_direct import acknowledgements, force, handlers, in_batch, one, received, submitted_claims
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.acknowledgements import read_277ca_file

ISA = "ISA*00*          *00*          *ZZ*SANDBOXCH      *ZZ*PRACTICE01     *250303*1200*^*00501*000000013*0*P*:~"


def _277ca(batch_ref: str, providers: list[tuple[str, str, str, list[tuple[str, str]]]]) -> bytes:
    """Per (NM108, NM109, provider STC, [(claim id, claim STC)])."""
    segments = [
        "ST*277*0001*005010X214",
        "BHT*0085*08*CA13*20250303*1200*TH",
        "HL*1**20*1",
        "NM1*PR*2*PAYER*****PI*EVRGRN",
        "TRN*1*CA13",
        "DTP*050*D8*20250303",
        "DTP*009*D8*20250303",
        "HL*2*1*21*1",
        "NM1*41*2*SUB*****46*PRACTICE01",
        f"TRN*2*{batch_ref}",
        "STC*A1:19:PR*20250303*WQ*900.00",
    ]
    hl = 2
    for qualifier, identifier, status, claims in providers:
        hl += 1
        provider = hl
        segments += [
            f"HL*{provider}*2*19*{1 if claims else 0}",
            f"NM1*85*2*GROUP*****{qualifier}*{identifier}",
            "TRN*1*0",
            f"STC*{status}**U*300.00",
        ]
        for claim_id, claim_status in claims:
            hl += 1
            segments += [
                f"HL*{hl}*{provider}*PT",
                "NM1*QC*1*SAMPLE*PAT****MI*M1",
                f"TRN*2*{claim_id}",
                f"STC*{claim_status}*20250303*WQ*180.00",
                "DTP*472*D8*20250301",
            ]
    text = (
        ISA
        + "GS*HN*SANDBOXCH*PRACTICE01*20250303*1200*13*X*005010X214~"
        + "~".join(segments)
        + f"~SE*{len(segments) + 1}*0001~GE*1*13~IEA*1*000000013~"
    )
    return text.encode()


@pytest.mark.unit
def test_a_provider_rejection_by_tax_id_is_read_with_its_tin() -> None:
    read = read_277ca_file(_277ca("bat-tin-0", [("FI", "990000001", "A3:24:85", [])]))
    (rejection,) = read.rejections
    assert (rejection.billing_npi, rejection.billing_tin) == (None, "990000001")


async def test_a_provider_rejected_by_tax_id_takes_down_only_its_claims(engine: AsyncEngine) -> None:
    h = handlers()
    made = await submitted_claims(engine, h, 3, member="EVG30000000")
    # claims 1 and 2 are billed under one tax id (written with a hyphen), claim 3 under another
    tins = ["99-0000001", "990000001", "990000002"]
    for row, tin in zip(made, tins, strict=True):
        draft: dict[str, Any] = dict(row.draft)
        draft["billing"] = {**draft["billing"], "tin": tin}
        await force(engine, row.claim_id, draft=draft)
    await in_batch(engine, "bat-tin-1", "913", {r.claim_id: "0001" for r in made})
    # the other provider is accepted, but the payer lists none of its claims
    content = _277ca("bat-tin-1", [("FI", "990000001", "A3:24:85", []), ("FI", "990000002", "A1:19:PR", [])])
    await acknowledgements(engine, h).handle(received("tin.277", "277CA", content))
    for row in made[:2]:
        held = await one(engine, row.claim_id)
        assert held.state == "held"
        assert any("A3:24:85" in r["message"] for r in held.hold_reasons)
    assert (await one(engine, made[2].claim_id)).state == "submitted"
