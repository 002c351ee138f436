"""Structured logs with trace ids, and the redaction layer that keeps PHI out of them.

PHI never belongs in a log line, a metric label or a span attribute. Code logs
opaque ids (claim key, event id, patient id) and passes structured context as
``extra={"fields": {...}}``. The redaction layer is the safety net behind that
rule: it masks values of fields whose names denote PHI, and masks text that looks
like a date, an SSN, a phone number or an e-mail address.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["PHI_FIELDS", "JsonFormatter", "RedactingFilter", "configure_logging", "redact", "redact_text"]

MASK = "[redacted]"

PHI_FIELDS = frozenset(
    {
        "name", "first_name", "last_name", "middle_name", "given_name", "family_name", "full_name",
        "patient_name", "subscriber_name", "member_id", "subscriber_id", "insured_id", "policy_number",
        "dob", "date_of_birth", "birth_date", "birthdate", "ssn", "address", "address_line", "address1",
        "address2", "street", "city", "postal_code", "zip", "zip_code", "phone", "email", "mrn",
    }
)  # fmt: skip

_TEXT_PATTERNS = [
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # SSN
    re.compile(r"\b(19|20)\d{2}-\d{2}-\d{2}\b"),  # ISO date
    re.compile(r"\b\d{1,2}/\d{1,2}/(19|20)?\d{2}\b"),  # US date
    re.compile(r"\bD8[*:](19|20)\d{6}\b"),  # X12 date of birth (DMG*D8*CCYYMMDD)
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # e-mail
    re.compile(r"\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b"),  # phone
]


def redact_text(text: str) -> str:
    for pattern in _TEXT_PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with PHI fields masked, recursively, and text patterns masked."""
    if _depth > 8:
        return MASK
    if isinstance(value, Mapping):
        return {
            k: (MASK if str(k).lower() in PHI_FIELDS else redact(v, _depth + 1)) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class RedactingFilter(logging.Filter):
    """Masks PHI in the message, its arguments and the structured ``fields`` of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact_text(str(record.msg))
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            record.fields = redact(fields)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the current trace and span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        from opentelemetry import trace

        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
            entry["span_id"] = f"{span.span_id:016x}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON logs on stderr, redacted, for the whole process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
