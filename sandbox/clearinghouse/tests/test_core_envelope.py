"""The sandbox's CORE endpoint enforces every envelope field, in MIME and SOAP alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import httpx
import pytest
import pytest_asyncio

from rcm.clearinghouse.envelope import (
    SOAP_CONTENT_TYPE,
    CoreMessage,
    decode_multipart,
    from_form,
    from_soap,
    new_request,
    to_form,
    to_soap,
)
from rcm.sandbox import Sandbox, start_sandbox
from rcm.sandbox.testing import core_password, sandbox_config
from rcm.sandbox.x12io import Interchange, build_270

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    """One sandbox for the whole module: these tests change no state and inject no faults."""
    async with start_sandbox(sandbox_config(tmp_path_factory.mktemp("core"))) as running:
        yield running


def good_request(sb: Sandbox) -> CoreMessage:
    payload = build_270(
        payer_id="EVRGRN",
        member_id="EVG100000001",
        first_name="AVERY",
        last_name="SAMPLE",
        birth_date=date(1985, 4, 12),
        service_types=("MH",),
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 9),
    )
    return new_request(
        payload,
        "X12_270_Request_005010X279A1",
        sender_id="PRACTICE01",
        receiver_id="SANDBOXCH",
        username="practice01",
        password=core_password(sb),
    )


async def post(sb: Sandbox, message: CoreMessage, *, soap: bool) -> tuple[int, CoreMessage]:
    async with httpx.AsyncClient(timeout=5) as http:
        if soap:
            reply = await http.post(
                sb.core_url,
                content=to_soap(message, response=False),
                headers={"Content-Type": SOAP_CONTENT_TYPE},
            )
            return reply.status_code, from_soap(reply.content)
        form = to_form(message)
        files = {"Payload": (None, form.pop("Payload", "").encode())} if message.payload is not None else None
        reply = await http.post(sb.core_url, data=form, files=files or {"_": (None, b"")})
        return reply.status_code, from_form(decode_multipart(reply.content, reply.headers["content-type"]))


VIOLATIONS = {
    "PayloadIDRequired": lambda m: replace(m, payload_id=None),
    "PayloadTypeRequired": lambda m: replace(m, payload_type=None),
    "ProcessingModeRequired": lambda m: replace(m, processing_mode=None),
    "TimeStampRequired": lambda m: replace(m, timestamp=None),
    "SenderIDRequired": lambda m: replace(m, sender_id=None),
    "ReceiverIDRequired": lambda m: replace(m, receiver_id=None),
    "CORERuleVersionRequired": lambda m: replace(m, rule_version=None),
    "ChecksumRequired": lambda m: replace(m, checksum=None),
    "PayloadLengthRequired": lambda m: replace(m, payload_length=None),
    "UnAuthorized": lambda m: replace(m, password="not-the-password"),
    "VersionMismatch": lambda m: replace(m, rule_version="2.1.0"),
    "ProcessingModeIllegal": lambda m: replace(m, processing_mode="Batch"),
    "PayloadTypeIllegal": lambda m: replace(m, payload_type="X12_837_Request_005010X222A1"),
    "PayloadIDIllegal": lambda m: replace(m, payload_id="not-a-uuid"),
    "TimeStampIllegal": lambda m: replace(m, timestamp="27/11/2026 10:00"),
    "ReceiverIDIllegal": lambda m: replace(m, receiver_id="SOMEONEELSE"),
    "PayloadLengthMismatch": lambda m: replace(m, payload_length=str(int(m.payload_length or 0) + 1)),
    "ChecksumIllegal": lambda m: replace(m, checksum="xyz"),
    "ChecksumMismatched": lambda m: replace(m, checksum="0" * 40),
}


@pytest.mark.parametrize("soap", [False, True], ids=["mime", "soap"])
@pytest.mark.parametrize("expected", sorted(VIOLATIONS))
async def test_each_envelope_violation_gets_its_error_code(
    sandbox: Sandbox, expected: str, soap: bool
) -> None:
    request = VIOLATIONS[expected](good_request(sandbox))
    status, reply = await post(sandbox, request, soap=soap)
    assert reply.error_code == expected
    assert status == (401 if expected == "UnAuthorized" else 400)
    assert reply.payload is None


@pytest.mark.parametrize("soap", [False, True], ids=["mime", "soap"])
async def test_a_valid_envelope_succeeds_and_echoes_the_payload_id(sandbox: Sandbox, soap: bool) -> None:
    request = good_request(sandbox)
    status, reply = await post(sandbox, request, soap=soap)
    assert (status, reply.error_code, reply.payload_id) == (200, "Success", request.payload_id)
    assert reply.payload_type == "X12_271_Response_005010X279A1"
    assert reply.receiver_id == "PRACTICE01" and reply.rule_version == "2.2.0"


async def test_a_soap_body_with_a_dtd_is_refused(sandbox: Sandbox) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    async with httpx.AsyncClient(timeout=5) as http:
        reply = await http.post(sandbox.core_url, content=body, headers={"Content-Type": SOAP_CONTENT_TYPE})
    assert reply.status_code == 400
    assert from_soap(reply.content).error_code == "EnvelopeIllegal"
