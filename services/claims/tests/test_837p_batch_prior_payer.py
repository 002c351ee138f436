"""A COB claim's batch reads its prior payer, whose type gives the 2320 claim filing indicator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
import sqlalchemy as sa
from claims_direct import apply, force, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.domain import CoveragePriority
from rcm.claims.domain.cob import PriorAdjudication
from rcm.claims.store import claim
from rcm.claims.submission.batches import Batcher
from rcm.claims.submission.x837 import Envelope, build_837p
from rcm.events import testing as f

pytestmark = pytest.mark.postgres

ENVELOPE = Envelope(
    submitter_id="SUBMITTER01",
    submitter_name="Synthetic Billing",
    submitter_phone="5185550100",
    receiver_id="RECEIVER01",
    receiver_name="Synthetic Clearinghouse",
)


async def test_a_cob_claim_is_batched_with_its_prior_payer(engine: AsyncEngine) -> None:
    h = handlers()
    medicare = f.payer_updated(9, payer_id="payer-0009", payer_type="medicare", electronic_payer_id="SYNMCR")
    await apply(engine, h, *reference(1, electronic_payer_id="SYNP0001", member_id="MEM000001"), medicare)
    await apply(engine, h, session(1, modality="in_person", at_home=False))
    (row,) = await rows(engine)
    prior = PriorAdjudication(
        payer_id="payer-0009",
        electronic_payer_id="SYNMCR",
        payer_name="Synthetic Medicare",
        member_id="MCR000001",
        payer_order=CoveragePriority.PRIMARY,
        payer_claim_number="ICN0001",
        paid=Decimal("80.00"),
        patient_responsibility=Decimal("20.00"),
    )
    await force(engine, row.claim_id, cob=prior.model_dump(mode="json"))
    batcher = Batcher(
        cast(Any, None), envelope=cast(Any, None), policy=cast(Any, None), metrics=cast(Any, None)
    )
    async with engine.connect() as conn:
        loaded = (await conn.execute(sa.select(claim).where(claim.c.claim_id == row.claim_id))).all()
        (item,) = await batcher._items(conn, loaded)
    assert item.prior == prior
    assert item.prior_payer is not None and item.prior_payer["payer_type"] == "medicare"
    assert item.payer["electronic_payer_id"] == "SYNP0001"
    built = build_837p([item], envelope=ENVELOPE, control=1, reference="bat-1", created=datetime.now(UTC))
    assert b"~SBR*P*18*******MB~" in built  # 2320: the prior payer is Medicare Part B
