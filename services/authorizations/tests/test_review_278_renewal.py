"""`rcm auth renewal-278` on the ledger: the diagnoses of the lines billed under an authorization,
a control number of its own per file, ISA15 from the setting, and no request without a diagnosis."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner, Result

from rcm.authorizations import store
from rcm.authorizations.cli import app
from rcm.x12.findings import Severity
from rcm.x12.validate import validate

from .conftest import LedgerDb
from .ledger_events import a_claim, an_authorization, requires


def _diagnosed(n: int, day: date, diagnoses: list[str], pointers: list[int]) -> object:
    claim = a_claim(n, day=day)
    line = claim.lines[0].model_copy(update={"diagnosis_pointers": pointers})
    return claim.model_copy(update={"diagnoses": diagnoses, "lines": [line]})


async def _diagnoses_of(ledger_db: LedgerDb, authorization_id: str = "auth-0001") -> list[str]:
    async with ledger_db.engine.connect() as conn:
        return await store.diagnoses_of(conn, authorization_id)


async def test_a_billed_line_keeps_the_diagnoses_it_points_at_primary_first(ledger_db: LedgerDb) -> None:
    await ledger_db.apply(an_authorization())
    await ledger_db.apply(_diagnosed(1, date(2025, 3, 3), ["F411", "F331", "Z630"], [2, 1]))
    rows = await ledger_db.rows(sa.select(store.service_line.c.diagnoses))
    assert rows == [(["F331", "F411"],)]


async def test_the_request_names_the_diagnoses_of_the_latest_line_billed_under_it(
    ledger_db: LedgerDb,
) -> None:
    assert await _diagnoses_of(ledger_db) == []
    await ledger_db.apply(an_authorization())
    await ledger_db.apply_each(
        _diagnosed(2, date(2025, 3, 10), ["F331"], [1]),
        _diagnosed(1, date(2025, 3, 3), ["F411"], [1]),  # billed later, seen earlier
    )
    assert await _diagnoses_of(ledger_db) == ["F331"]
    assert await _diagnoses_of(ledger_db, "auth-other") == []


async def test_a_line_written_again_without_diagnoses_keeps_those_on_file(ledger_db: LedgerDb) -> None:
    """A line billed before its authorization arrived is taken by it when it does (its usage
    names it); a copy of the line that names no diagnoses does not erase those on file."""
    await ledger_db.apply_each(requires("90837"), _diagnosed(1, date(2025, 3, 3), ["F411"], [1]))
    await ledger_db.apply(an_authorization())
    assert await _diagnoses_of(ledger_db) == ["F411"]
    async with ledger_db.engine.begin() as conn:
        row = {
            "line_key": "ses-0001:1",
            "claim_id": "clm-0001",
            "session_id": "ses-0001",
            "patient_id": "pat-0001",
            "payer_id": "payer-0001",
            "coverage_id": "cov-0001",
            "procedure_code": "90837",
            "units": 1,
            "service_date": date(2025, 3, 3),
            "provider_id": "prov-0001",
            "diagnoses": None,
        }
        await conn.execute(store.UPSERT_SERVICE_LINE, [row])
    assert await _diagnoses_of(ledger_db) == ["F411"]


async def test_each_file_takes_a_control_number_of_its_own(ledger_db: LedgerDb) -> None:
    async with ledger_db.engine.begin() as conn:
        first = await store.next_control_number(conn)
        second = await store.next_control_number(conn)
    # apart from the claims service's 837P/276 numbers, which start at 1 under the same submitter
    assert store.CONTROL_NUMBERS_FROM <= first < second <= 999_999_999


ARGS = [
    "renewal-278", "auth-0001", "--quantity", "6", "--through", "2025-09-30",
    "--payer-name", "Synthetic BH", "--payer-identifier", "SYNBH1", "--requester-name", "Test Practice",
    "--requester-npi", "1000000004", "--requester-tin", "12-3456789", "--subscriber-last", "Patient",
    "--subscriber-first", "Test", "--member-id", "SYN000001", "--sender-id", "SUBMITTER", "--receiver-id", "SYNBH1",
]  # fmt: skip


async def _run(url: str, *args: str, usage: str | None = None) -> Result:
    env = {"RCM_DATABASE_URL": url, "RCM_INTERCHANGE_USAGE": usage}
    return await asyncio.to_thread(CliRunner().invoke, app, [*ARGS, *args], env=env)


def _element(data: bytes, tag: str, n: int) -> str:
    return next(s.split("*")[n] for s in data.decode().split("~") if s.startswith(tag + "*"))


async def test_renewal_278_writes_a_valid_request_with_the_diagnoses_on_file(
    ledger_db: LedgerDb, fresh_database: str, tmp_path: Path
) -> None:
    await ledger_db.apply(an_authorization())
    await ledger_db.apply(_diagnosed(1, date(2025, 3, 3), ["F411", "F331"], [1, 2]))
    first, second = tmp_path / "first.x12", tmp_path / "second.x12"

    assert (done := await _run(fresh_database, "-o", str(first))).exit_code == 0, done.output
    assert (done := await _run(fresh_database, "-o", str(second), usage="T")).exit_code == 0, done.output

    data = first.read_bytes()
    assert [f for f in validate(data) if f.severity is Severity.ERROR] == []
    assert b"HI*ABK:F411*ABF:F331~" in data
    assert b"TRN*1*" in data and b"*1123456789~" in data
    assert _element(data, "ISA", 15) == "P" and _element(second.read_bytes(), "ISA", 15) == "T"
    assert _element(data, "ISA", 13) != _element(second.read_bytes(), "ISA", 13)


async def test_renewal_278_takes_the_diagnoses_given_over_those_on_file(
    ledger_db: LedgerDb, fresh_database: str, tmp_path: Path
) -> None:
    await ledger_db.apply(an_authorization())
    await ledger_db.apply(_diagnosed(1, date(2025, 3, 3), ["F411"], [1]))
    out = tmp_path / "given.x12"
    given = ["--diagnosis", "F43.10", "--diagnosis", "F41.1", "--control-number", "42", "-o", str(out)]
    assert (done := await _run(fresh_database, *given)).exit_code == 0, done.output
    assert b"HI*ABK:F4310*ABF:F411~" in out.read_bytes()
    assert _element(out.read_bytes(), "ISA", 13) == "000000042"


async def test_renewal_278_writes_nothing_without_a_diagnosis(
    ledger_db: LedgerDb, fresh_database: str, tmp_path: Path
) -> None:
    await ledger_db.apply(an_authorization())  # nothing billed under it yet
    out = tmp_path / "none.x12"
    done = await _run(fresh_database, "-o", str(out))
    assert done.exit_code == 2
    assert "no diagnosis" in done.output
    assert not out.exists()
