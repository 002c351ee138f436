"""``rcm denials``: run the service, show the work queue and the statistics, record appeal decisions."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.denials import store
from rcm.denials.analytics import compute
from rcm.denials.domain.stats import DIMENSIONS
from rcm.denials.handlers import opaque_id
from rcm.denials.settings import DenialsSettings
from rcm.events.models import DenialOutcome, DenialResolved
from rcm.servicekit import Transaction, configure_logging, configure_tracing, create_engine

__all__ = ["app"]

app = typer.Typer(
    name="denials",
    help="Denials: triage, corrective actions, the work queue, appeals and statistics.",
    no_args_is_help=True,
)


@app.callback()
def denials() -> None:
    """Denials: triage, corrective actions, the work queue, appeals and statistics."""


def _engine() -> tuple[DenialsSettings, AsyncEngine]:
    settings = DenialsSettings()
    return settings, create_engine(settings.database_url.get_secret_value(), pool_size=1)


@app.command()
def run() -> None:
    """Start the service (consumers, outbox relay, statistics timer) until SIGTERM."""
    from rcm.denials.app import build_service

    settings = DenialsSettings()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    asyncio.run(build_service(settings).run())


async def _queue_rows(status: str, payer: str | None, kind: str | None, limit: int) -> list[Any]:
    _, engine = _engine()
    w = store.work_item
    query = sa.select(w).order_by(w.c.deadline.asc().nulls_last(), w.c.created_at).limit(limit)
    if status != "all":
        query = query.where(w.c.status == status)
    if payer:
        query = query.where(w.c.payer_id == payer)
    if kind:
        query = query.where(w.c.kind == kind)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(query)).all())
    finally:
        await engine.dispose()


@app.command()
def queue(
    status: str = typer.Option("open", help="open, appealed, closed or all."),
    payer: str | None = typer.Option(None, help="Only this payer id."),
    kind: str | None = typer.Option(
        None, help="denial, underpayment, information_request or qmb_cost_sharing."
    ),
    limit: int = typer.Option(50, help="Most items shown."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """The work queue, soonest deadline first: reason, next step, evidence and deadline."""
    rows = asyncio.run(_queue_rows(status, payer, kind, limit))
    if as_json:
        for r in rows:
            typer.echo(
                json.dumps(
                    {
                        "item_id": r.item_id,
                        "kind": r.kind,
                        "claim_id": r.claim_id,
                        "payer_id": r.payer_id,
                        "action": r.action,
                        "reason": r.reason,
                        "next_step": r.next_step,
                        "evidence": r.evidence,
                        "amount": str(r.amount),
                        "deadline": r.deadline.isoformat() if r.deadline else None,
                        "status": r.status,
                        "appeal_level": r.appeal_level,
                    }
                )
            )
        return
    table = Table(title=f"Denials work queue ({status})")
    for column in (
        "item",
        "claim",
        "payer",
        "action",
        "amount",
        "deadline",
        "reason",
        "next step",
        "evidence",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.item_id,
            r.claim_id,
            r.payer_id,
            r.action + (f" L{r.appeal_level}" if r.appeal_level else ""),
            str(r.amount),
            r.deadline.isoformat() if r.deadline else "-",
            r.reason,
            r.next_step,
            "; ".join(f"{k}={v}" for k, v in sorted(r.evidence.items())),
        )
    Console().print(table)


async def _stats(window_days: int, end: date) -> dict[Any, Any]:
    _, engine = _engine()
    try:
        async with engine.connect() as conn:
            return await compute(conn, end=end, window_days=window_days)
    finally:
        await engine.dispose()


@app.command()
def stats(
    dimension: str = typer.Option("payer", help=f"One of: all, {', '.join(DIMENSIONS)}."),
    window_days: int = typer.Option(30, help="Rolling window, in days, ending today."),
) -> None:
    """Denial and resolution counts and amounts over a rolling window, by one dimension."""
    if dimension not in ("all", *DIMENSIONS):
        raise typer.BadParameter(f"unknown dimension {dimension!r}")
    tallies = asyncio.run(_stats(window_days, datetime.now(UTC).date()))
    table = Table(title=f"Denials by {dimension}, last {window_days} days")
    for column in (
        "value",
        "adjudicated",
        "denied",
        "rate",
        "denied $",
        "adjudicated $",
        "rate by $",
        "submitted",
        "rejected",
        "rejection rate",
        "rejected $",
        "resolved",
        "recovered $",
        "written off $",
    ):
        table.add_column(column)
    rows = sorted(
        ((value, t) for (dim, value), t in tallies.items() if dim == dimension),
        key=lambda item: (-item[1].denied_amount, item[0]),
    )
    for value, t in rows:
        table.add_row(
            value,
            str(t.claims_adjudicated),
            str(t.claims_denied),
            f"{t.denial_rate:.2%}" if t.denial_rate is not None else "-",
            str(t.denied_amount),
            str(t.charges_adjudicated),
            f"{t.denial_rate_by_amount:.2%}" if t.denial_rate_by_amount is not None else "-",
            str(t.claims_submitted),
            str(t.claims_rejected),
            f"{t.rejection_rate:.2%}" if t.rejection_rate is not None else "-",
            str(t.rejected_amount),
            str(t.resolved),
            str(t.recovered),
            str(t.written_off),
        )
    Console().print(table)


class Decision(StrEnum):
    OVERTURNED = "overturned"
    UPHELD = "upheld"


async def _appeal(item_id: str, *, level: int | None, decision: Decision | None) -> str:
    settings, engine = _engine()
    w, d = store.work_item, store.denial
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            item = (await conn.execute(sa.select(w).where(w.c.item_id == item_id).with_for_update())).first()
            if item is None:
                return f"no work item {item_id}"
            if decision is None:
                await conn.execute(
                    sa.update(w)
                    .where(w.c.item_id == item_id)
                    .values(status="appealed", appeal_level=level or 1)
                )
                return f"{item_id}: appeal level {level or 1} filed"
            if decision is Decision.OVERTURNED:
                # The payer reversed its denial; the denial resolves when its remit pays.
                await conn.execute(sa.update(w).where(w.c.item_id == item_id).values(decision="overturned"))
                return f"{item_id}: overturned, waiting for the payment"
            await conn.execute(
                sa.update(w)
                .where(w.c.item_id == item_id)
                .values(status="closed", decision="upheld", closed_at=now)
            )
            if item.denial_id is not None:
                row = (
                    await conn.execute(
                        sa.update(d)
                        .where(d.c.denial_id == item.denial_id, d.c.status == "open")
                        .values(status="resolved", outcome=DenialOutcome.APPEAL_UPHELD.value, resolved_at=now)
                        .returning(d)
                    )
                ).first()
                if row is not None:
                    tx = Transaction(conn, "cli", source=settings.service_name, prefix=settings.topic_prefix)
                    tx.publish(
                        DenialResolved(
                            denial_id=row.denial_id,
                            claim_id=row.claim_id,
                            patient_id=row.patient_id,
                            outcome=DenialOutcome.APPEAL_UPHELD,
                            recovered=0,
                            written_off=0,
                            resolved_at=now,
                        ),
                        event_id=opaque_id("evt", row.denial_id, "resolved"),
                    )
                    await tx.flush()
            return f"{item_id}: upheld by the payer; closed"
    finally:
        await engine.dispose()


@app.command()
def appeal(
    item_id: str = typer.Argument(..., help="Work item id (from `rcm denials queue`)."),
    level: int = typer.Option(1, help="Appeal level filed."),
) -> None:
    """Record that an appeal was filed for a work item."""
    typer.echo(asyncio.run(_appeal(item_id, level=level, decision=None)))


@app.command()
def decide(
    item_id: str = typer.Argument(..., help="Work item id."),
    decision: Decision = typer.Argument(..., help="overturned or upheld."),
) -> None:
    """Record the payer's appeal decision (upheld closes the denial; overturned waits for the payment)."""
    typer.echo(asyncio.run(_appeal(item_id, level=None, decision=decision)))
