"""A claim that passes the edits keeps what they warned of (``scrub_warnings``) for a person to
see, and the warnings are counted by code; a claim with nothing to warn of keeps none."""

from __future__ import annotations

from claims_direct import apply, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.claims.store import claim


async def test_a_claim_passing_with_a_warning_keeps_it(engine: AsyncEngine) -> None:
    h = handlers()
    # ten days after the session, a 20-day filing window has 10 days left: the edits warn
    await apply(
        engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG40000001", timely_filing_days=20)
    )
    await apply(engine, h, session(1))
    await apply(engine, h, *reference(2, electronic_payer_id="EVRGRN", member_id="EVG40000002"), session(2))
    (near,) = await rows(engine, claim.c.session_id == "ses-0001")
    (plain,) = await rows(engine, claim.c.session_id == "ses-0002")
    assert near.state == plain.state == "ready"
    assert [w["code"] for w in near.scrub_warnings] == ["filing.deadline_near"]
    assert "days left to file" in near.scrub_warnings[0]["message"]
    assert plain.scrub_warnings == []
    counted = h.metrics.warned.labels(reason="filing.deadline_near")._value.get()
    assert counted == 1
