"""How a handler tells the runtime what kind of failure happened."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["PermanentError", "TransientError", "describe_error", "is_infrastructure_error"]


class PermanentError(Exception):
    """Retrying cannot help (invalid payload, a business rule violated): dead letters at once."""


class TransientError(Exception):
    """Retrying later may help (a payer timed out, a dependency is not ready yet)."""


def is_infrastructure_error(exc: BaseException) -> bool:
    """The database or the network is down: retry in place, never move records away."""
    import psycopg
    from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError | psycopg.OperationalError | ConnectionError):
        return True
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return True
    if isinstance(exc, KafkaError) and getattr(exc, "retriable", False):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError)


def describe_error(exc: BaseException, limit: int = 500) -> str:
    """A short description of an error that is safe to put in headers and logs.

    Validation errors are described by field location and error type only, never by
    the offending input, which may be PHI. Other messages go through the redactor.
    """
    from rcm.servicekit.logs import redact_text

    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}" for err in exc.errors()[:10]]
        text = f"ValidationError: {'; '.join(parts)}"
    else:
        text = f"{type(exc).__name__}: {redact_text(str(exc))}"
    return text[:limit]
