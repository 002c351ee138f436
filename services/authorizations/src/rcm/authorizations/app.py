"""``build_service(settings)``: the consumer, the daily expiry timer (alerts, stale bookings)
and the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rcm.authorizations.handlers import Ledger
from rcm.authorizations.settings import AuthorizationOptions, AuthorizationSettings
from rcm.events.catalog import topics_of
from rcm.servicekit import Service, ServiceSettings, decode_event

__all__ = ["TOPICS", "build_service"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

TOPICS = [
    "payer-updated",
    "authorization-received",
    "appointment-scheduled",
    "appointment-cancelled",
    "claim-created",
    "claim-voided",
    "claim-void-requested",
    "session-voided",
]
"""What the ledger listens to; patient-keyed topics keep one patient's events in order."""


def build_service(
    settings: ServiceSettings,
    *,
    options: AuthorizationOptions | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Service:
    """The authorizations service: burn-down on claims, bookings on appointments, alerts."""
    if options is None:
        options = (
            settings.authorizations if isinstance(settings, AuthorizationSettings) else AuthorizationOptions()
        )
    ledger = Ledger(
        policy=options.policy(),
        reserve_on_schedule=options.reserve_on_schedule,
        booking_grace_days=options.booking_grace_days,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    service = Service(settings, migrations=MIGRATIONS, topics=topics_of("authorizations", *TOPICS))
    service.add_consumer(
        settings.service_name,
        topics=TOPICS,
        handler=ledger.batch_handler(),
        decode=decode_event,
        ordered_per_key=True,
    )

    async def expiry_timer(service: Service, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with service.transaction() as tx:
                    dropped = await ledger.expire_bookings(tx)
                    raised = await ledger.check_expiry(tx)
                if dropped:
                    log.info("expiry check dropped %d stale booking(s)", dropped)
                if raised:
                    log.info("expiry check raised %d alert(s)", raised)
            except Exception:
                log.exception("expiry check failed; trying again at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=options.expiry_check_interval_s)

    service.add_task(expiry_timer)
    return service
