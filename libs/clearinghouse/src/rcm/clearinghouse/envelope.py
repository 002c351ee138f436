"""The CAQH CORE connectivity envelope (rule vC2.2.0): one message model, two wire forms.

A ``CoreMessage`` is written and read as HTTP MIME multipart form data (one part per
field) or as a SOAP 1.2 envelope (``COREEnvelopeRealTimeRequest`` / ``...Response``,
credentials in a WS-Security ``UsernameToken``). Both the real-time client and the
sandbox's endpoint use this module, so the two sides cannot drift apart.

XML is parsed with the standard library; documents with a DTD are refused, which
blocks entity-expansion attacks (SOAP 1.2 forbids DTDs anyway).
"""

from __future__ import annotations

import enum
import hashlib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from rcm.x12 import decode

__all__ = [
    "CORE_NS",
    "SOAP_NS",
    "WSSE_NS",
    "CoreErrorCode",
    "CoreMessage",
    "EnvelopeFormatError",
    "PayloadType",
    "checksum",
    "decode_multipart",
    "encode_multipart",
    "from_form",
    "from_soap",
    "new_request",
    "to_form",
    "to_soap",
]

SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
CORE_NS = "http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
)
SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="RealTimeTransaction"'


class PayloadType(enum.StrEnum):
    X12_270_REQUEST = "X12_270_Request_005010X279A1"
    X12_271_RESPONSE = "X12_271_Response_005010X279A1"
    X12_276_REQUEST = "X12_276_Request_005010X212"
    X12_277_RESPONSE = "X12_277_Response_005010X212"
    X12_999_RESPONSE = "X12_999_Response_005010X231A1"
    X12_TA1_RESPONSE = "X12_TA1_Response_00501X231A1"


RESPONSE_TYPE = {
    PayloadType.X12_270_REQUEST: PayloadType.X12_271_RESPONSE,
    PayloadType.X12_276_REQUEST: PayloadType.X12_277_RESPONSE,
}


class CoreErrorCode(enum.StrEnum):
    SUCCESS = "Success"
    PAYLOAD_TYPE_REQUIRED = "PayloadTypeRequired"
    PAYLOAD_TYPE_ILLEGAL = "PayloadTypeIllegal"
    PROCESSING_MODE_REQUIRED = "ProcessingModeRequired"
    PROCESSING_MODE_ILLEGAL = "ProcessingModeIllegal"
    PAYLOAD_ID_REQUIRED = "PayloadIDRequired"
    PAYLOAD_ID_ILLEGAL = "PayloadIDIllegal"
    PAYLOAD_LENGTH_REQUIRED = "PayloadLengthRequired"
    PAYLOAD_LENGTH_ILLEGAL = "PayloadLengthIllegal"
    PAYLOAD_LENGTH_MISMATCH = "PayloadLengthMismatch"
    TIMESTAMP_REQUIRED = "TimeStampRequired"
    TIMESTAMP_ILLEGAL = "TimeStampIllegal"
    SENDER_ID_REQUIRED = "SenderIDRequired"
    SENDER_ID_ILLEGAL = "SenderIDIllegal"
    RECEIVER_ID_REQUIRED = "ReceiverIDRequired"
    RECEIVER_ID_ILLEGAL = "ReceiverIDIllegal"
    CORE_RULE_VERSION_REQUIRED = "CORERuleVersionRequired"
    CORE_RULE_VERSION_ILLEGAL = "CORERuleVersionIllegal"
    VERSION_MISMATCH = "VersionMismatch"
    CHECKSUM_REQUIRED = "ChecksumRequired"
    CHECKSUM_ILLEGAL = "ChecksumIllegal"
    CHECKSUM_MISMATCHED = "ChecksumMismatched"
    PAYLOAD_REQUIRED = "PayloadRequired"
    UNAUTHORIZED = "UnAuthorized"
    ENVELOPE_ILLEGAL = "EnvelopeIllegal"


class EnvelopeFormatError(ValueError):
    """The HTTP body is not a CORE envelope at all (not multipart form data, not SOAP)."""


#: Wire names of the fields, in the order the rule lists them.
_WIRE_NAMES = {
    "processing_mode": "ProcessingMode",
    "payload_type": "PayloadType",
    "payload_id": "PayloadID",
    "payload_length": "PayloadLength",
    "timestamp": "TimeStamp",
    "sender_id": "SenderID",
    "receiver_id": "ReceiverID",
    "rule_version": "CORERuleVersion",
    "checksum": "Checksum",
    "username": "UserName",
    "password": "Password",
    "error_code": "ErrorCode",
    "error_message": "ErrorMessage",
    "payload": "Payload",
}
_ATTRS = {wire: attr for attr, wire in _WIRE_NAMES.items()}


@dataclass(frozen=True, slots=True)
class CoreMessage:
    """One CORE request or response. Fields are wire strings; ``None`` means absent."""

    payload_type: str | None = None
    processing_mode: str | None = None
    payload_id: str | None = None
    payload_length: str | None = None
    timestamp: str | None = None
    sender_id: str | None = None
    receiver_id: str | None = None
    rule_version: str | None = None
    checksum: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    error_code: str | None = None
    error_message: str | None = None
    payload: str | None = field(default=None, repr=False)

    def with_payload(self, payload: str) -> CoreMessage:
        """The same envelope carrying ``payload``, with its length and checksum recomputed."""
        data = payload.encode("utf-8")
        return replace(self, payload=payload, payload_length=str(len(data)), checksum=checksum(data))


def checksum(data: bytes) -> str:
    """The envelope checksum: SHA-1 of the payload bytes, lower-case hex."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def timestamp_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_request(
    payload: str,
    payload_type: str,
    *,
    sender_id: str,
    receiver_id: str,
    rule_version: str = "2.2.0",
    username: str | None = None,
    password: str | None = None,
    processing_mode: str = "RealTime",
) -> CoreMessage:
    """A complete request envelope with a fresh PayloadID (UUID), TimeStamp, length and checksum."""
    return CoreMessage(
        payload_type=payload_type,
        processing_mode=processing_mode,
        payload_id=str(uuid.uuid4()),
        timestamp=timestamp_now(),
        sender_id=sender_id,
        receiver_id=receiver_id,
        rule_version=rule_version,
        username=username,
        password=password,
    ).with_payload(payload)


# ---------------------------------------------------------------------- MIME multipart


def to_form(message: CoreMessage) -> dict[str, str]:
    """The message as form fields (absent fields left out), in wire order."""
    form: dict[str, str] = {}
    for f in fields(message):
        value = getattr(message, f.name)
        if value is not None:
            form[_WIRE_NAMES[f.name]] = value
    return form


def from_form(form: Mapping[str, str]) -> CoreMessage:
    """A message from form fields; unknown fields are ignored, absent ones are ``None``."""
    values = {_ATTRS[k]: v for k, v in form.items() if k in _ATTRS}
    return CoreMessage(**values)


def encode_multipart(form: Mapping[str, str], *, boundary: str | None = None) -> tuple[bytes, str]:
    """``multipart/form-data`` body and content type for ``form``."""
    boundary = boundary or f"core-{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in form.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def decode_multipart(body: bytes, content_type: str) -> dict[str, str]:
    """Form fields of a ``multipart/form-data`` body (files are read as text)."""
    if not content_type.lower().startswith("multipart/"):
        raise EnvelopeFormatError("not a multipart body")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    # compat32 keeps headers as plain strings: the same parse, without the header registry's
    # per-header objects (about 7x faster on a CORE request, and it runs on every exchange)
    message = BytesParser(policy=compat32).parsebytes(head + body)
    parts = message.get_payload() if message.is_multipart() else None
    if not isinstance(parts, list) or not parts:
        raise EnvelopeFormatError("multipart body without parts")
    form: dict[str, str] = {}
    for part in parts:
        if not isinstance(part, Message):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                form[name] = data.decode(charset)
            except (LookupError, UnicodeDecodeError):  # a charset it is not written in, or unknown
                form[name] = decode(data)
    return form


# ---------------------------------------------------------------------- SOAP 1.2


def to_soap(message: CoreMessage, *, response: bool) -> bytes:
    """The message as a SOAP 1.2 envelope; credentials, if any, go into a WS-Security header."""
    ET.register_namespace("soapenv", SOAP_NS)
    ET.register_namespace("cor", CORE_NS)
    ET.register_namespace("wsse", WSSE_NS)
    envelope = ET.Element(f"{{{SOAP_NS}}}Envelope")
    header = ET.SubElement(envelope, f"{{{SOAP_NS}}}Header")
    if message.username is not None or message.password is not None:
        security = ET.SubElement(header, f"{{{WSSE_NS}}}Security", {f"{{{SOAP_NS}}}mustUnderstand": "true"})
        token = ET.SubElement(security, f"{{{WSSE_NS}}}UsernameToken")
        ET.SubElement(token, f"{{{WSSE_NS}}}Username").text = message.username or ""
        ET.SubElement(token, f"{{{WSSE_NS}}}Password", {"Type": PASSWORD_TEXT}).text = message.password or ""
    body = ET.SubElement(envelope, f"{{{SOAP_NS}}}Body")
    name = "COREEnvelopeRealTimeResponse" if response else "COREEnvelopeRealTimeRequest"
    core = ET.SubElement(body, f"{{{CORE_NS}}}{name}")
    for f in fields(message):
        if f.name in ("username", "password"):
            continue
        value = getattr(message, f.name)
        if value is not None:
            ET.SubElement(core, _WIRE_NAMES[f.name]).text = value
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(envelope, encoding="unicode").encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def from_soap(body: bytes) -> CoreMessage:
    """A message from a SOAP 1.2 CORE envelope (request or response)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise EnvelopeFormatError("DTDs are not allowed in SOAP messages")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise EnvelopeFormatError(f"not well-formed XML: {exc}") from exc
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise EnvelopeFormatError("not a SOAP 1.2 envelope")
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    if soap_body is None or len(soap_body) == 0:
        raise EnvelopeFormatError("SOAP envelope without a body")
    core = soap_body[0]
    if _local(core.tag) not in ("COREEnvelopeRealTimeRequest", "COREEnvelopeRealTimeResponse"):
        fault = _local(core.tag)
        raise EnvelopeFormatError(f"unexpected SOAP body element {fault}")
    values: dict[str, str] = {}
    for child in core:
        wire = _local(child.tag)
        if wire in _ATTRS and wire not in ("UserName", "Password"):
            values[_ATTRS[wire]] = child.text or ""
    token = root.find(f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken")
    if token is not None:
        username = token.find(f"{{{WSSE_NS}}}Username")
        password = token.find(f"{{{WSSE_NS}}}Password")
        if username is not None:
            values["username"] = username.text or ""
        if password is not None:
            values["password"] = password.text or ""
    return CoreMessage(**values)
