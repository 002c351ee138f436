"""The event catalog: every event type with its topic, key, model and topic settings.

This module is the single place that says which events exist. Services, the envelope,
the AsyncAPI document, the schema snapshots and the deployment's topic resources all
read it.

* Topic names are the event name (entity-verb, past tense), optionally prefixed per
  environment (``staging.session-completed``); version 2 of an event would get its own
  type and topic (``session-completed-v2``).
* Patient-centric events are keyed by ``patient_id``, so one patient's events stay in
  order on one partition. Reference topics are log-compacted, keyed by the entity id and
  carry the entity's full state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from rcm.events import models as m
from rcm.events.errors import UnknownEventType
from rcm.events.models import Event

__all__ = [
    "CATALOG",
    "PREFIX_ENV",
    "EventSpec",
    "all_specs",
    "catalog_markdown",
    "spec_for",
    "spec_for_name",
    "spec_for_topic",
    "spec_for_type",
    "topic_prefix",
    "topics_of",
]

PREFIX_ENV = "RCM_TOPIC_PREFIX"
"""Environment variable holding the optional topic prefix (e.g. ``staging``)."""

_DAY_MS = 24 * 60 * 60 * 1000
_EHR = "clinical systems"


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One event type of the catalog."""

    name: str
    """Event name and base topic name, e.g. ``session-completed``."""
    model: type[Event]
    """Pydantic model of the body."""
    key: str
    """Body field whose value is the partition key and the CloudEvents subject (an opaque id)."""
    producers: tuple[str, ...]
    """Who publishes it."""
    consumers: tuple[str, ...] = ()
    """Services that subscribe (dashboards and warehouses may subscribe to anything)."""
    version: int = 1
    """Schema version; a breaking change is a new version with its own type and topic."""
    compacted: bool = False
    """Log-compacted topic holding the latest full state per key."""
    partitions: int = 12
    """Default partition count."""
    retention_ms: int = 30 * _DAY_MS
    """Default retention; -1 keeps compacted topics forever."""
    config: dict[str, str] = field(default_factory=dict)
    """Extra Kafka topic configuration."""
    attributes: tuple[str, ...] = ()
    """Body fields also carried as CloudEvents extension attributes (header ``ce_<field without
    underscores>``, see :meth:`attribute_header`), so a consumer can skip the events it does not
    act on without decoding them. Codes and states only, never PHI."""

    @property
    def type(self) -> str:
        """The CloudEvents ``type`` attribute, e.g. ``rcm.session-completed.v1``."""
        return f"rcm.{self.name}.v{self.version}"

    @property
    def description(self) -> str:
        """First line of the model's docstring."""
        return (self.model.__doc__ or self.name).strip().splitlines()[0]

    def topic(self, prefix: str | None = None) -> str:
        """Topic name, with ``prefix`` (or the ``RCM_TOPIC_PREFIX`` setting) in front if given."""
        base = self.name if self.version == 1 else f"{self.name}-v{self.version}"
        prefix = topic_prefix() if prefix is None else prefix
        return f"{prefix}.{base}" if prefix else base

    def key_of(self, event: Event) -> str:
        """The partition key of ``event``."""
        if not isinstance(event, self.model):
            raise TypeError(f"{type(event).__name__} is not a {self.model.__name__}")
        value = getattr(event, self.key)
        if not isinstance(value, str):  # guarded by a test; keys are required ids
            raise TypeError(f"key field {self.key} of {self.name} is not a string")
        return value

    @staticmethod
    def attribute_header(field_name: str) -> str:
        """The Kafka header of the extension attribute carrying ``field_name`` (``to_status`` ->
        ``ce_tostatus``: CloudEvents attribute names are lower-case letters and digits)."""
        return "ce_" + field_name.replace("_", "")

    def attributes_of(self, event: Event) -> list[tuple[str, str]]:
        """The extension attribute headers of ``event``: (header, value) for each of
        :attr:`attributes` that has a value (enums by their value)."""
        pairs: list[tuple[str, str]] = []
        for name in self.attributes:
            value = getattr(event, name)
            if value is None:
                continue
            pairs.append((self.attribute_header(name), str(getattr(value, "value", value))))
        return pairs

    def topic_config(self) -> dict[str, str]:
        """Kafka topic configuration (cleanup policy, retention and extras)."""
        config = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }
        return {**config, **self.config}


def _reference(name: str, model: type[Event], key: str, *consumers: str) -> EventSpec:
    return EventSpec(
        name=name,
        model=model,
        key=key,
        producers=(_EHR,),
        consumers=consumers,
        compacted=True,
        partitions=6,
        retention_ms=-1,
        config={"min.compaction.lag.ms": str(_DAY_MS // 24)},
    )


def _patient(name: str, model: type[Event], producers: tuple[str, ...], *consumers: str) -> EventSpec:
    return EventSpec(name=name, model=model, key="patient_id", producers=producers, consumers=consumers)


_ELIG = ("eligibility",)
_CLAIMS = ("claims",)
_REMIT = ("remittance",)
_DENIALS = ("denials",)
_AUTHS = ("authorizations",)

CATALOG: tuple[EventSpec, ...] = (
    # reference data from clinical systems: compacted, keyed by entity id, full state
    _reference("organization-updated", m.OrganizationUpdated, "organization_id", "eligibility", "claims"),
    _reference("patient-updated", m.PatientUpdated, "patient_id", "eligibility", "claims", "denials"),
    _reference("coverage-updated", m.CoverageUpdated, "coverage_id", "eligibility", "claims", "denials"),
    _reference("provider-updated", m.ProviderUpdated, "provider_id", "eligibility", "claims"),
    _reference(
        "payer-updated",
        m.PayerUpdated,
        "payer_id",
        "eligibility",
        "claims",
        "remittance",
        "denials",
        "authorizations",
    ),
    _reference("fee-schedule-updated", m.FeeScheduleUpdated, "fee_schedule_id", "claims", "denials"),
    # clinical facts
    _patient("appointment-scheduled", m.AppointmentScheduled, (_EHR,), "eligibility", "authorizations"),
    _patient("appointment-cancelled", m.AppointmentCancelled, (_EHR,), "authorizations"),
    _patient("session-completed", m.SessionCompleted, (_EHR,), "claims"),
    _patient("session-corrected", m.SessionCorrected, (_EHR,), "claims"),
    _patient("session-voided", m.SessionVoided, (_EHR,), "claims", "authorizations"),
    _patient(
        "authorization-received", m.AuthorizationReceived, (_EHR,), "authorizations", "claims", "denials"
    ),
    _patient("patient-payment-received", m.PatientPaymentReceived, (_EHR,), "remittance"),
    # eligibility
    EventSpec(
        name="eligibility-checked",
        model=m.EligibilityChecked,
        key="patient_id",
        producers=_ELIG,
        consumers=("claims", "denials"),
        attributes=("trigger",),  # denials reads only the answers to its re-checks
    ),
    _patient("coverage-changed", m.CoverageChanged, _ELIG, "claims"),
    _patient("eligibility-recheck-requested", m.EligibilityRecheckRequested, _DENIALS, "eligibility"),
    # claims
    _patient("claim-created", m.ClaimCreated, _CLAIMS, "remittance", "denials", "authorizations"),
    _patient("session-not-billed", m.SessionNotBilled, _CLAIMS),
    _patient("claim-held", m.ClaimHeld, _CLAIMS),
    _patient("claim-released", m.ClaimReleased, _CLAIMS),
    _patient("claim-submitted", m.ClaimSubmitted, _CLAIMS, "remittance"),
    _patient("claim-acknowledged", m.ClaimAcknowledged, _CLAIMS, "remittance", "denials"),
    EventSpec(
        name="claim-status-changed",
        model=m.ClaimStatusChanged,
        key="patient_id",
        producers=_CLAIMS,
        attributes=("to_status",),  # a subscriber may pick transitions without decoding
    ),
    _patient("claim-voided", m.ClaimVoided, _CLAIMS, "denials", "authorizations"),
    _patient("claim-correction-requested", m.ClaimCorrectionRequested, _DENIALS, "claims"),
    _patient("claim-correction-refused", m.ClaimCorrectionRefused, _CLAIMS, "denials"),
    _patient("claim-void-requested", m.ClaimVoidRequested, _DENIALS, "claims", "authorizations"),
    _patient("claim-write-off-requested", m.ClaimWriteOffRequested, _DENIALS, "claims", "remittance"),
    _patient("secondary-claim-requested", m.SecondaryClaimRequested, _DENIALS, "claims", "remittance"),
    # remittance and patient money
    _patient("remit-received", m.RemitReceived, _REMIT, "claims", "denials"),
    # claims takes a claim's payer outcome and next payer from remit-received, not from the ledger
    _patient("payment-posted", m.PaymentPosted, _REMIT),
    _patient("patient-balance-changed", m.PatientBalanceChanged, _REMIT),
    EventSpec(name="remit-unmatched", model=m.RemitUnmatched, key="payer_id", producers=_REMIT, partitions=3),
    # denials
    _patient("denial-opened", m.DenialOpened, _DENIALS),
    _patient("denial-resolved", m.DenialResolved, _DENIALS),
    EventSpec(
        name="denial-stats-updated",
        model=m.DenialStatsUpdated,
        key="scope_id",
        producers=_DENIALS,
        compacted=True,
        partitions=3,
        retention_ms=-1,
    ),
    # authorizations
    _patient("authorization-consumed", m.AuthorizationConsumed, _AUTHS, "claims"),
    _patient("authorization-released", m.AuthorizationReleased, _AUTHS, "claims"),
    _patient("authorization-alert", m.AuthorizationAlert, _AUTHS, "claims"),
)
"""Every event type, in flow order."""

_BY_NAME = {spec.name: spec for spec in CATALOG}
_BY_TYPE = {spec.type: spec for spec in CATALOG}
_BY_MODEL = {spec.model: spec for spec in CATALOG}


def topic_prefix() -> str:
    """The configured topic prefix (``RCM_TOPIC_PREFIX``), or an empty string."""
    return os.environ.get(PREFIX_ENV, "").strip()


def all_specs() -> Iterator[EventSpec]:
    """Iterate over the catalog in flow order."""
    return iter(CATALOG)


def topics_of(service: str, *also: str) -> dict[str, dict[str, object]]:
    """The topics ``service`` reads or writes (the catalog's consumers and producers), and ``also``,
    with the settings a missing one is created with: ``{name: {"partitions", "compacted",
    "retention_ms"}}`` (see ``rcm.servicekit.kafka.ensure_topics``)."""
    names = [s.name for s in CATALOG if service in s.producers or service in s.consumers]
    topics: dict[str, dict[str, object]] = {}
    for name in dict.fromkeys([*names, *also]):
        spec = spec_for_name(name)
        topics[name] = {
            "partitions": spec.partitions,
            "compacted": spec.compacted,
            "retention_ms": spec.retention_ms,
        }
    return topics


def spec_for_name(name: str) -> EventSpec:
    """The spec of the event named ``name`` (``session-completed``)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownEventType(f"no event named {name!r}") from None


def spec_for_type(ce_type: str) -> EventSpec:
    """The spec of the CloudEvents type ``ce_type`` (``rcm.session-completed.v1``)."""
    try:
        return _BY_TYPE[ce_type]
    except KeyError:
        raise UnknownEventType(f"no event of type {ce_type!r}") from None


def spec_for_topic(topic: str, prefix: str | None = None) -> EventSpec:
    """The spec of the event carried on ``topic`` (with the given or configured prefix)."""
    for spec in CATALOG:
        if spec.topic(prefix) == topic:
            return spec
    raise UnknownEventType(f"no event on topic {topic!r}")


def spec_for(event: Event | type[Event]) -> EventSpec:
    """The spec of an event instance or model class."""
    model = event if isinstance(event, type) else type(event)
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise UnknownEventType(f"{model.__name__} is not in the catalog") from None


def catalog_markdown() -> str:
    """The catalog as a Markdown table (embedded in the package README)."""
    rows = [
        "| Topic | Key | Compacted | Partitions | Producer | Consumers | Type |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in CATALOG:
        rows.append(
            f"| `{spec.topic('')}` | `{spec.key}` | {'yes' if spec.compacted else 'no'} | {spec.partitions} "
            f"| {', '.join(spec.producers)} | {', '.join(spec.consumers) or '-'} | `{spec.type}` |"
        )
    return "\n".join(rows) + "\n"
