"""Real-time 270/271 and 276/277 over the CAQH CORE connectivity rule (vC2.2.0), with httpx.

Each payer's endpoint, envelope form (MIME multipart or SOAP), credentials or client
certificate, retry policy and circuit breaker come from ``ClearinghouseSettings``.
A call returns the response payload (the 271 or 277) or raises a typed ``TransportError``:
``PayerTimeout``, ``PayerUnavailable``, ``AuthenticationFailed``, ``CoreEnvelopeError``,
``CircuitOpen``, and for AAA rejects ``RejectedRetryable`` (retried here) or ``RejectedFinal``.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from rcm.clearinghouse.aaa import check_aaa
from rcm.clearinghouse.config import ClearinghouseSettings, CoreEndpoint, TlsSettings
from rcm.clearinghouse.envelope import (
    RESPONSE_TYPE,
    SOAP_CONTENT_TYPE,
    CoreErrorCode,
    CoreMessage,
    EnvelopeFormatError,
    PayloadType,
    checksum,
    decode_multipart,
    from_form,
    from_soap,
    new_request,
    to_form,
    to_soap,
)
from rcm.clearinghouse.errors import (
    AuthenticationFailed,
    ConnectionLost,
    CoreEnvelopeError,
    PayerTimeout,
    PayerUnavailable,
    RejectedPayload,
    ResponseTooLarge,
    TransportError,
    UnreadablePayload,
)
from rcm.clearinghouse.retry import CircuitBreakers, call_with_retry
from rcm.clearinghouse.x12sniff import segments_of
from rcm.x12.segments import Segment

__all__ = ["CoreRealtimeClient", "CoreResponse", "retry_after_seconds", "ssl_context_for"]

log = logging.getLogger(__name__)

#: Below 500, the statuses that say "not now" rather than "not this request": 408 request
#: timeout, 429 too many requests (throttling). They are retried like a 5xx.
RETRYABLE_STATUS = frozenset({408, 429})

#: The transaction (ST01) that answers each request.
_ANSWER_ST01 = {PayloadType.X12_270_REQUEST: "271", PayloadType.X12_276_REQUEST: "277"}
NO_DATA_TYPE = "X12_005010_Response_NoData"

#: The code elements of a 999 / TA1 (never the copied bad data of IK404, nor segment ids).
_ERROR_CODE_ELEMENTS = {
    "IK3": (4,),
    "IK4": (3,),
    "IK5": (1, 2, 3, 4, 5, 6),
    "AK9": (1, 5, 6, 7, 8, 9),
    "TA1": (4, 5),
}


def _error_codes(segments: list[Segment]) -> list[str]:
    codes: list[str] = []
    for segment in segments:
        for position in _ERROR_CODE_ELEMENTS.get(segment.id, ()):
            value = segment.get(position)
            if value:
                codes.append(f"{segment.id}{position:02d}:{value[:8]}")
    return codes[:40]


@dataclass(frozen=True, slots=True)
class CoreResponse:
    payload_id: str
    payload_type: str
    payload: str = field(repr=False)
    #: How many attempts it took (1 = first try).
    attempts: int = 1


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """The wait an HTTP ``Retry-After`` asks for, in seconds: delay-seconds or an HTTP date
    (RFC 9110 10.2.3); a date in the past is 0, anything unreadable None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" (RFC 5322) parses as naive; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def ssl_context_for(tls: TlsSettings | None) -> ssl.SSLContext | bool:
    """The TLS context of an endpoint: system trust store unless a CA file is given, plus a client cert."""
    if tls is None:
        return True
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.client_cert_file is not None:
        context.load_cert_chain(
            certfile=str(tls.client_cert_file),
            keyfile=str(tls.client_key_file) if tls.client_key_file else None,
            password=tls.client_key_password.get_secret_value() if tls.client_key_password else None,
        )
    return context


def _certificate_refused(exc: BaseException) -> bool:
    """True when the TLS layer reports a refused or missing client certificate."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and "CERTIFICATE" in str(seen.reason or seen).upper():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transport_error(exc: httpx.TransportError, payer_id: str) -> TransportError:
    if isinstance(exc, httpx.TimeoutException):
        return PayerTimeout(f"CORE request timed out ({type(exc).__name__})", payer=payer_id)
    if isinstance(exc, httpx.ConnectError):
        return PayerUnavailable("cannot connect to CORE endpoint", payer=payer_id)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return ConnectionLost(f"CORE connection dropped ({type(exc).__name__})", payer=payer_id)
    return PayerUnavailable(f"CORE transport error ({type(exc).__name__})", payer=payer_id)


class CoreRealtimeClient:
    """Sends CORE real-time requests to the payers of one clearinghouse configuration."""

    def __init__(
        self,
        settings: ClearinghouseSettings,
        *,
        breakers: CircuitBreakers | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.breakers = breakers if breakers is not None else CircuitBreakers()
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    async def __aenter__(self) -> CoreRealtimeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def _http(self, payer_id: str, endpoint: CoreEndpoint) -> httpx.AsyncClient:
        client = self._clients.get(payer_id)
        if client is None:
            client = httpx.AsyncClient(
                verify=ssl_context_for(endpoint.tls),
                timeout=httpx.Timeout(endpoint.retry.timeout_seconds),
                transport=self._transport,
            )
            self._clients[payer_id] = client
        return client

    async def eligibility(self, payer_id: str, x12_270: str) -> CoreResponse:
        """Send a 270 and return the 271; AAA rejects raise ``RejectedRetryable`` / ``RejectedFinal``."""
        return await self.send(payer_id, x12_270, PayloadType.X12_270_REQUEST)

    async def claim_status(self, payer_id: str, x12_276: str) -> CoreResponse:
        """Send a 276 and return the 277."""
        return await self.send(payer_id, x12_276, PayloadType.X12_276_REQUEST)

    async def send(self, payer_id: str, payload: str, payload_type: PayloadType) -> CoreResponse:
        """One real-time exchange under the payer's retry policy and circuit breaker."""
        endpoint = self.settings.core_endpoint(payer_id)
        breaker = self.breakers.get(payer_id, endpoint.breaker)
        attempts = 0

        async def attempt() -> CoreResponse:
            nonlocal attempts
            attempts += 1
            return await self._exchange(payer_id, endpoint, payload, payload_type, attempts)

        return await call_with_retry(attempt, policy=endpoint.retry, breaker=breaker, payer=payer_id)

    async def _exchange(
        self, payer_id: str, endpoint: CoreEndpoint, payload: str, payload_type: PayloadType, attempt: int
    ) -> CoreResponse:
        request = new_request(
            payload,
            payload_type,
            sender_id=endpoint.sender_id,
            receiver_id=endpoint.receiver_id,
            rule_version=endpoint.rule_version,
            username=endpoint.username,
            password=endpoint.password.get_secret_value() if endpoint.password else None,
        )
        http = self._http(payer_id, endpoint)
        try:
            if endpoint.envelope == "soap":
                outgoing = http.build_request(
                    "POST",
                    endpoint.url,
                    content=to_soap(request, response=False),
                    headers={"Content-Type": SOAP_CONTENT_TYPE},
                )
            else:
                form = to_form(request)
                files = {"Payload": (None, form.pop("Payload").encode("utf-8"))}
                outgoing = http.build_request("POST", endpoint.url, data=form, files=files)
            reply = await self._bounded(http, outgoing, endpoint.max_response_bytes, payer_id)
        except httpx.TransportError as exc:
            if _certificate_refused(exc):
                raise AuthenticationFailed(
                    "TLS client certificate refused or missing", payer=payer_id
                ) from exc
            raise _transport_error(exc, payer_id) from exc
        return self._read_reply(payer_id, request, payload_type, reply, attempt)

    @staticmethod
    async def _bounded(
        http: httpx.AsyncClient, outgoing: httpx.Request, limit: int, payer_id: str
    ) -> httpx.Response:
        """Send and read the reply, refusing one larger than ``limit`` bytes (declared or received)."""
        streamed = await http.send(outgoing, stream=True)
        try:
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(f"CORE reply larger than {limit} bytes", payer=payer_id)
            chunks: list[bytes] = []
            received = 0
            async for chunk in streamed.aiter_bytes():
                received += len(chunk)
                if received > limit:
                    raise ResponseTooLarge(f"CORE reply larger than {limit} bytes", payer=payer_id)
                chunks.append(chunk)
        finally:
            await streamed.aclose()
        headers = [
            (k, v)
            for k, v in streamed.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code, headers=headers, content=b"".join(chunks), request=outgoing
        )

    def _read_reply(
        self,
        payer_id: str,
        request: CoreMessage,
        payload_type: PayloadType,
        reply: httpx.Response,
        attempt: int,
    ) -> CoreResponse:
        if reply.status_code >= 500 or reply.status_code in RETRYABLE_STATUS:
            raise PayerUnavailable(
                f"CORE endpoint answered HTTP {reply.status_code}",
                payer=payer_id,
                status_code=reply.status_code,
                retry_after=retry_after_seconds(reply.headers.get("retry-after")),
            )
        message = self._parse(reply)
        code = message.error_code if message is not None else None
        if reply.status_code in (401, 403) or code == CoreErrorCode.UNAUTHORIZED:
            raise AuthenticationFailed("CORE endpoint refused the credentials", payer=payer_id)
        if message is None:
            raise TransportError(
                f"CORE endpoint answered HTTP {reply.status_code} without an envelope", payer=payer_id
            )
        if code != CoreErrorCode.SUCCESS:
            raise CoreEnvelopeError(code or "Missing", message.error_message or "", payer=payer_id)
        if message.payload_id != request.payload_id:
            raise CoreEnvelopeError(
                "PayloadIDMismatch", "response PayloadID differs from the request's", payer=payer_id
            )
        payload = message.payload or ""
        if message.checksum is not None and message.checksum.lower() != checksum(payload.encode("utf-8")):
            raise CoreEnvelopeError(CoreErrorCode.CHECKSUM_MISMATCHED, "response checksum", payer=payer_id)
        if payload_type in RESPONSE_TYPE:
            self._check_answer(payer_id, payload_type, message.payload_type, payload)
            check_aaa(payload, payer=payer_id)
        return CoreResponse(
            payload_id=message.payload_id or "",
            payload_type=message.payload_type or "",
            payload=payload,
            attempts=attempt,
        )

    @staticmethod
    def _check_answer(payer_id: str, asked: PayloadType, answered_type: str | None, payload: str) -> None:
        """The payload of a ``Success`` reply is the transaction that answers ``asked``, or a typed error."""
        if answered_type == NO_DATA_TYPE:
            raise UnreadablePayload("CORE reply says NoData", reason="no_data", payer=payer_id)
        if not payload.strip():
            raise UnreadablePayload("CORE reply holds no payload", reason="empty", payer=payer_id)
        try:
            segments = segments_of(payload)
        except ValueError:
            raise UnreadablePayload(
                "CORE reply payload is not X12", reason="not_x12", payer=payer_id
            ) from None
        ids = [segment.id for segment in segments]
        st = next((segment for segment in segments if segment.id == "ST"), None)
        transaction = st.get(1) if st is not None else ("TA1" if "TA1" in ids else None)
        expected_type = RESPONSE_TYPE[asked]
        expected_st = _ANSWER_ST01[asked]
        if transaction == expected_st and answered_type in (expected_type, None):
            return
        codes = _error_codes(segments) if transaction in ("999", "TA1") else []
        log.warning(
            "CORE reply carries %s (payload type %s), expected %s; codes %s",
            transaction or "no transaction",
            answered_type,
            expected_st,
            ",".join(codes) or "none",
        )
        raise RejectedPayload(
            f"CORE reply carries {transaction or 'no transaction'} ({answered_type}), expected {expected_st}",
            payer=payer_id,
            transaction=transaction,
            payload_type=answered_type,
            error_codes=codes,
            response=payload,
        )

    @staticmethod
    def _parse(reply: httpx.Response) -> CoreMessage | None:
        content_type = reply.headers.get("content-type", "")
        try:
            if content_type.startswith("multipart/"):
                return from_form(decode_multipart(reply.content, content_type))
            if "xml" in content_type:
                return from_soap(reply.content)
        except EnvelopeFormatError:
            return None
        return None
