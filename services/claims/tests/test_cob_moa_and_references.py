"""The next payer's claim keeps what its 837P needs of the prior payer beyond the money: the
outpatient adjudication its remit reported (835 MOA, sent in 2320 MOA) and the prior
authorization it gave (2330B REF*G1); its claim control number is CLP07 (2330B REF*F8)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
import sqlalchemy as sa
from claims_direct import apply, force, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_837p_batch_prior_payer import ENVELOPE
from test_837p_guide_rules import prior, prior_line
from test_secondary_adjudicated_again import primary_remit, secondary_coverage

from rcm.claims.domain.cob import OutpatientAdjudication, adjudicated_again
from rcm.claims.store import claim
from rcm.claims.submission.batches import Batcher
from rcm.claims.submission.x837 import build_837p
from rcm.events.models import OutpatientAdjudication as ReportedMoa
from rcm.testing.validators import pyx12_errors
from rcm.x12 import read


async def _secondary(engine: AsyncEngine, moa: ReportedMoa | None) -> Any:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *secondary_coverage(),
        session(1),
    )
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    draft = {**primary.draft, "prior_authorization_number": "PRIAUTH77"}
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001", draft=draft)
    remit = primary_remit(primary, remit_id="rmt-first", paid="110.00", patient_share="25.00")
    await apply(engine, h, remit.model_copy(update={"outpatient": moa}))
    (secondary,) = await rows(engine, claim.c.payer_order == 2)
    return secondary


async def test_the_primary_s_moa_and_authorization_reach_the_secondary_s_837p(engine: AsyncEngine) -> None:
    moa = ReportedMoa(reimbursement_rate=Decimal("0.8"), remark_codes=["MA01"])
    secondary = await _secondary(engine, moa)
    assert secondary.cob["outpatient"]["remark_codes"] == ["MA01"]
    assert secondary.cob["outpatient"]["reimbursement_rate"] == "0.8"
    assert secondary.cob["prior_authorization_number"] == "PRIAUTH77"
    assert secondary.draft["prior_authorization_number"] is None  # 2300 G1 is the secondary's own

    batcher = Batcher(
        cast(Any, None), envelope=cast(Any, None), policy=cast(Any, None), metrics=cast(Any, None)
    )
    async with engine.connect() as conn:
        loaded = (await conn.execute(sa.select(claim).where(claim.c.claim_id == secondary.claim_id))).all()
        (item,) = await batcher._items(conn, loaded)
    text = build_837p(
        [item], envelope=ENVELOPE, control=1, reference="bat-1", created=datetime.now(UTC)
    ).decode()
    assert "~OI***Y***Y~MOA*0.8**MA01~NM1*IL*" in text
    assert "~REF*G1*PRIAUTH77~REF*F8*ICN0001~" in text
    assert [str(e) for e in read(text).errors] == [] and pyx12_errors(text) == []


@pytest.mark.parametrize("moa", [None, ReportedMoa()], ids=["no MOA", "an MOA with nothing in it"])
async def test_no_moa_is_kept_when_the_primary_reported_none(
    engine: AsyncEngine, moa: ReportedMoa | None
) -> None:
    secondary = await _secondary(engine, moa)
    assert secondary.cob["outpatient"] is None


@pytest.mark.unit
def test_a_partial_readjudication_keeps_the_moa_unless_it_reports_its_own() -> None:
    first = prior(prior_line(1), prior_line(2), outpatient=OutpatientAdjudication(remark_codes=("MA01",)))
    part = prior(prior_line(2, paid="100.00"), patient_responsibility=Decimal("0"))
    kept = adjudicated_again(first, part)
    assert kept is not None and kept.outpatient == first.outpatient
    newer = OutpatientAdjudication(remark_codes=("N130",))
    replaced = adjudicated_again(first, part.model_copy(update={"outpatient": newer}))
    assert replaced is not None and replaced.outpatient == newer
