"""Wiring: ``build_service(settings)`` gives the running service; ``rcm eligibility run`` starts it.

One consumer (``ordered_per_key=False``: results are recorded, not retried through the
retry topic, so there is nothing to keep in order behind a parked key, and a record
waiting for reference data must not hold up a patient's other checks), the outbox relay,
and the re-check timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rcm.clearinghouse import (
    CircuitBreakers,
    ClearinghouseMetrics,
    ClearinghouseSettings,
    CoreRealtimeClient,
)
from rcm.eligibility.checker import Checker
from rcm.eligibility.handlers import Eligibility
from rcm.eligibility.settings import EligibilityOptions, load_clearinghouse
from rcm.events.catalog import topics_of
from rcm.servicekit import Service, ServiceSettings, decode_event

__all__ = ["MIGRATIONS", "TOPICS", "build_service"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [
    "patient-updated",
    "coverage-updated",
    "provider-updated",
    "payer-updated",
    "organization-updated",
    "appointment-scheduled",
    "eligibility-recheck-requested",
]


def build_service(
    settings: ServiceSettings,
    *,
    options: EligibilityOptions | None = None,
    clearinghouse: ClearinghouseSettings | None = None,
    core: CoreRealtimeClient | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Service:
    options = options or EligibilityOptions()
    clearinghouse = clearinghouse or load_clearinghouse(options.clearinghouse_file)
    service = Service(settings, migrations=MIGRATIONS, topics=topics_of("eligibility", *TOPICS))
    if core is None:  # the payers' circuit breakers are served on the service's registry
        breakers = CircuitBreakers(metrics=ClearinghouseMetrics(service.metrics.registry))
        core = CoreRealtimeClient(clearinghouse, breakers=breakers)
    checker = Checker(clearinghouse, core=core, now=now, usage=options.usage)
    eligibility = Eligibility(checker, options, now=now)
    service.add_consumer(
        settings.service_name,
        topics=TOPICS,
        handler=eligibility.handle,
        decode=decode_event,
        ordered_per_key=False,
    )

    async def recheck_timer(svc: Service, stop: asyncio.Event) -> None:
        """Scheduled checks (night before, AAA waits, outages, busy payers), in rounds of ``recheck_batch``.

        Sleeps until the poll interval or the soonest due check, whichever comes first;
        a check queued behind a busy payer wakes it to look again.
        """
        try:
            while not stop.is_set():
                next_due = None
                try:
                    eligibility.wake.clear()
                    async with svc.transaction() as tx:
                        ran = await eligibility.run_due(tx, limit=options.recheck_batch)
                        next_due = await eligibility.next_due(tx.conn)
                except Exception:
                    log.exception("re-check round failed; trying again next round")
                    ran = 0
                if ran >= options.recheck_batch:
                    continue  # more are due: no pause
                pause = eligibility.seconds_to_next_round(next_due=next_due, poll=options.recheck_poll_s)
                await _first_of(stop, eligibility.wake, seconds=pause)
        finally:
            await checker.aclose()

    service.add_task(recheck_timer)
    return service


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    """Wait until one of ``events`` is set, at most ``seconds``."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
