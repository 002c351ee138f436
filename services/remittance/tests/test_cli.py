"""`rcm remits import | unmatched | deposit | reassociation | exceptions | assign | repost | account |
to-patient` against a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rcm.remittance.app import MIGRATIONS
from rcm.remittance.cli import app
from rcm.remittance.testing import Cas, Clp, Ledger, Plb, Svc, claim_for, remit_835
from rcm.servicekit import create_engine, upgrade


def test_import_queue_deposit_and_reassociation(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    era = tmp_path / "era.835"
    era.write_bytes(
        remit_835(
            [Clp("clm-9999", "1", "170.00", "110.00", "0", "ICN-1", [Cas("CO", "45", "60.00")])],
            trace="EFT777",
        )
    )
    runner = CliRunner()

    first = runner.invoke(app, ["import", str(era)])
    assert first.exit_code == 0, first.output
    assert "unmatched 1" in first.output
    assert "already received" in runner.invoke(app, ["import", str(era)]).output

    queue = runner.invoke(app, ["unmatched"])
    assert "claim" in queue.output and "no_claim" in queue.output and "1 unmatched item(s)" in queue.output

    assert (
        runner.invoke(app, ["deposit", "EFT777", "110.00", "2025-04-02"]).output.strip() == "deposit recorded"
    )
    assert runner.invoke(app, ["deposit", "EFT999", "50.00", "2025-04-02"]).exit_code == 0
    report = runner.invoke(app, ["reassociation"]).output
    assert "matched: 1" in report
    assert "deposit without 835: trace EFT999 amount 50.00" in report


def test_exceptions_and_assigning_a_queued_claim_payment(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    unbalanced = tmp_path / "unbalanced.835"
    unbalanced.write_bytes(
        remit_835(
            [Clp("clm-0001", "1", "170.00", "110.00", "0", "ICN-1", [Cas("CO", "45", "60.00")])],
            amount="1.00",
        )
    )
    stray = tmp_path / "stray.835"
    stray.write_bytes(
        remit_835(
            [Clp("ACCT-1", "1", "170.00", "110.00", "0", "ICN-2", [Cas("CO", "45", "60.00")])], trace="EFT2"
        )
    )
    runner = CliRunner()
    flagged = runner.invoke(app, ["import", str(unbalanced)])
    assert flagged.exit_code == 1 and "flagged: unbalanced_payment" in flagged.output
    assert runner.invoke(app, ["import", str(stray)]).exit_code == 0

    listed = runner.invoke(app, ["exceptions"])
    assert listed.exit_code == 0
    assert "unbalanced_payment  unbalanced.835" in listed.output and "1 open exception(s)" in listed.output

    (queued,) = [line for line in runner.invoke(app, ["unmatched"]).output.splitlines() if " rmt-" in line]
    remit_id = next(word for word in queued.split() if word.startswith("rmt-"))
    refused = runner.invoke(app, ["assign", remit_id, "clm-unknown"])
    assert refused.exit_code == 2 and "no claim clm-unknown" in refused.output


def test_a_payment_held_for_another_payee_is_reposted_once_the_settings_list_it(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    _with_claim(fresh_database, "clm-0001")
    era = tmp_path / "era.835"
    era.write_bytes(
        remit_835(
            [Clp("clm-0001", "1", "170.00", "110.00", "0", "ICN-1", [Cas("CO", "45", "60.00")])],
            payee_npi="1999999976",
        )
    )
    monkeypatch.setenv("RCM_PAYEE_IDS", '["1234567893"]')
    runner = CliRunner()
    held = runner.invoke(app, ["import", str(era)])
    assert held.exit_code == 1 and "flagged: other_payee" in held.output
    (line,) = [x for x in runner.invoke(app, ["exceptions"]).output.splitlines() if "other_payee" in x]
    payment_id = next(word for word in line.split() if word.startswith("pay-"))

    still = runner.invoke(app, ["repost", payment_id])
    assert still.exit_code == 1 and f"{payment_id}: other_payee" in still.output
    monkeypatch.setenv("RCM_PAYEE_IDS", '["1234567893", "1999999976"]')
    reposted = runner.invoke(app, ["repost", payment_id])
    assert reposted.exit_code == 0 and f"{payment_id}: posted" in reposted.output, reposted.output
    assert "0 open exception(s)" in runner.invoke(app, ["exceptions"]).output
    again = runner.invoke(app, ["repost", payment_id])
    assert again.exit_code == 2 and "is posted" in again.output


def _with_claim(database_url: str, claim_id: str) -> None:
    async def add() -> None:
        await upgrade(database_url, MIGRATIONS)
        engine = create_engine(database_url)
        try:
            await Ledger(engine).add_claims([claim_for(1, claim_id=claim_id)])
        finally:
            await engine.dispose()

    asyncio.run(add())


def test_account_lists_the_provider_adjustments_that_name_no_claim(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    _with_claim(fresh_database, "clm-0001")
    first = tmp_path / "first.835"
    first.write_bytes(
        remit_835(
            [Clp("clm-0001", "1", "170.00", "110.00", "0", "ICN-1", [Cas("CO", "45", "60.00")])],
            trace="EFT-A",
            plb=[
                Plb("WO", "40.00", "ICN-1"),  # names our claim: a recoupment on it, not the account's
                Plb("CV", "-1.27"),
                Plb("WO", "7.00", "FCN778899 HIC123456789A"),  # names none of ours
            ],
        )
    )
    second = tmp_path / "second.835"
    second.write_bytes(
        remit_835(
            [Clp("ACCT-1", "1", "90.00", "50.00", "0", "ICN-2", [Cas("CO", "45", "40.00")])],
            trace="EFT-B",
            payer_id="2888888888",
            plb=[Plb("CS", "12.50", "LOAN-7")],
        )
    )
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(first)]).exit_code == 0
    assert runner.invoke(app, ["import", str(second)]).exit_code == 0

    listed = runner.invoke(app, ["account"])
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.output.splitlines() if line.startswith("payer ")]
    assert len(rows) == 3
    cv, wo, cs = rows
    assert cv.startswith("payer 1999999999  payee 1234567893  CV (other)  -1.27  payment pay-")
    assert "trace EFT-A of 2025-04-01" in cv
    assert wo.startswith(
        "payer 1999999999  payee 1234567893  WO (recoupment)  7.00  ref FCN778899  payment pay-"
    )
    assert cs.startswith("payer 2888888888  payee 1234567893  CS (other)  12.50  ref LOAN-7  payment pay-")
    assert "trace EFT-B" in cs
    assert "total payer 1999999999  payee 1234567893  5.73" in listed.output
    assert "total payer 2888888888  payee 1234567893  12.50" in listed.output
    assert listed.output.rstrip().endswith("3 account adjustment(s), total 18.23")
    # the recoupment on our claim is not the account's; no member id or patient name is shown
    for absent in ("40.00", "ICN-1", "HIC123456789A", "PATIENT", "clm-0001"):
        assert absent not in listed.output, absent

    one_payer = runner.invoke(app, ["account", "--payer", "2888888888"])
    assert one_payer.exit_code == 0
    assert "1999999999" not in one_payer.output
    assert one_payer.output.rstrip().endswith("1 account adjustment(s), total 12.50")


def test_to_patient_puts_back_what_a_next_payer_will_not_pay(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next payer refused the claim its request made: a person puts the prior payer's share,
    moved off the patient when the next payer was billed, back on the patient, in part or all."""
    import json
    from decimal import Decimal

    import sqlalchemy as sa

    from rcm.events.testing import secondary_claim_requested
    from rcm.remittance import store as t
    from rcm.servicekit.db import outbox

    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)

    async def billed_to_the_next_payer() -> str:
        await upgrade(fresh_database, MIGRATIONS)
        engine = create_engine(fresh_database)
        try:
            ledger = Ledger(engine)
            claim = claim_for(1, claim_id="clm-0001")
            await ledger.add_claims([claim])
            copay = Clp(
                "clm-0001", "1", "170.00", "120.00", "25.00", "ICN-1", [],
                [Svc("90837", "170.00", "120.00", [Cas("CO", "45", "25.00"), Cas("PR", "3", "25.00")])],
            )  # fmt: skip
            (remit,) = (await ledger.post(remit_835([copay]))).of("RemitReceived")
            await ledger.deliver(
                secondary_claim_requested(
                    1, claim_id="clm-0001", patient_id=claim.patient_id, remit_id=remit.remit_id
                )
            )
            return claim.patient_id
        finally:
            await engine.dispose()

    async def state() -> tuple[object, ...]:
        engine = create_engine(fresh_database)
        try:
            async with engine.connect() as conn:
                claim = (await conn.execute(sa.select(t.claim).where(t.claim.c.claim_id == "clm-0001"))).one()
                balance = await conn.scalar(sa.select(t.patient_balance.c.balance))
                lines = (
                    await conn.execute(
                        sa.select(t.posted_line.c.patient_responsibility, t.posted_line.c.forwarded)
                    )
                ).all()
                values = await conn.scalars(
                    sa.select(outbox.c.value)
                    .where(outbox.c.topic.like("%patient-balance-changed"))
                    .order_by(outbox.c.id)
                )
                reasons = [json.loads(v)["reason"] for v in values]
            return (
                claim.patient_responsibility,
                claim.forwarded,
                balance,
                [tuple(ln) for ln in lines],
                reasons,
            )
        finally:
            await engine.dispose()

    asyncio.run(billed_to_the_next_payer())
    runner = CliRunner()
    partly = runner.invoke(app, ["to-patient", "clm-0001", "--amount", "10.00"])
    assert partly.exit_code == 0, partly.output
    assert "10.00 put on the patient; the patient now owes 10.00" in partly.output
    assert asyncio.run(state())[:4] == (
        Decimal("10.00"),
        Decimal("15.00"),
        Decimal("10.00"),
        [(Decimal("10.00"), Decimal("15.00"))],
    )
    rest = runner.invoke(app, ["to-patient", "clm-0001", "--amount", "99.00"])  # at most what is forwarded
    assert "15.00 put on the patient; the patient now owes 25.00" in rest.output
    after = asyncio.run(state())
    assert after[:3] == (Decimal("25.00"), Decimal("0.00"), Decimal("25.00"))
    assert after[4] == ["remit_posted", "next_payer_billed", "transfer_to_patient", "transfer_to_patient"]
    nothing = runner.invoke(app, ["to-patient", "clm-0001"])
    assert nothing.exit_code == 1 and "nothing forwarded" in nothing.output
    assert runner.invoke(app, ["to-patient", "clm-0001", "--amount", "-5"]).exit_code == 2


def test_two_payers_deposits_alike_in_trace_amount_and_date_are_two_deposits(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    runner = CliRunner()
    for payer, name in (("1111111111", "a.835"), ("1222222222", "b.835")):
        era = tmp_path / name
        era.write_bytes(
            remit_835(
                [Clp("clm-9999", "1", "170.00", "110.00", "0", f"ICN-{payer}", [Cas("CO", "45", "60.00")])],
                trace="EFT555",
                payer_id=payer,
            )
        )
        assert runner.invoke(app, ["import", str(era)]).exit_code == 0
    deposit = ["deposit", "EFT555", "110.00", "2025-04-02"]
    assert runner.invoke(app, [*deposit, "--payer", "1111111111"]).output.strip() == "deposit recorded"
    # the other payer's EFT, its company id written without the '1': a deposit of its own
    assert runner.invoke(app, [*deposit, "--payer", "222222222"]).output.strip() == "deposit recorded"
    # the same deposit again, however its originator is written, is recorded once
    assert runner.invoke(app, [*deposit, "--payer", "111111111"]).output.strip() == "deposit already recorded"
    report = runner.invoke(app, ["reassociation"]).output
    assert "matched: 2" in report
    assert "without" not in report and "not matched" not in report


def test_one_eft_entered_with_and_without_its_originator_is_one_deposit(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCM_DATABASE_URL", fresh_database)
    runner = CliRunner()
    deposit = ["deposit", "EFT556", "100.00", "2025-04-01"]
    assert runner.invoke(app, deposit).output.strip() == "deposit recorded"
    # the originator learned later fills in the deposit on file: not a second deposit
    assert (
        runner.invoke(app, [*deposit, "--payer", "1123456789"]).output.strip() == "deposit already recorded"
    )
    # and the same EFT entered again without it is the one on file
    assert runner.invoke(app, deposit).output.strip() == "deposit already recorded"
    # another payer's EFT alike in trace, amount and date is still a deposit of its own
    assert runner.invoke(app, [*deposit, "--payer", "1987654321"]).output.strip() == "deposit recorded"

    async def stored() -> list[tuple[str | None, str]]:
        engine = create_engine(fresh_database)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.text("SELECT originator_id, originator_key FROM deposit ORDER BY id")
                )
                return [(r.originator_id, r.originator_key) for r in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(stored()) == [("1123456789", "123456789"), ("1987654321", "987654321")]


def test_deposits_recorded_before_the_payer_joined_their_key_keep_it(fresh_database: str) -> None:
    async def run() -> list[tuple[str | None, str]]:
        await upgrade(fresh_database, MIGRATIONS)
        engine = create_engine(fresh_database)
        try:
            async with engine.begin() as conn:  # the table as 0009 left it, with its rows
                for sql in (
                    "ALTER TABLE deposit DROP CONSTRAINT deposit_once",
                    "ALTER TABLE deposit DROP COLUMN originator_key",
                    "ALTER TABLE deposit ADD CONSTRAINT deposit_once UNIQUE (trace_key, amount, deposit_date)",
                    "UPDATE alembic_version SET version_num = '0009'",
                    "INSERT INTO deposit (trace_number, trace_key, amount, deposit_date, originator_id) VALUES"
                    " ('555', '555', 100, '2025-04-02', ' 1111111111'), ('777', '777', 5, '2025-04-02', NULL)",
                ):
                    await conn.execute(sa.text(sql))
            await upgrade(fresh_database, MIGRATIONS)
            async with engine.begin() as conn:
                # another payer's deposit alike in trace, amount and date is now a row of its own
                await conn.execute(
                    sa.text(
                        "INSERT INTO deposit (trace_number, trace_key, amount, deposit_date, originator_id,"
                        " originator_key) VALUES ('555', '555', 100, '2025-04-02', 'XYZ', 'XYZ')"
                    )
                )
                rows = await conn.execute(
                    sa.text("SELECT originator_id, originator_key FROM deposit ORDER BY id")
                )
                return [(r[0], r[1]) for r in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == [(" 1111111111", "111111111"), (None, ""), ("XYZ", "XYZ")]
