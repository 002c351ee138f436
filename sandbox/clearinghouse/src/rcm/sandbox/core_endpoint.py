"""The sandbox's CAQH CORE real-time endpoint (vC2.2.0): MIME multipart and SOAP 1.2 on one path.

Every envelope field is enforced and a violation answers with its ErrorCode (HTTP 400;
401 for UnAuthorized). Faults: latency before answering, HTTP 5xx or 429 for the next N
requests (with a ``Retry-After`` when configured), and (below the application, in
``connection_dropping_protocol``) connections closed without any response for the next N requests.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import replace

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from rcm.clearinghouse.envelope import (
    RESPONSE_TYPE,
    SOAP_CONTENT_TYPE,
    CoreErrorCode,
    CoreMessage,
    EnvelopeFormatError,
    PayloadType,
    checksum,
    decode_multipart,
    encode_multipart,
    from_form,
    from_soap,
    timestamp_now,
    to_form,
    to_soap,
)
from rcm.sandbox.config import CoreUser
from rcm.sandbox.faults import Faults
from rcm.x12.errors import X12Error

__all__ = ["build_core_app", "connection_dropping_protocol", "validate_envelope"]

log = logging.getLogger(__name__)

RULE_VERSION = "2.2.0"
_REQUIRED = (
    ("payload_type", CoreErrorCode.PAYLOAD_TYPE_REQUIRED),
    ("processing_mode", CoreErrorCode.PROCESSING_MODE_REQUIRED),
    ("payload_id", CoreErrorCode.PAYLOAD_ID_REQUIRED),
    ("payload_length", CoreErrorCode.PAYLOAD_LENGTH_REQUIRED),
    ("timestamp", CoreErrorCode.TIMESTAMP_REQUIRED),
    ("sender_id", CoreErrorCode.SENDER_ID_REQUIRED),
    ("receiver_id", CoreErrorCode.RECEIVER_ID_REQUIRED),
    ("rule_version", CoreErrorCode.CORE_RULE_VERSION_REQUIRED),
    ("checksum", CoreErrorCode.CHECKSUM_REQUIRED),
    ("payload", CoreErrorCode.PAYLOAD_REQUIRED),
)
_XSD_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_ID = re.compile(r"^[A-Za-z0-9 ._-]{1,50}$")
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")


def _authorized(message: CoreMessage, users: dict[str, str]) -> bool:
    if message.username is None or message.password is None:
        return False
    expected = users.get(message.username)
    return expected is not None and hmac.compare_digest(expected.encode(), message.password.encode())


def validate_envelope(
    message: CoreMessage, *, users: dict[str, str], receiver_id: str, certificate_auth: bool
) -> tuple[CoreErrorCode, str]:
    """The first envelope violation as (ErrorCode, message), or (Success, '')."""
    for attr, code in _REQUIRED:
        if not getattr(message, attr):
            return code, f"{attr} is required"
    if not certificate_auth and not _authorized(message, users):
        return CoreErrorCode.UNAUTHORIZED, "invalid credentials"
    if message.rule_version != RULE_VERSION:
        return CoreErrorCode.VERSION_MISMATCH, f"CORERuleVersion must be {RULE_VERSION}"
    if message.processing_mode != "RealTime":
        return CoreErrorCode.PROCESSING_MODE_ILLEGAL, "only RealTime is supported here"
    if message.payload_type not in (PayloadType.X12_270_REQUEST, PayloadType.X12_276_REQUEST):
        return CoreErrorCode.PAYLOAD_TYPE_ILLEGAL, "unsupported PayloadType"
    try:
        uuid.UUID(str(message.payload_id))
    except ValueError:
        return CoreErrorCode.PAYLOAD_ID_ILLEGAL, "PayloadID must be a UUID"
    if not _XSD_DATETIME.match(str(message.timestamp)):
        return CoreErrorCode.TIMESTAMP_ILLEGAL, "TimeStamp must be an xsd:dateTime"
    if not _ID.match(str(message.sender_id)):
        return CoreErrorCode.SENDER_ID_ILLEGAL, "bad SenderID"
    if message.receiver_id != receiver_id:
        return CoreErrorCode.RECEIVER_ID_ILLEGAL, "unknown ReceiverID"
    data = (message.payload or "").encode("utf-8")
    if not str(message.payload_length).isdigit():
        return CoreErrorCode.PAYLOAD_LENGTH_ILLEGAL, "PayloadLength must be a number"
    if int(str(message.payload_length)) != len(data):
        return CoreErrorCode.PAYLOAD_LENGTH_MISMATCH, "PayloadLength does not match the payload"
    if not _HEX40.match(str(message.checksum)):
        return CoreErrorCode.CHECKSUM_ILLEGAL, "Checksum must be SHA-1 hex"
    if str(message.checksum).lower() != checksum(data):
        return CoreErrorCode.CHECKSUM_MISMATCHED, "Checksum does not match the payload"
    return CoreErrorCode.SUCCESS, ""


def build_core_app(
    *,
    path: str,
    users: list[CoreUser],
    receiver_id: str,
    certificate_auth: bool,
    faults: Faults,
    answer: Callable[[str], tuple[str, str]],
) -> Starlette:
    """The endpoint app; ``answer(payload)`` returns the response's (PayloadType, payload), raising
    X12Error when the payload is no X12 interchange at all."""
    passwords = {u.username: u.password.get_secret_value() for u in users}

    def reply(
        request: CoreMessage,
        *,
        soap: bool,
        status: int,
        code: str,
        text: str,
        payload: str | None,
        payload_type: str | None = None,
    ) -> Response:
        message = CoreMessage(
            payload_type=payload_type
            or (
                RESPONSE_TYPE.get(PayloadType(request.payload_type), None)
                if request.payload_type in (PayloadType.X12_270_REQUEST, PayloadType.X12_276_REQUEST)
                else request.payload_type
            ),
            processing_mode="RealTime",
            payload_id=request.payload_id,
            timestamp=timestamp_now(),
            sender_id=receiver_id,
            receiver_id=request.sender_id,
            rule_version=RULE_VERSION,
            error_code=code,
            error_message=text,
        )
        if payload is not None:
            message = message.with_payload(payload)
        if soap:
            return Response(to_soap(message, response=True), status_code=status, media_type=SOAP_CONTENT_TYPE)
        body, content_type = encode_multipart(to_form(message))
        return Response(body, status_code=status, headers={"Content-Type": content_type})

    async def endpoint(request: Request) -> Response:
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        if faults.take("http_errors"):
            log.warning("fault: answering HTTP %d", faults.http_error_status)
            headers = {}
            if faults.http_retry_after_seconds is not None:
                headers["Retry-After"] = str(faults.http_retry_after_seconds)
            return Response("service unavailable", status_code=faults.http_error_status, headers=headers)
        content_type = request.headers.get("content-type", "")
        body = await request.body()
        soap = "soap+xml" in content_type or "text/xml" in content_type
        try:
            message = from_soap(body) if soap else from_form(decode_multipart(body, content_type))
        except EnvelopeFormatError as exc:
            return reply(
                CoreMessage(),
                soap=soap,
                status=400,
                code=CoreErrorCode.ENVELOPE_ILLEGAL,
                text=str(exc),
                payload=None,
            )
        code, text = validate_envelope(
            message, users=passwords, receiver_id=receiver_id, certificate_auth=certificate_auth
        )
        if code != CoreErrorCode.SUCCESS:
            status = 401 if code == CoreErrorCode.UNAUTHORIZED else 400
            return reply(
                replace(message, payload=None), soap=soap, status=status, code=code, text=text, payload=None
            )
        try:
            payload_type, payload = answer(message.payload or "")
        except X12Error:
            return reply(
                replace(message, payload=None),
                soap=soap,
                status=400,
                code=CoreErrorCode.ENVELOPE_ILLEGAL,
                text="the payload is not an X12 interchange",
                payload=None,
            )
        return reply(
            message,
            soap=soap,
            status=200,
            code=CoreErrorCode.SUCCESS,
            text="",
            payload=payload,
            payload_type=payload_type,
        )

    return Starlette(routes=[Route(path, endpoint, methods=["POST"])])


def connection_dropping_protocol(faults: Faults) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol, aborting the connection when a request arrives while
    ``faults.drop_http`` is set: the client sees the socket close with no status line at all,
    which an application (that can only answer) cannot produce."""

    class ConnectionDroppingProtocol(H11Protocol):
        def data_received(self, data: bytes) -> None:
            new_request = self.cycle is None or self.cycle.response_complete
            if new_request and faults.take("drop_http"):
                log.warning("fault: closing the CORE connection without a response")
                self.transport.abort()
                return
            super().data_received(data)

    return ConnectionDroppingProtocol
