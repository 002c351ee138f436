"""The statistics stream: read the window's facts, aggregate, publish ``denial-stats-updated``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.denials import store
from rcm.denials.domain.stats import Adjudication, DenialFact, Scope, Tally, aggregate, scope_id
from rcm.events.models import AdjustmentGroup, CarcCount, DenialStatsUpdated
from rcm.servicekit import Service

__all__ = ["compute", "load_facts", "stats_events", "stats_task"]

log = logging.getLogger(__name__)


async def load_facts(
    conn: AsyncConnection, *, start: date, end: date
) -> tuple[list[DenialFact], list[Adjudication]]:
    """Denials opened or resolved in the window, and the lines adjudicated in it."""
    since = datetime.combine(start, datetime.min.time(), UTC)
    d = store.denial
    denial_rows = await conn.execute(
        sa.select(d).where(sa.or_(d.c.opened_at >= since, d.c.resolved_at >= since))
    )
    denials = [
        DenialFact(
            denial_id=r.denial_id,
            claim_id=r.claim_id,
            payer_id=r.payer_id,
            opened_on=r.opened_at.astimezone(UTC).date(),
            amount=r.amount,
            group=r.grp,
            carc=r.carc,
            procedure_code=r.procedure_code,
            modifiers=tuple(r.modifiers),
            provider_id=r.rendering_provider_id,
            state=r.state,
            resolved_on=r.resolved_at.astimezone(UTC).date() if r.status == "resolved" else None,
            recovered=r.recovered,
            written_off=r.written_off,
            source=r.source,
        )
        for r in denial_rows
    ]
    a = store.adjudication
    adjudication_rows = await conn.execute(
        sa.select(a).where(a.c.adjudicated_on >= start, a.c.adjudicated_on <= end)
    )
    adjudications = [
        Adjudication(
            claim_id=r.claim_id,
            payer_id=r.payer_id,
            adjudicated_on=r.adjudicated_on,
            procedure_code=r.procedure_code,
            modifiers=tuple(r.modifiers),
            provider_id=r.rendering_provider_id,
            state=r.state,
            remit_id=r.remit_id,
            charge=r.charge,
        )
        for r in adjudication_rows
    ]
    return denials, adjudications


async def compute(conn: AsyncConnection, *, end: date, window_days: int) -> dict[Scope, Tally]:
    start = end - timedelta(days=window_days - 1)
    denials, adjudications = await load_facts(conn, start=start, end=end)
    return aggregate(denials, adjudications, start=start, end=end)


def stats_events(
    tallies: dict[Scope, Tally], *, start: date, end: date, computed_at: datetime
) -> list[DenialStatsUpdated]:
    """One event per scope; by_carc sorted by claims, then amount."""
    events = []
    for scope, tally in sorted(tallies.items()):
        by_carc = sorted(
            (
                CarcCount(group=AdjustmentGroup(group), carc=carc, claims=len(claims), amount=amount)
                for (group, carc), (claims, amount) in tally.by_carc.items()
            ),
            key=lambda c: (-c.claims, -c.amount, c.group, c.carc),
        )
        events.append(
            DenialStatsUpdated(
                scope_id=scope_id(scope),
                period_start=start,
                period_end=end,
                claims_adjudicated=tally.claims_adjudicated,
                claims_denied=tally.claims_denied,
                denial_rate=tally.denial_rate,
                by_carc=by_carc,
                denied_amount=tally.denied_amount,
                charges_adjudicated=tally.charges_adjudicated,
                denial_rate_by_amount=tally.denial_rate_by_amount,
                claims_submitted=tally.claims_submitted,
                claims_rejected=tally.claims_rejected,
                rejection_rate=tally.rejection_rate,
                rejected_amount=tally.rejected_amount,
                computed_at=computed_at,
            )
        )
    return events


StatsTask = Callable[[Service, asyncio.Event], Coroutine[Any, Any, None]]


def expire_waits_task(*, days: int, interval_s: float = 3600.0) -> StatsTask:
    """A timer that drops the patient shares that waited for a next payer longer than ``days``:
    a coverage added after that is past the time payers allow, and the table stays bounded."""

    async def run(service: Service, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                cutoff = datetime.now(UTC) - timedelta(days=days)
                async with service.engine.begin() as conn:
                    await conn.execute(
                        sa.delete(store.next_payer_wait).where(store.next_payer_wait.c.waiting_since < cutoff)
                    )
            except Exception:  # the timer must outlive a database blip; the next tick retries
                log.exception("denials: expired next-payer waits not dropped this time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=interval_s)

    return run


def stats_task(*, interval_s: float, window_days: int) -> StatsTask:
    """A timer that publishes the window's figures for every scope whose figures changed."""

    async def run(service: Service, stopping: asyncio.Event) -> None:
        published: dict[str, str] = {}
        while not stopping.is_set():
            try:
                now = datetime.now(UTC)
                end = now.date()
                start = end - timedelta(days=window_days - 1)
                async with service.engine.connect() as conn:
                    tallies = await compute(conn, end=end, window_days=window_days)
                changed = []
                for event in stats_events(tallies, start=start, end=end, computed_at=now):
                    fingerprint = event.model_dump_json(exclude={"computed_at"})
                    if published.get(event.scope_id) != fingerprint:
                        changed.append((event, fingerprint))
                if changed:
                    async with service.transaction() as tx:
                        for event, _ in changed:
                            tx.publish(event)
                    published.update((e.scope_id, f) for e, f in changed)
            except Exception:  # the timer must outlive a database blip; the next tick retries
                log.exception("denials: statistics not published this time")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=interval_s)

    return run
