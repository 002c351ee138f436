"""``rcm remits``: import 835 files, run the service, look at the queues and reassociation."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.remittance import store as t
from rcm.remittance.app import MIGRATIONS, RemittanceSettings, build_service
from rcm.remittance.domain.provider_adjustments import reference_tokens
from rcm.remittance.domain.reassociation import (
    Deposit,
    PaymentAdvice,
    Reassociation,
    payer_key,
    reassociate,
    trace_key,
)
from rcm.remittance.handlers import transfer_to_patient
from rcm.remittance.ingest import (
    FileOutcome,
    ReviewError,
    assign_unmatched,
    post_remit_file,
    release_held,
    repost_payment,
)
from rcm.remittance.metrics import RemitMetrics
from rcm.remittance.sftp_polling import HELD_KIND
from rcm.servicekit import (
    Transaction,
    configure_logging,
    configure_tracing,
    create_engine,
    upgrade,
)

__all__ = [
    "AccountEntry",
    "account_ledger",
    "app",
    "assign",
    "failed_downloads",
    "import_file",
    "open_exceptions",
    "reassociation_report",
    "record_deposit",
    "repost",
    "retry_download",
    "to_patient",
    "unmatched_queue",
]


@asynccontextmanager
async def _database(settings: RemittanceSettings, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
    """A connection to the service's database for one command: a transaction committed at the
    end when ``write`` (migrations applied first), else a read-only look."""
    url = settings.database_url.get_secret_value()
    if write:
        await upgrade(url, MIGRATIONS)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() if write else engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


app = typer.Typer(help="Remittance: 835 posting, unmatched queue, EFT reassociation.", no_args_is_help=True)


async def import_file(settings: RemittanceSettings, content: bytes, *, name: str) -> FileOutcome:
    """Post one 835 file; its events wait in the outbox for the service's relay."""
    async with _database(settings, write=True) as conn:
        tx = Transaction(conn, "import", source=settings.service_name, prefix=settings.topic_prefix)
        outcome = await post_remit_file(
            tx,
            content,
            name=name,
            source="upload",
            metrics=RemitMetrics(),
            cut_lengths=settings.control_number_cut_lengths,
            payee_ids=settings.payee_ids,
        )
        await tx.flush()
    tx.committed()
    return outcome


async def assign(settings: RemittanceSettings, remit_id: str, claim_id: str) -> str:
    """Post a queued claim payment to the claim a person chose; its events wait in the outbox."""
    async with _database(settings, write=True) as conn:
        tx = Transaction(conn, "review", source=settings.service_name, prefix=settings.topic_prefix)
        state = await assign_unmatched(
            tx,
            remit_id,
            claim_id,
            metrics=RemitMetrics(),
            cut_lengths=settings.control_number_cut_lengths,
        )
        await tx.flush()
    tx.committed()
    return state


async def release(settings: RemittanceSettings, remit_id: str) -> str:
    """Post a claim payment held as a repeat or a second payment the payer confirmed is its own."""
    async with _database(settings, write=True) as conn:
        tx = Transaction(conn, "review", source=settings.service_name, prefix=settings.topic_prefix)
        state = await release_held(
            tx, remit_id, metrics=RemitMetrics(), cut_lengths=settings.control_number_cut_lengths
        )
        await tx.flush()
    tx.committed()
    return state


async def repost(settings: RemittanceSettings, payment_id: str) -> str:
    """Post again, under the configured payee ids, a payment held for another payee."""
    async with _database(settings, write=True) as conn:
        tx = Transaction(conn, "review", source=settings.service_name, prefix=settings.topic_prefix)
        status = await repost_payment(
            tx,
            payment_id,
            metrics=RemitMetrics(),
            payee_ids=settings.payee_ids,
            cut_lengths=settings.control_number_cut_lengths,
        )
        await tx.flush()
    tx.committed()
    return status


async def to_patient(
    settings: RemittanceSettings, claim_id: str, amount: Decimal | None
) -> tuple[Decimal, Decimal] | None:
    """Put on the patient what the claim forwarded to a next payer that will not adjudicate it; its
    patient-balance-changed waits in the outbox."""
    async with _database(settings, write=True) as conn:
        tx = Transaction(conn, "review", source=settings.service_name, prefix=settings.topic_prefix)
        done = await transfer_to_patient(tx, claim_id, amount, by="rcm-remits-to-patient")
        await tx.flush()
    tx.committed()
    return done


async def open_exceptions(settings: RemittanceSettings) -> list[sa.Row[tuple[object, ...]]]:
    """What was flagged and is not resolved: unbalanced, unreadable, duplicate, overpaid..."""
    async with _database(settings) as conn:
        e, f = t.remit_exception.c, t.remit_file.c
        return list(
            (
                await conn.execute(
                    sa.select(
                        e.id,
                        e.kind,
                        e.payment_id,
                        e.remit_id,
                        e.message,
                        e.created_at,
                        sa.func.coalesce(f.name, e.detail["name"].astext).label("name"),
                    )
                    .join_from(t.remit_exception, t.remit_file, f.file_id == e.file_id, isouter=True)
                    .where(e.resolved_at.is_(None))
                    .order_by(e.id)
                )
            ).all()
        )


async def failed_downloads(settings: RemittanceSettings) -> list[sa.Row[tuple[object, ...]]]:
    """Mailbox files that failed to post on their last polls; held ones wait for ``retry_download``."""
    async with _database(settings) as conn:
        f = t.sftp_failure.c
        return list(
            (
                await conn.execute(
                    sa.select(t.sftp_failure).order_by(f.held_at.is_(None), f.last_failed_at, f.name)
                )
            ).all()
        )


async def retry_download(settings: RemittanceSettings, name: str) -> int:
    """Re-drive a held mailbox file: its failures are forgotten and its exception resolved, so the
    next poll downloads and posts it again. Returns how many held files of that name were released."""
    async with _database(settings, write=True) as conn:
        f, e = t.sftp_failure.c, t.remit_exception.c
        released = (
            await conn.execute(
                t.sftp_failure.delete()
                .where(f.name == name, f.held_at.is_not(None))
                .returning(f.name, f.size)
            )
        ).all()
        for row in released:
            await conn.execute(
                t.remit_exception.update()
                .where(
                    e.kind == HELD_KIND,
                    e.resolved_at.is_(None),
                    e.detail["name"].astext == row.name,
                    e.detail["size"].astext == str(row.size),
                )
                .values(resolved_at=sa.func.now())
            )
    return len(released)


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """A provider-level adjustment (PLB) on the account ledger: it names none of our claims."""

    payer: str
    """Our payer id when payer-updated names the 835's payer, else the 835's payer identifier."""
    payee: str
    """PLB01: the provider identifier the payer adjusted."""
    reason: str
    kind: str
    amount: Decimal
    """Positive: withheld from the payment (the provider owes it); negative: paid to the provider."""
    reference: str | None
    """The first token of PLB03-2 (the payer's document or claim number); the rest, which some
    payers fill with a member id, is left out."""
    payment_id: str
    trace_number: str
    payment_date: date | None


def _first_token(reference: str | None) -> str | None:
    tokens = reference_tokens(reference)  # the whole reference first, then its parts
    return tokens[1] if len(tokens) > 1 else next(iter(tokens), None)


async def account_ledger(settings: RemittanceSettings, *, payer: str | None = None) -> list[AccountEntry]:
    """The account ledger: PLB amounts that name no claim, by payer and payee, in posting order."""
    async with _database(settings) as conn:
        a, p = t.provider_adjustment.c, t.payment.c
        payer_of = sa.func.coalesce(p.payer_id, p.payer_ref)
        query = (
            sa.select(
                payer_of.label("payer"),
                a.provider_id,
                a.reason,
                a.kind,
                a.amount,
                a.reference,
                a.payment_id,
                p.trace_number,
                p.payment_date,
            )
            .join_from(t.provider_adjustment, t.payment, p.payment_id == a.payment_id)
            .where(a.claim_id.is_(None))
            .order_by(payer_of, a.provider_id, a.id)
        )
        if payer is not None:
            query = query.where(payer_of == payer)
        rows = (await conn.execute(query)).all()
    return [
        AccountEntry(
            payer=r.payer,
            payee=r.provider_id,
            reason=r.reason,
            kind=r.kind,
            amount=r.amount,
            reference=_first_token(r.reference),
            payment_id=r.payment_id,
            trace_number=r.trace_number,
            payment_date=r.payment_date,
        )
        for r in rows
    ]


async def record_deposit(settings: RemittanceSettings, deposit: Deposit) -> bool:
    """Record ``deposit`` once: a deposit is its trace number, amount, date and originator (the
    payer's TRN03, as ``payer_key`` compares it), so another payer's EFT alike in the first three is
    recorded as its own. One EFT entered with and without its originator is one deposit: a deposit
    without one is taken for the alike deposit on file, and one with an originator fills it in on
    an alike deposit recorded without. False when it was recorded before."""
    key = payer_key(deposit.originator_id) or ""
    d = t.deposit
    async with _database(settings, write=True) as conn:
        alike = (
            await conn.execute(
                sa.select(d.c.id, d.c.originator_key)
                .where(
                    d.c.trace_key == trace_key(deposit.trace_number),
                    d.c.amount == deposit.amount,
                    d.c.deposit_date == deposit.deposit_date,
                )
                .with_for_update()
            )
        ).all()
        keys = {row.originator_key for row in alike}
        if key in keys or (alike and not key):
            return False
        unnamed = next((row.id for row in alike if not row.originator_key), None)
        if unnamed is not None:  # the same EFT, recorded before its originator was known
            await conn.execute(
                sa.update(d)
                .where(d.c.id == unnamed)
                .values(originator_id=deposit.originator_id, originator_key=key)
            )
            return False
        inserted = await conn.scalar(
            pg_insert(d)
            .values(
                trace_number=deposit.trace_number,
                trace_key=trace_key(deposit.trace_number),
                amount=deposit.amount,
                deposit_date=deposit.deposit_date,
                originator_id=deposit.originator_id,
                originator_key=key,
            )
            .on_conflict_do_nothing(constraint="deposit_once")
            .returning(d.c.id)
        )
    return inserted is not None


async def reassociation_report(settings: RemittanceSettings) -> Reassociation:
    async with _database(settings) as conn:
        payments = [
            PaymentAdvice(r.payment_id, r.trace_number, r.amount, r.payment_date, r.payer_ref)
            for r in await conn.execute(sa.select(t.payment).order_by(t.payment.c.created_at))
        ]
        deposits = [
            Deposit(r.trace_number, r.amount, r.deposit_date, r.originator_id)
            for r in await conn.execute(sa.select(t.deposit).order_by(t.deposit.c.id))
        ]
    return reassociate(payments, deposits)


async def unmatched_queue(settings: RemittanceSettings) -> list[sa.Row[tuple[object, ...]]]:
    async with _database(settings) as conn:
        return list(
            (
                await conn.execute(
                    sa.select(t.unmatched)
                    .where(t.unmatched.c.resolved_at.is_(None))
                    .order_by(t.unmatched.c.id)
                )
            ).all()
        )


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An 835 file.")],
) -> None:
    """Post an 835 file (an identical file already received is skipped)."""
    outcome = asyncio.run(import_file(RemittanceSettings(), file.read_bytes(), name=file.name))
    if outcome.duplicate_file:
        typer.echo(f"{file.name}: already received ({outcome.file_id}); nothing posted")
        return
    states = ", ".join(f"{k} {v}" for k, v in sorted(outcome.states.items())) or "no claim payments"
    typer.echo(f"{file.name}: {outcome.payments} payment(s); {states}")
    for kind in outcome.exceptions:
        typer.echo(f"  flagged: {kind}")
    if outcome.exceptions:
        raise typer.Exit(1)


@app.command("run")
def run_command() -> None:
    """Start the service: claims projection, SFTP polling (when configured), outbox relay."""
    settings = RemittanceSettings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    asyncio.run(build_service(settings).run())


@app.command("unmatched")
def unmatched_command() -> None:
    """The review queue: claim payments and lines that matched no claim (opaque ids and amounts)."""
    rows = asyncio.run(unmatched_queue(RemittanceSettings()))
    for r in rows:
        candidates = ",".join(r.candidates) or "-"
        line = f" line {r.line_number} {r.procedure_code}" if r.kind == "line" else ""
        typer.echo(
            f"{r.id}  {r.kind}{line}  {r.remit_id}  payer {r.payer_ref}  charge {r.charge}  paid {r.paid}  "
            f"{r.reason}  candidates {candidates}"
        )
    typer.echo(f"{len(rows)} unmatched item(s)")


@app.command("assign")
def assign_command(
    remit_id: Annotated[str, typer.Argument(help="The claim payment, as `rcm remits unmatched` lists it.")],
    claim_id: Annotated[str, typer.Argument(help="Our claim it pays.")],
) -> None:
    """Post a claim payment from the unmatched queue to the claim a person chose."""
    try:
        state = asyncio.run(assign(RemittanceSettings(), remit_id, claim_id))
    except ReviewError as exc:
        typer.echo(f"not assigned: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{remit_id}: {state} on {claim_id}")
    if state not in ("posted", "recorded"):
        raise typer.Exit(1)


@app.command("release")
def release_command(
    remit_id: Annotated[
        str, typer.Argument(help="The held claim payment, as `rcm remits exceptions` lists it.")
    ],
) -> None:
    """Post a claim payment held as a repeat, or as a second payment of a claim the payer did not
    reverse, once the payer confirmed it is a payment of its own."""
    try:
        state = asyncio.run(release(RemittanceSettings(), remit_id))
    except ReviewError as exc:
        typer.echo(f"not released: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{remit_id}: {state}")
    if state not in ("posted", "recorded"):
        raise typer.Exit(1)


@app.command("repost")
def repost_command(
    payment_id: Annotated[str, typer.Argument(help="The held payment, as `rcm remits exceptions` lists it.")],
) -> None:
    """Post again a payment held for another payee, once RCM_PAYEE_IDS lists its payee."""
    try:
        status = asyncio.run(repost(RemittanceSettings(), payment_id))
    except ReviewError as exc:
        typer.echo(f"not reposted: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{payment_id}: {status}")
    if status != "posted":
        raise typer.Exit(1)


@app.command("to-patient")
def to_patient_command(
    claim_id: Annotated[
        str, typer.Argument(help="The claim whose forwarded amount goes back to the patient.")
    ],
    amount: Annotated[str | None, typer.Option(help="How much (default: all that is forwarded).")] = None,
) -> None:
    """Put back on the patient the share a claim forwarded to a next payer that will not pay it
    (its claim refused, or the patient not its member). Never for a QMB's Medicare cost sharing."""
    try:
        value = Decimal(amount) if amount is not None else None
    except InvalidOperation as exc:
        typer.echo(f"not an amount: {amount}", err=True)
        raise typer.Exit(2) from exc
    if value is not None and value <= 0:
        typer.echo("the amount must be above zero", err=True)
        raise typer.Exit(2)
    done = asyncio.run(to_patient(RemittanceSettings(), claim_id, value))
    if done is None:
        typer.echo(f"{claim_id}: nothing forwarded to put on the patient", err=True)
        raise typer.Exit(1)
    moved, balance = done
    typer.echo(f"{claim_id}: {moved} put on the patient; the patient now owes {balance}")


@app.command("exceptions")
def exceptions_command() -> None:
    """What was flagged and waits for a person (opaque ids, no member data)."""
    rows = asyncio.run(open_exceptions(RemittanceSettings()))
    for r in rows:
        where = " ".join(x for x in (r.name, r.payment_id, r.remit_id) if x)
        typer.echo(f"{r.id}  {r.kind}  {where}  {r.message}")
    typer.echo(f"{len(rows)} open exception(s)")


@app.command("downloads")
def downloads_command() -> None:
    """Mailbox files that failed to post: held ones (not downloaded again until re-driven) first."""
    rows = asyncio.run(failed_downloads(RemittanceSettings()))
    for r in rows:
        state = f"held since {r.held_at:%Y-%m-%d %H:%M}" if r.held_at else "retried each poll"
        typer.echo(
            f"{r.name}  {r.kind}  {r.size} bytes  failed {r.failures}x  {r.reason} ({r.error})  "
            f"last {r.last_failed_at:%Y-%m-%d %H:%M}  {state}"
        )
    typer.echo(f"{len(rows)} failing file(s), {sum(1 for r in rows if r.held_at)} held")


@app.command("retry-download")
def retry_download_command(
    name: Annotated[str, typer.Argument(help="The held file, as `rcm remits downloads` lists it.")],
) -> None:
    """Re-drive a held mailbox file: the next poll downloads and posts it again."""
    released = asyncio.run(retry_download(RemittanceSettings(), name))
    if not released:
        typer.echo(f"{name}: not held", err=True)
        raise typer.Exit(2)
    typer.echo(f"{name}: released; the next poll offers it again")


@app.command("deposit")
def deposit_command(
    trace: Annotated[str, typer.Argument(help="EFT trace or check number (TRN02 of the 835).")],
    amount: Annotated[str, typer.Argument(help="Deposited amount, e.g. 945.00")],
    on: Annotated[str, typer.Argument(help="Deposit date, YYYY-MM-DD")],
    payer: Annotated[
        str | None,
        typer.Option(
            help="The deposit's ACH originator (company id), the payer's TRN03, when the bank gives it."
        ),
    ] = None,
) -> None:
    """Record a bank deposit for reassociation."""
    try:
        value = Decimal(amount)
        day = date.fromisoformat(on)
    except (InvalidOperation, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if value != value.quantize(Decimal("0.01")):
        raise typer.BadParameter("amount has fractions of a cent")
    added = asyncio.run(record_deposit(RemittanceSettings(), Deposit(trace, value, day, payer)))
    typer.echo("deposit recorded" if added else "deposit already recorded")


@app.command("reassociation")
def reassociation_command() -> None:
    """835 payments without a deposit, deposits without an 835, and amount mismatches."""
    report = asyncio.run(reassociation_report(RemittanceSettings()))
    typer.echo(f"matched: {len(report.matched)}")
    for p, d in report.amount_mismatches:
        typer.echo(f"amount differs: trace {p.trace_number} 835 {p.amount} deposit {d.amount}")
    for p in report.payments_without_deposit:
        typer.echo(f"835 without deposit: trace {p.trace_number} amount {p.amount} paid {p.payment_date}")
    for d in report.deposits_without_payment:
        typer.echo(f"deposit without 835: trace {d.trace_number} amount {d.amount} on {d.deposit_date}")
    for d, reason in report.ambiguous_deposits:
        typer.echo(
            f"deposit not matched: trace {d.trace_number} amount {d.amount} on {d.deposit_date}: {reason}"
        )


@app.command("account")
def account_command(
    payer: Annotated[
        str | None, typer.Option(help="Only this payer (our payer id, or the 835's payer identifier).")
    ] = None,
) -> None:
    """Provider-level adjustments (PLB) that name no claim: the account ledger, by payer and payee.

    Positive amounts were withheld from a payment, negative ones paid to the provider; the
    totals are per payer and payee, then overall. Opaque ids and amounts only.
    """
    entries = asyncio.run(account_ledger(RemittanceSettings(), payer=payer))
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in entries:
        ref = f"  ref {e.reference}" if e.reference else ""
        typer.echo(
            f"payer {e.payer}  payee {e.payee}  {e.reason} ({e.kind})  {e.amount}{ref}  "
            f"payment {e.payment_id} trace {e.trace_number} of {e.payment_date or '-'}"
        )
        totals[e.payer, e.payee] += e.amount
    for (payer_id, payee), amount in sorted(totals.items()):
        typer.echo(f"total payer {payer_id}  payee {payee}  {amount}")
    overall = sum(totals.values(), Decimal("0.00"))
    typer.echo(f"{len(entries)} account adjustment(s), total {overall}")
