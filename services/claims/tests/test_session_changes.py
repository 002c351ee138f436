"""Voided and corrected sessions, coverage changes and released authorization visits.

The pure decisions first, then the service against the real broker, database and sandbox.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from claims_world import World, corrected, reference, session

from rcm.claims.domain import ClaimDraft, ClaimState
from rcm.claims.domain.corrections import Withdrawal, payer_holds, rekeyed, withdrawal
from rcm.claims.domain.identifiers import claim_key, line_key
from rcm.claims.store import auth_answer, authorization, claim, claim_line
from rcm.claims.store import session as session_table
from rcm.events import decode
from rcm.events import testing as f
from rcm.events.models import ClaimStatus, ClaimVoided
from rcm.sandbox import Sandbox
from rcm.sandbox.testing import settings_for
from rcm.servicekit.testing import read_topic, wait_for

_S = ClaimState


@pytest.mark.unit
@pytest.mark.parametrize(
    ("state", "frequency", "number", "expected"),
    [
        (_S.CREATED, "1", None, Withdrawal.CANCEL),
        (_S.HELD, "1", None, Withdrawal.CANCEL),
        (_S.READY, "1", None, Withdrawal.CANCEL),
        (_S.REJECTED, "1", None, Withdrawal.CANCEL),
        (_S.BATCHED, "1", None, Withdrawal.WAIT),
        (_S.SUBMITTED, "1", None, Withdrawal.WAIT),
        (_S.ACCEPTED, "1", None, Withdrawal.WAIT),  # a 999 accepted it; the payer's number comes later
        (_S.ACCEPTED, "1", "ICN1", Withdrawal.VOID),
        (_S.PENDED, "1", "ICN1", Withdrawal.VOID),
        (_S.PAID, "1", "ICN1", Withdrawal.VOID),
        (_S.DENIED, "1", "ICN1", Withdrawal.VOID),
        # a replacement not yet sent still stands for the original the payer kept
        (_S.READY, "7", "ICN1", Withdrawal.VOID),
        (_S.HELD, "7", "ICN1", Withdrawal.VOID),
        (_S.SUBMITTED, "7", "ICN1", Withdrawal.WAIT),
    ],
)
def test_taking_back_a_claim_depends_on_whether_a_payer_has_it(
    state: ClaimState, frequency: str, number: str | None, expected: Withdrawal
) -> None:
    assert withdrawal(state, frequency, number) is expected


@pytest.mark.unit
def test_payer_holds_a_claim_once_accepted_or_through_the_original_a_replacement_stands_for() -> None:
    assert payer_holds(_S.ACCEPTED, "1") and payer_holds(_S.READY, "7")
    assert not payer_holds(_S.READY, "1") and not payer_holds(_S.SUBMITTED, "1")


@pytest.mark.unit
def test_a_rekeyed_draft_keys_its_lines_from_the_new_claim_key() -> None:
    old, new = claim_key("ses-x"), claim_key("ses-x", revision=1)
    draft = ClaimDraft.model_construct(
        claim_key=old,
        lines=(
            _line(old, 1),
            _line(old, 2),
        ),
    )
    moved = rekeyed(draft, new)
    assert moved.claim_key == new
    assert [ln.line_key for ln in moved.lines] == [line_key(new, 1), line_key(new, 2)]
    assert [ln.line_key for ln in draft.lines] == [line_key(old, 1), line_key(old, 2)]


def _line(key: str, n: int) -> object:
    from rcm.claims.domain.claim import ServiceLine

    return ServiceLine.model_construct(line_number=n, line_key=line_key(key, n), code="90837")


async def _states(world: World, session_id: str) -> list[tuple[str, str, int]]:
    return [
        (r.frequency_code, r.state, r.revision) for r in await world.claims(claim.c.session_id == session_id)
    ]


async def test_a_voided_session_cancels_an_unsent_claim_voids_an_accepted_one_and_claims_nothing_late(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await world.publish(*reference(2, electronic_payer_id="EVRGRN", member_id="EVG100000002", enrolled=False))
    await world.publish(*reference(3, electronic_payer_id="EVRGRN", member_id="EVG100000003"))
    # patient 3's session is voided before it is received (the two travel on different topics)
    await world.publish(f.session_voided(3), session(1), session(2), session(3))
    try:
        async with world.running(settings_for(sandbox)):
            (accepted,) = await world.wait_claims(
                claim.c.state == "accepted", claim.c.patient_id == "pat-0001"
            )
            (held,) = await world.wait_claims(claim.c.state == "held", claim.c.patient_id == "pat-0002")
            assert accepted.payer_claim_number

            void_1, void_2 = f.session_voided(1), f.session_voided(2)
            await world.publish(void_2, void_2, void_1)  # the held one twice
            (void,) = await world.wait_claims(claim.c.frequency_code == "8", claim.c.state == "accepted")
            assert void.replaces_claim_id == accepted.claim_id
            assert void.draft["payer_claim_number"] == accepted.payer_claim_number
            assert await _states(world, held.session_id) == [("1", "voided", 0)]
            assert (await world.claims(claim.c.claim_id == accepted.claim_id))[0].state == "voided"
            # the void and the session travel on different topics: read first, the void leaves
            # nothing to claim; read second, it takes back the claim the session made
            late = await world.claims(claim.c.patient_id == "pat-0003", claim.c.frequency_code == "1")
            assert all(row.state == "voided" for row in late)
            # each void is announced on claim-voided too, once, with the status it left
            records = await read_topic(world.bootstrap, f"{world.prefix}.claim-voided", expect=2 + len(late))
            voids = [decode(r.value, r.headers).event for r in records]
            assert all(isinstance(v, ClaimVoided) for v in voids)
            left = {v.claim_id: v.from_status for v in voids}
            assert len(left) == len(voids)
            assert set(left) == {accepted.claim_id, held.claim_id, *(row.claim_id for row in late)}
            assert (left[accepted.claim_id], left[held.claim_id]) == (ClaimStatus.ACCEPTED, ClaimStatus.HELD)

        uploaded = "".join(p.read_text() for p in sandbox.inbound_dir("practice01").iterdir())
        assert f"CLM*{void.claim_id}*" in uploaded and f"REF*F8*{accepted.payer_claim_number}~" in uploaded
        assert held.claim_id not in uploaded  # a held claim of a voided session is never sent
        async with world.engine.connect() as conn:
            status = await conn.scalar(
                sa.select(session_table.c.status).where(session_table.c.session_id == held.session_id)
            )
        assert status == "voided"
    finally:
        await world.close()


async def test_a_corrected_session_is_coded_again_and_a_correction_to_not_billable_takes_the_claim_back(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    await world.publish(*reference(2, electronic_payer_id="EVRGRN", member_id="EVG100000002"))
    first, second = session(1, minutes=53), session(2, minutes=53)
    await world.publish(first, second)
    try:
        async with world.running(None):  # no clearinghouse: claims stay ready
            await world.wait_claims(claim.c.state == "ready", count=2)
            shorter = corrected(1, first, 40)
            too_short = corrected(2, second, 10)
            await world.publish(shorter, shorter, too_short)  # the first correction twice
            (recoded,) = await world.wait_claims(
                claim.c.session_id == first.session_id, claim.c.state == "ready", claim.c.revision == 1
            )

            async def settled() -> bool:
                return await _states(world, second.session_id) == [("1", "voided", 0)]

            await wait_for(settled, timeout=15)
            assert await _states(world, first.session_id) == [("1", "voided", 0), ("1", "ready", 1)]
            assert (recoded.session_revision, recoded.frequency_code) == (1, "1")
            async with world.engine.connect() as conn:
                lines = (
                    await conn.execute(
                        sa.select(claim_line.c.procedure_code, claim_line.c.line_key).where(
                            claim_line.c.claim_id == recoded.claim_id
                        )
                    )
                ).all()
                status = await conn.scalar(
                    sa.select(session_table.c.status).where(session_table.c.session_id == second.session_id)
                )
            assert [(c, k.startswith(recoded.claim_id)) for c, k in lines] == [("90834", True)]
            assert status == "not_billable"
    finally:
        await world.close()


async def test_a_corrected_session_whose_claim_the_payer_has_goes_out_as_a_replacement(
    kafka_bootstrap: str, fresh_database: str, sandbox: Sandbox
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    first = session(1, minutes=53)
    await world.publish(first)
    try:
        async with world.running(settings_for(sandbox)):
            (accepted,) = await world.wait_claims(claim.c.state == "accepted")
            shorter = corrected(1, first, 45)
            await world.publish(shorter)
            (replacement,) = await world.wait_claims(
                claim.c.frequency_code == "7", claim.c.state == "accepted"
            )
            assert replacement.replaces_claim_id == accepted.claim_id  # its own number comes from its 277CA
            assert replacement.draft["payer_claim_number"] == accepted.payer_claim_number
            assert (await world.claims(claim.c.claim_id == accepted.claim_id))[0].state == "corrected"
        uploaded = "".join(p.read_text() for p in sandbox.inbound_dir("practice01").iterdir())
        assert f"CLM*{replacement.claim_id}*" in uploaded
        assert f"REF*F8*{accepted.payer_claim_number}~" in uploaded
        assert "SV1*HC:90834:95*120.00*UN*1" in uploaded
    finally:
        await world.close()


async def test_a_coverage_change_holds_a_ready_claim_and_released_visits_update_the_authorization(
    kafka_bootstrap: str, fresh_database: str
) -> None:
    world = World(kafka_bootstrap, fresh_database)
    await world.create_topics()
    await world.publish(*reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"))
    first = session(1)
    await world.publish(first)
    try:
        async with world.running(None):
            (ready,) = await world.wait_claims(claim.c.state == "ready")
            dos = ready.draft["date_of_service"]
            await world.publish(
                f.eligibility_checked(
                    1,
                    check_id="elig-terminated",
                    status="inactive",
                    service_date=date.fromisoformat(dos),
                    plan_period=None,
                    checked_at=datetime.now(UTC),
                ),
                f.coverage_changed(1, check_id="elig-terminated", effective_date=date(2025, 1, 1)),
            )
            (held,) = await world.wait_claims(claim.c.state == "held")
            assert [r["code"] for r in held.hold_reasons] == ["eligibility_inactive"]

            # visits given back for the session: the projection and the session's own use follow
            await world.publish(
                f.authorization_received(1),
                f.authorization_consumed(1, session_id=first.session_id, consumed=1, remaining=0),
            )

            async def consumed() -> bool:
                async with world.engine.connect() as conn:
                    used = await conn.scalar(
                        sa.select(auth_answer.c.consumed).where(auth_answer.c.session_id == first.session_id)
                    )
                return used == 1

            await wait_for(consumed, timeout=15)
            await world.publish(
                f.authorization_released(1, session_id=first.session_id, released=1, remaining=1)
            )

            async def released() -> tuple[int, int] | None:
                async with world.engine.connect() as conn:
                    remaining = await conn.scalar(
                        sa.select(authorization.c.remaining).where(
                            authorization.c.authorization_id == "auth-0001"
                        )
                    )
                    used = await conn.scalar(
                        sa.select(auth_answer.c.consumed).where(auth_answer.c.session_id == first.session_id)
                    )
                return (remaining, used) if remaining == 1 else None

            assert await wait_for(released, timeout=15) == (1, 0)
    finally:
        await world.close()
