"""CORE ``Success`` replies that do not carry the answer asked for: typed errors, never a ValueError
and never a 999 / TA1 / NoData passed on as a 271. In-process (httpx mock transport), synthetic X12."""

from __future__ import annotations

import logging

import httpx
import pytest

from rcm.clearinghouse import (
    ClearinghouseSettings,
    CoreEndpoint,
    CoreRealtimeClient,
    RejectedPayload,
    ResponseTooLarge,
    RetrySettings,
    TransportError,
    UnreadablePayload,
)
from rcm.clearinghouse.envelope import (
    CoreMessage,
    decode_multipart,
    encode_multipart,
    from_form,
    timestamp_now,
    to_form,
)

pytestmark = pytest.mark.unit

ISA = "ISA*00*          *00*          *ZZ*SYNPAYER       *ZZ*PRACTICE01     *250301*1200*^*00501*000000001*0*T*:"


def interchange(*body: str, group: str = "HB", version: str = "005010X279A1") -> str:
    if not body:
        return "~".join([ISA, "TA1*000000007*250301*1200*R*024", "IEA*0*000000001", ""])
    st = body[0].split("*")[1]
    segments = [f"ST*{st}*0001*{version}", *body[1:]]
    segments.append(f"SE*{len(segments) + 1}*0001")
    return "~".join(
        [
            ISA,
            f"GS*{group}*SYNPAYER*PRACTICE01*20250301*1200*1*X*{version}",
            *segments,
            "GE*1*1",
            "IEA*1*000000001",
            "",
        ]
    )


A_271 = interchange("ST*271", "BHT*0022*11*T1*20250301*1200")
A_277 = interchange("ST*277", "BHT*0010*08*T1*20250301*1200", group="HN", version="005010X212")
A_999 = interchange(
    "ST*999",
    "AK1*HS*7*005010X279A1",
    "AK2*270*0001*005010X279A1",
    "IK3*DMG*12**8",
    "IK4*2*1251*8*19851350",
    "IK5*R*5",
    "AK9*R*1*1*0",
    group="FA",
    version="005010X231A1",
)
A_TA1 = interchange()
T271, T277, T999 = (
    "X12_271_Response_005010X279A1",
    "X12_277_Response_005010X212",
    "X12_999_Response_005010X231A1",
)


def client_replying(payload: str | None, payload_type: str | None, **endpoint: object) -> CoreRealtimeClient:
    def handle(request: httpx.Request) -> httpx.Response:
        asked = from_form(decode_multipart(request.content, request.headers["content-type"]))
        reply = CoreMessage(
            payload_type=payload_type,
            processing_mode="RealTime",
            payload_id=asked.payload_id,
            timestamp=timestamp_now(),
            sender_id="SANDBOXCH",
            receiver_id=asked.sender_id,
            rule_version="2.2.0",
            error_code="Success",
            error_message="",
        )
        if payload is not None:
            reply = reply.with_payload(payload)
        body, content_type = encode_multipart(to_form(reply))
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    settings = ClearinghouseSettings(
        submitter_id="P",
        core=CoreEndpoint(
            url="http://core.invalid/core",
            sender_id="PRACTICE01",
            receiver_id="SANDBOXCH",
            username="u",
            password="p",
            retry=RetrySettings(
                timeout_seconds=2, max_attempts=2, initial_backoff_seconds=0, jitter_seconds=0
            ),
            **endpoint,  # type: ignore[arg-type]
        ),
    )
    return CoreRealtimeClient(settings, transport=httpx.MockTransport(handle))


async def test_the_answer_asked_for_is_returned() -> None:
    async with client_replying(A_271, T271) as client:
        assert (await client.eligibility("P1", "ISA~")).payload == A_271
    async with client_replying(A_277, T277) as client:
        assert (await client.claim_status("P1", "ISA~")).payload == A_277


@pytest.mark.parametrize(
    ("payload", "payload_type", "reason"),
    [
        ("", "X12_005010_Response_NoData", "no_data"),
        ("", T271, "empty"),
        (None, T271, "empty"),
        ("<html><body>maintenance</body></html>", T271, "not_x12"),
    ],
)
async def test_a_success_without_an_x12_answer_is_an_unreadable_payload(
    payload: str | None, payload_type: str, reason: str
) -> None:
    async with client_replying(payload, payload_type) as client:
        with pytest.raises(UnreadablePayload) as caught:
            await client.eligibility("P1", "ISA~")
    assert caught.value.reason == reason and not caught.value.retryable
    assert isinstance(caught.value, TransportError)


@pytest.mark.parametrize(
    ("payload", "payload_type", "transaction"),
    [
        (A_999, T999, "999"),
        (A_999, T271, "999"),  # a 999 labelled as a 271
        (A_TA1, "X12_TA1_Response_00501X231A1", "TA1"),
        (A_271, T999, "271"),  # a 271 under another payload type
    ],
)
async def test_another_transaction_than_the_answer_is_a_rejected_payload_with_its_codes(
    payload: str, payload_type: str, transaction: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_replying(payload, payload_type) as client:
        with pytest.raises(RejectedPayload) as caught:
            await client.eligibility("P1", "ISA~")
    error = caught.value
    assert error.transaction == transaction and error.payload_type == payload_type
    if transaction == "999":
        assert error.error_codes == ("IK304:8", "IK403:8", "IK501:R", "IK502:5", "AK901:R")
    if transaction == "TA1":
        assert error.error_codes == ("TA104:R", "TA105:024")
    # the 999 copies the bad value (IK404): never in messages or logs
    assert "19851350" not in str(error) + repr(error) + caplog.text


async def test_a_271_answering_a_276_is_rejected() -> None:
    async with client_replying(A_271, T271) as client:
        with pytest.raises(RejectedPayload) as caught:
            await client.claim_status("P1", "ISA~")
    assert caught.value.transaction == "271"


async def test_a_reply_larger_than_the_limit_is_not_read() -> None:
    big = A_271.replace("BHT*", "BHT*" + "X" * 4000 + "*", 1)
    async with client_replying(big, T271, max_response_bytes=2048) as client:
        with pytest.raises(ResponseTooLarge):
            await client.eligibility("P1", "ISA~")
    async with client_replying(big, T271) as client:
        assert (await client.eligibility("P1", "ISA~")).payload == big
