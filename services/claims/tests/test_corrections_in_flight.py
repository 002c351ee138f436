"""Corrections and voids that meet a claim on its way: an unsent replacement, a void before the
payer's claim number is known. The handlers are called directly, in the order under test."""

from __future__ import annotations

from claims_direct import apply, corrected, force, handlers, one, rows, trail
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_837p_guide_rules import prior, prior_line

from rcm.claims.store import claim
from rcm.events import testing as f


async def test_a_session_corrected_before_its_replacement_is_sent_withdraws_it_and_replaces_the_original(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1))
    (original,) = await rows(engine, claim.c.session_id == "ses-0001")
    # the payer denied it; the denial asked for a replacement, which waits for the next batch
    await force(engine, original.claim_id, state="denied", payer_claim_number="ICN0001")
    await apply(
        engine, h, f.claim_correction_requested(1, claim_id=original.claim_id, payer_claim_number="ICN0001")
    )
    _, replacement = await rows(engine, claim.c.session_id == "ses-0001")
    assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", "ICN0001")
    assert replacement.state in ("ready", "held")

    await apply(engine, h, corrected(1, minutes=40))

    first, second, recoded = await rows(engine, claim.c.session_id == "ses-0001")
    assert (first.state, second.state) == ("corrected", "voided")  # never sent: withdrawn here
    assert (await trail(engine, second.claim_id))[-1] == (replacement.state, "voided")
    assert (recoded.frequency_code, recoded.payer_claim_number, recoded.revision) == ("7", "ICN0001", 2)
    assert recoded.replaces_claim_id == replacement.claim_id and recoded.session_revision == 1
    assert recoded.draft["payer_claim_number"] == "ICN0001"
    assert [line["code"] for line in recoded.draft["lines"]] == ["90834"]  # coded from the 40 minutes
    assert recoded.state in ("ready", "held")
    # a redelivered correction changes nothing
    await apply(engine, h, corrected(1, minutes=40))
    assert len(await rows(engine, claim.c.session_id == "ses-0001")) == 3
    assert (await one(engine, recoded.claim_id)).state == recoded.state


def _prior_adjudication(line_key: str) -> dict[str, object]:
    return prior(prior_line(1, "90837", line_key=line_key)).model_dump(mode="json")


async def test_a_cob_rebuild_sends_the_later_payers_claim_again_with_its_prior_adjudication(
    engine: AsyncEngine,
) -> None:
    # CO-16 with MA04 on a secondary: the denials service asks for its 2320/2430 to be rebuilt
    h = handlers()
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1))
    (denied,) = await rows(engine, claim.c.session_id == "ses-0001")
    cob = _prior_adjudication(denied.draft["lines"][0]["line_key"])
    await force(engine, denied.claim_id, state="denied", payer_claim_number="ICN0001", cob=cob)
    rebuild = [{"action": "rebuild_cob"}]
    await apply(
        engine,
        h,
        f.claim_correction_requested(
            1, claim_id=denied.claim_id, payer_claim_number="ICN0001", changes=rebuild
        ),
    )
    _, replacement = await rows(engine, claim.c.session_id == "ses-0001")
    assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", "ICN0001")
    assert replacement.cob == cob  # its 2320/2430 are written from the prior payer's adjudication
    assert [line["code"] for line in replacement.draft["lines"]] == [
        line["code"] for line in denied.draft["lines"]
    ]
    assert replacement.state in ("ready", "held")


async def test_a_cob_rebuild_of_a_claim_without_a_prior_adjudication_sends_nothing(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(engine, h, *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"), session(1))
    (denied,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, denied.claim_id, state="denied", payer_claim_number="ICN0001")
    await apply(
        engine,
        h,
        f.claim_correction_requested(
            1, claim_id=denied.claim_id, payer_claim_number="ICN0001", changes=[{"action": "rebuild_cob"}]
        ),
    )
    assert len(await rows(engine, claim.c.session_id == "ses-0001")) == 1
    assert (await one(engine, denied.claim_id)).state == "denied"
