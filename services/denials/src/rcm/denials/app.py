"""Wiring: ``build_service(settings)`` -> the denials Service; ``rcm denials run`` starts it."""

from __future__ import annotations

from pathlib import Path

from rcm.denials.analytics import expire_waits_task, stats_task
from rcm.denials.domain.playbook import Playbook
from rcm.denials.handlers import DenialHandlers
from rcm.denials.metrics import DenialsMetrics
from rcm.denials.settings import DenialsSettings, load_configured_playbook
from rcm.events.catalog import topics_of
from rcm.events.models import CheckTrigger
from rcm.servicekit import Service, ServiceSettings, decode_event, only_when

__all__ = ["CONSUMED", "PUBLISHED", "build_service"]

CONSUMED = (
    "remit-received",
    "claim-acknowledged",
    "claim-created",
    "claim-voided",
    "payer-updated",
    "coverage-updated",
    "patient-updated",
    "authorization-received",
    "fee-schedule-updated",
    "eligibility-checked",
    "claim-correction-refused",
)
PUBLISHED = (
    "denial-opened",
    "denial-resolved",
    "denial-stats-updated",
    "claim-correction-requested",
    "claim-void-requested",
    "claim-write-off-requested",
    "secondary-claim-requested",
    "eligibility-recheck-requested",
)


def _as_denials_settings(settings: ServiceSettings) -> DenialsSettings:
    if isinstance(settings, DenialsSettings):
        return settings
    return DenialsSettings(**{name: getattr(settings, name) for name in ServiceSettings.model_fields})


def build_service(settings: ServiceSettings, *, playbook: Playbook | None = None) -> Service:
    """The denials service: one consumer over its topics, the outbox relay, the statistics timer and
    its business metrics (``rcm.denials.metrics``) on the service's registry."""
    denials = _as_denials_settings(settings)
    topics = topics_of("denials", *CONSUMED, *PUBLISHED)
    if denials.topic_partitions:
        topics = {name: {**spec, "partitions": denials.topic_partitions} for name, spec in topics.items()}
    service = Service(denials, migrations=Path(__file__).parent / "migrations", topics=topics)
    handlers = DenialHandlers(
        playbook or load_configured_playbook(denials.playbook_path),
        metrics=DenialsMetrics(service.metrics.registry),
    )
    service.add_consumer(
        denials.service_name,
        topics=list(CONSUMED),
        handler=handlers.batch_handler(),
        decode=decode_event,
        ordered_per_key=True,
        # it acts on an eligibility check only when it answers a re-check (one a denial asked for)
        accept=only_when("eligibility-checked", trigger={CheckTrigger.RECHECK}),
    )
    service.add_task(stats_task(interval_s=denials.stats_interval_s, window_days=denials.stats_window_days))
    service.add_task(expire_waits_task(days=denials.next_payer_wait_days))
    return service
