"""The per-process copy of shared references: reused while nothing changed, reloaded on any write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from rcm.claims.app import MIGRATIONS
from rcm.claims.store import SharedReferences, reference, upsert_reference
from rcm.servicekit import create_engine, upgrade

T0 = datetime(2025, 3, 1, tzinfo=UTC)


async def _payer(conn: sa.ext.asyncio.AsyncConnection, name: str, *, at: datetime) -> None:
    await upsert_reference(
        conn,
        kind="payer",
        entity_id="payer-0001",
        body={"payer_id": "payer-0001", "name": name},
        updated_at=at,
    )


async def test_shared_references_reload_only_when_a_shared_row_changes(fresh_database: str) -> None:
    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    shared = SharedReferences()
    try:
        async with engine.begin() as conn:
            await _payer(conn, "First", at=T0)
        async with engine.connect() as conn:
            await shared.sync(conn)
            assert shared.get("payer", "payer-0001") == {"payer_id": "payer-0001", "name": "First"}
            built = shared.derived("x", lambda: object())
            await shared.sync(conn)  # nothing changed: same bodies, same derived values
            assert shared.reloads == 1 and shared.derived("x", lambda: object()) is built

        # a patient's coverage is not shared: no reload
        async with engine.begin() as conn:
            await upsert_reference(
                conn, kind="coverage", entity_id="cov-1", body={}, updated_at=T0, patient_id="pat-1"
            )
            await shared.sync(conn)
        assert shared.reloads == 1

        # the same timestamp with another body is still a write: reloaded, derived values rebuilt
        async with engine.begin() as conn:
            await _payer(conn, "Renamed", at=T0)
            await shared.sync(conn)
            assert shared.get("payer", "payer-0001")["name"] == "Renamed"  # type: ignore[index]
        assert shared.reloads == 2 and shared.derived("x", lambda: object()) is not built

        # an older event changes nothing, so nothing reloads
        async with engine.begin() as conn:
            await _payer(conn, "Stale", at=T0 - timedelta(days=1))
            await shared.sync(conn)
        assert shared.reloads == 2 and shared.get("payer", "payer-0001")["name"] == "Renamed"  # type: ignore[index]

        # a rolled-back write: seen inside its transaction, gone after it
        async with engine.connect() as conn:
            tx = await conn.begin()
            await _payer(conn, "Rolled back", at=T0 + timedelta(days=1))
            await shared.sync(conn)
            assert shared.get("payer", "payer-0001")["name"] == "Rolled back"  # type: ignore[index]
            await tx.rollback()
            await shared.sync(conn)
            assert shared.get("payer", "payer-0001")["name"] == "Renamed"  # type: ignore[index]

        # a delete hides the entity
        async with engine.begin() as conn:
            await conn.execute(sa.update(reference).values(deleted=True))
            await shared.sync(conn)
        assert shared.get("payer", "payer-0001") is None
    finally:
        await engine.dispose()


async def test_the_file_ledger_answers_for_a_whole_mailbox_listing_at_once(fresh_database: str) -> None:
    from rcm.claims.store import PostgresFileLedger

    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    ledger = PostgresFileLedger(engine)
    try:
        assert await ledger.record(name="a.999", sha256="1" * 64, size=10, kind="999")
        assert await ledger.record(name="b.277", sha256="2" * 64, size=20, kind="277CA")
        listing = [("a.999", 10), ("b.277", 20), ("b.277", 21), ("c.835", 5)]
        assert await ledger.seen_names(listing) == {("a.999", 10), ("b.277", 20)}
        assert await ledger.seen_names([]) == set()
    finally:
        await engine.dispose()


async def test_the_file_ledger_reads_a_file_overwritten_under_its_name_and_size_again(
    fresh_database: str,
) -> None:
    """A clearinghouse that reuses a file name may send a rejecting 999 the size of the accepting one
    it replaces: the modification time tells the versions apart (the content hash then decides)."""
    from rcm.claims.store import PostgresFileLedger

    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    ledger = PostgresFileLedger(engine)
    try:
        assert await ledger.record(name="ack.999", sha256="1" * 64, size=10, kind="999")
        await ledger.note_version(name="ack.999", size=10, mtime=1_700_000_000)
        await ledger.note_version(name="nodate.999", size=7, mtime=None)
        listing = [
            ("ack.999", 10, 1_700_000_000),
            ("ack.999", 10, 1_700_000_060),  # overwritten a minute later, same size
            ("nodate.999", 7, None),
            ("new.277", 20, 1_700_000_000),
        ]
        assert await ledger.seen_versions(listing) == {
            ("ack.999", 10, 1_700_000_000),
            ("nodate.999", 7, None),
        }
        assert await ledger.seen_versions([]) == set()
        await ledger.note_version(name="ack.999", size=10, mtime=1_700_000_000)  # again: no error
    finally:
        await engine.dispose()


async def test_a_batch_checks_the_shared_references_with_one_row_however_many_providers(
    fresh_database: str,
) -> None:
    """The check each batch makes reads the stamp row by its key, not every provider's row; a
    write by any path (an upsert, a plain delete) raises it, another connection's write is seen
    once committed, and a write of a patient's row leaves it alone."""
    from rcm.claims.store import STAMP
    from rcm.servicekit.testing import sequential_scans, statements_sent

    await upgrade(fresh_database, MIGRATIONS)
    engine = create_engine(fresh_database)
    shared = SharedReferences()
    try:
        async with engine.begin() as conn:
            for n in range(300):
                await upsert_reference(
                    conn, kind="provider", entity_id=f"prov-{n}", body={"n": n}, updated_at=T0
                )
        async with engine.connect() as conn:
            await shared.sync(conn)
            with statements_sent(engine) as sent:
                await shared.sync(conn)
            assert len(sent) == 1 and "reference_stamp" in sent[0] and "FROM reference " not in sent[0]
            assert await sequential_scans(conn, STAMP) == []
            await conn.rollback()
        async with engine.begin() as other:  # another replica deletes a provider outright
            await other.execute(sa.delete(reference).where(reference.c.entity_id == "prov-7"))
        async with engine.connect() as conn:
            await shared.sync(conn)
            assert shared.reloads == 2 and shared.get("provider", "prov-7") is None
            assert len(shared.all("provider")) == 299
        async with engine.begin() as conn:
            await upsert_reference(
                conn, kind="coverage", entity_id="cov-9", body={}, updated_at=T0, patient_id="pat-9"
            )
            await shared.sync(conn)
        assert shared.reloads == 2
    finally:
        await engine.dispose()
