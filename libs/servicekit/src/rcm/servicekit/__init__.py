"""What every service shares: settings, broker and database wiring, inbox, outbox,
retry and dead-letter topics, telemetry, probes and logging without PHI."""

from rcm.servicekit.consumer import BatchConsumer, BatchHandler, Decoder, Transaction, dispatch
from rcm.servicekit.contracts import RecordFilter, all_of, decode_event, only_when
from rcm.servicekit.db import (
    among,
    create_engine,
    create_kit_indexes,
    create_kit_tables,
    drop_kit_indexes,
    kit_metadata,
    upgrade,
)
from rcm.servicekit.errors import PermanentError, TransientError
from rcm.servicekit.logs import configure_logging
from rcm.servicekit.messages import Delivered, OutgoingMessage, Record
from rcm.servicekit.metrics import RuntimeMetrics
from rcm.servicekit.outbox import OutboxRelay, write_outbox
from rcm.servicekit.service import Service
from rcm.servicekit.settings import ServiceSettings
from rcm.servicekit.telemetry import configure_tracing
from rcm.servicekit.upsert_cache import enable as _enable_upsert_cache

_enable_upsert_cache()

__all__ = [
    "BatchConsumer",
    "BatchHandler",
    "Decoder",
    "Delivered",
    "OutboxRelay",
    "OutgoingMessage",
    "PermanentError",
    "Record",
    "RecordFilter",
    "RuntimeMetrics",
    "Service",
    "ServiceSettings",
    "Transaction",
    "TransientError",
    "all_of",
    "among",
    "configure_logging",
    "configure_tracing",
    "create_engine",
    "create_kit_indexes",
    "create_kit_tables",
    "decode_event",
    "dispatch",
    "drop_kit_indexes",
    "kit_metadata",
    "only_when",
    "upgrade",
    "write_outbox",
]
