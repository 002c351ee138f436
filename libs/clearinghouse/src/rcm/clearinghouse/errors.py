"""Typed errors of the transports: each says what happened, never which member or which secret.

``TransportError`` is the base every caller can catch. ``retryable`` tells the
retry policy (and a service's retry/dead-letter routing) whether trying again can help.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AuthenticationFailed",
    "CircuitOpen",
    "ConnectionLost",
    "CoreEnvelopeError",
    "MalformedFile",
    "PayerTimeout",
    "PayerUnavailable",
    "RejectedFinal",
    "RejectedPayload",
    "RejectedRetryable",
    "RemoteFileConflict",
    "ResponseTooLarge",
    "TransportError",
    "UnreadablePayload",
]


class TransportError(Exception):
    """Base of every error raised by ``rcm.clearinghouse``."""

    retryable: bool = False

    def __init__(self, message: str, *, payer: str | None = None) -> None:
        super().__init__(message)
        self.payer = payer

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, payer={self.payer!r})"


class PayerTimeout(TransportError):
    """The payer or clearinghouse did not answer within the configured timeout."""

    retryable = True


class PayerUnavailable(TransportError):
    """The endpoint answered with a server error (HTTP 5xx), throttled (429) or refused the connection.

    ``retry_after`` is how many seconds the endpoint asked the caller to wait (its ``Retry-After``
    header), when it said so.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        payer: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, payer=payer)
        self.status_code = status_code
        self.retry_after = retry_after


class ConnectionLost(TransportError):
    """An established connection (SFTP session, HTTP stream) dropped mid-exchange."""

    retryable = True


class CircuitOpen(TransportError):
    """The payer's circuit breaker is open: the call was rejected without being attempted."""

    def __init__(self, message: str, *, payer: str | None = None, retry_after: float = 0.0) -> None:
        super().__init__(message, payer=payer)
        self.retry_after = retry_after


class AuthenticationFailed(TransportError):
    """Credentials or client certificate were refused (HTTP 401/403, CORE UnAuthorized, SSH auth)."""


class CoreEnvelopeError(TransportError):
    """The CORE endpoint rejected the envelope with an ErrorCode other than Success."""

    def __init__(self, error_code: str, error_message: str = "", *, payer: str | None = None) -> None:
        super().__init__(f"CORE envelope rejected: {error_code}: {error_message}".rstrip(": "), payer=payer)
        self.error_code = error_code
        self.error_message = error_message


class _Rejected(TransportError):
    def __init__(
        self,
        message: str,
        *,
        payer: str | None = None,
        reject_reasons: Sequence[str] = (),
        follow_up_actions: Sequence[str] = (),
        response: str | None = None,
    ) -> None:
        super().__init__(message, payer=payer)
        #: AAA03 reject reason codes found in the response (e.g. "42", "72").
        self.reject_reasons = tuple(reject_reasons)
        #: AAA04 follow-up action codes (e.g. "R", "N", "C").
        self.follow_up_actions = tuple(follow_up_actions)
        # The raw response is kept for the caller (it may hold PHI), never rendered in str/repr.
        self.response = response

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(payer={self.payer!r}, reject_reasons={self.reject_reasons!r}, "
            f"follow_up_actions={self.follow_up_actions!r})"
        )


class RejectedRetryable(_Rejected):
    """The payer answered with AAA reject reasons that say "try again later"."""

    retryable = True


class RejectedFinal(_Rejected):
    """The payer answered with AAA reject reasons that a retry cannot fix (bad member data...)."""


class MalformedFile(TransportError):
    """A downloaded file is not a recognisable X12 interchange."""

    def __init__(self, message: str, *, file_name: str, sha256: str, payer: str | None = None) -> None:
        super().__init__(f"{file_name}: {message}", payer=payer)
        self.file_name = file_name
        self.sha256 = sha256


class RemoteFileConflict(TransportError):
    """A file with the upload's name but different content is already on the server."""


class UnreadablePayload(TransportError):
    """A CORE ``Success`` reply whose payload is no X12 answer: empty or missing, ``NoData``, or
    not X12 at all (an HTML page...). ``reason`` is ``empty``, ``no_data`` or ``not_x12``."""

    def __init__(self, message: str, *, reason: str, payer: str | None = None) -> None:
        super().__init__(message, payer=payer)
        self.reason = reason


class RejectedPayload(TransportError):
    """A CORE ``Success`` reply carrying another transaction than the one asked for: a 999 or TA1
    (the request was rejected), or a 271 to a 276... ``error_codes`` are the 999's / TA1's codes
    (IK3-04, IK4-03, IK5, AK9, TA1-04/05), never the data they point at."""

    def __init__(
        self,
        message: str,
        *,
        payer: str | None = None,
        transaction: str | None = None,
        payload_type: str | None = None,
        error_codes: Sequence[str] = (),
        response: str | None = None,
    ) -> None:
        super().__init__(message, payer=payer)
        self.transaction = transaction
        self.payload_type = payload_type
        self.error_codes = tuple(error_codes)
        # the raw payload is kept for the caller (it may hold PHI), never rendered in str/repr
        self.response = response

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(payer={self.payer!r}, transaction={self.transaction!r}, "
            f"error_codes={self.error_codes!r})"
        )


class ResponseTooLarge(TransportError):
    """The CORE reply is larger than the endpoint's ``max_response_bytes``: it was not read."""
