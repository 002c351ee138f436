"""A COB claim's batch reads its prior payer, whose type gives the 2320 claim filing indicator."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
import sqlalchemy as sa
from claims_direct import AckService, apply, force, handlers, rows
from claims_world import reference, session
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.domain import ClaimState, CoveragePriority
from rcm.claims.domain.cob import PriorAdjudication
from rcm.claims.metrics import ClaimsMetrics
from rcm.claims.store import claim
from rcm.claims.submission.batches import Batcher
from rcm.claims.submission.x837 import Envelope, build_837p
from rcm.events import testing as f
from rcm.testing.validators import pyx12_errors
from rcm.x12 import read

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
        adjudicated_on=date(2025, 3, 20),
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
    # 2330B: the claim check or remittance date, as no line carries the prior adjudication (2430)
    assert b"~NM1*PR*2*SYNTHETIC MEDICARE*****PI*SYNMCR~DTP*573*D8*20250320~" in built


async def test_the_other_subscriber_is_the_subscriber_of_the_coverage_the_prior_payer_adjudicated(
    engine: AsyncEngine,
) -> None:
    # 2320 SBR02 is the patient's relationship to the other subscriber, and 2330A names that
    # subscriber: a child on a parent's primary plan is 19 under the parent's name
    h = handlers()
    parent = {"name": {"first": "Casey", "last": "Parent"}, "birth_date": "1970-01-01", "sex": "M"}
    primary = f.coverage_updated(
        9,
        patient_id=f.ids(1)["patient_id"],
        payer_id="payer-0009",
        member_id="PARENT0001",
        relationship="child",
        subscriber=parent,
        effective={"start": "2024-01-01"},
    )
    await apply(engine, h, *reference(1, electronic_payer_id="SYNP0001", member_id="MEM000001"))
    await apply(engine, h, session(1, modality="in_person", at_home=False))
    await apply(engine, h, primary)  # on file once the claim exists: it stands for the prior payer's
    (row,) = await rows(engine)
    prior = PriorAdjudication(
        payer_id="payer-0009",
        electronic_payer_id="SYNPRI",
        payer_name="Synthetic Primary",
        member_id="PARENT0001",
        payer_order=CoveragePriority.PRIMARY,
        payer_claim_number="ICN0002",
        paid=Decimal("80.00"),
        patient_responsibility=Decimal("20.00"),
        adjudicated_on=date(2025, 3, 20),
        coverage_id=primary.coverage_id,
    )
    await force(engine, row.claim_id, cob=prior.model_dump(mode="json"))
    batcher = Batcher(
        cast(Any, None), envelope=cast(Any, None), policy=cast(Any, None), metrics=cast(Any, None)
    )
    async with engine.connect() as conn:
        loaded = (await conn.execute(sa.select(claim).where(claim.c.claim_id == row.claim_id))).all()
        (item,) = await batcher._items(conn, loaded)
    assert item.prior_coverage is not None and item.prior_coverage["relationship"] == "child"
    text = build_837p(
        [item], envelope=ENVELOPE, control=1, reference="bat-1", created=datetime.now(UTC)
    ).decode()
    # SBR03: the group number on the card of the plan that paid first
    assert f"~SBR*P*19*{item.prior_coverage['group_number']}******CI~" in text
    assert "~NM1*IL*1*PARENT*CASEY****MI*PARENT0001~" in text
    assert [str(e) for e in read(text).errors] == [] and pyx12_errors(text) == []


async def test_a_claim_that_cannot_be_written_holds_itself_not_its_batch(engine: AsyncEngine) -> None:
    h = handlers()
    await apply(engine, h, *reference(1, electronic_payer_id="SYNP0001", member_id="BAD*0001"))
    await apply(engine, h, *reference(2, electronic_payer_id="SYNP0001", member_id="MEM000002"))
    await apply(engine, h, session(1, modality="in_person", at_home=False))
    await apply(engine, h, session(2, modality="in_person", at_home=False))
    made = await rows(engine)
    for row in made:
        await force(engine, row.claim_id, state=ClaimState.READY.value)
    batcher = Batcher(
        cast(Any, AckService(engine)),
        envelope=ENVELOPE,
        policy=cast(Any, None),
        metrics=ClaimsMetrics(CollectorRegistry()),
    )
    ids = tuple(sorted(r.claim_id for r in made))
    batch_id = await batcher._commit(
        ids, submitter_id="SUBMITTER01", payer_id="payer-0001", now=datetime.now(UTC)
    )
    assert batch_id is not None
    states = {r.session_id: r for r in await rows(engine)}
    held = states["ses-0001"]
    assert held.state == ClaimState.HELD.value  # the member id holds the element delimiter
    assert "837P could not be built" in held.hold_reasons[0]["message"]
    assert states["ses-0002"].state == ClaimState.BATCHED.value
