"""CORE real-time exchange against the running sandbox: 270/271, 276/277, faults and the breaker."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from rcm.clearinghouse import (
    BreakerSettings,
    BreakerState,
    CircuitOpen,
    ConnectionLost,
    CoreRealtimeClient,
    PayerTimeout,
    PayerUnavailable,
    RejectedFinal,
    RejectedPayload,
    RetrySettings,
    SftpBatchClient,
    batch_file_name,
)
from rcm.clearinghouse.x12sniff import segments_of
from rcm.sandbox import Sandbox
from rcm.sandbox.faults import FaultSettings
from rcm.sandbox.testing import claim, eventually, line, recent, settings_for
from rcm.sandbox.x12io import Interchange, build_270, build_276, build_837p

pytestmark = pytest.mark.unit


def inquiry(
    member_id: str = "EVG100000001",
    last: str = "SAMPLE",
    dob: date = date(1985, 4, 12),
    types: tuple[str, ...] = ("MH", "A6"),
) -> str:
    return build_270(
        payer_id="EVRGRN",
        member_id=member_id,
        first_name="AVERY",
        last_name=last,
        birth_date=dob,
        service_types=types,
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 7),
    )


def eb(text: str) -> list[list[str]]:
    return [s.elements for s in segments_of(text) if s.id == "EB"]


@pytest.mark.parametrize("envelope", ["mime", "soap"])
async def test_a_270_is_answered_with_the_members_behavioral_health_benefits(
    sandbox: Sandbox, envelope: str
) -> None:
    async with CoreRealtimeClient(settings_for(sandbox, envelope=envelope)) as client:
        response = await client.eligibility("EVRGRN", inquiry())
    benefits = eb(response.payload)
    assert response.payload_type == "X12_271_Response_005010X279A1"
    assert ["1", "IND", "30", "PR", "Evergreen Gold PPO"] in benefits
    assert ["B", "IND", "MH", "", "", "27", "25"] in benefits  # copay per visit
    assert ["F", "IND", "MH", "", "", "29", "", "", "VS", "26"] in benefits  # 30 visits, 4 used
    assert ["1", "IND", "A6", "PR", "Evergreen Gold PPO", "", "", "", "", "", "Y"] in benefits


async def test_a_carved_out_service_type_names_the_other_payer(sandbox: Sandbox) -> None:
    request = build_270(
        payer_id="EVRGRN",
        member_id="EVG100000004",
        first_name="CASEY",
        last_name="CARVEOUT",
        birth_date=date(2001, 11, 11),
        service_types=("MH",),
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 8),
    )
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        response = await client.eligibility("EVRGRN", request)
    ids = [s.id for s in segments_of(response.payload)]
    assert ["R", "IND", "MH"] in eb(response.payload)
    assert ids[ids.index("LS") : ids.index("LE") + 1] == ["LS", "NM1", "LE"]
    assert "MINDBH" in response.payload


@pytest.mark.parametrize(
    ("member_id", "last", "dob", "reason"),
    [
        ("EVG999999999", "SAMPLE", date(1985, 4, 12), "75"),
        ("EVG100000001", "WRONGNAME", date(1985, 4, 12), "73"),
        ("EVG-BAD-ID!", "SAMPLE", date(1985, 4, 12), "72"),
    ],
)
async def test_member_errors_are_final_rejects_with_their_aaa_code(
    sandbox: Sandbox, member_id: str, last: str, dob: date, reason: str
) -> None:
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        with pytest.raises(RejectedFinal) as caught:
            await client.eligibility("EVRGRN", inquiry(member_id, last, dob))
    assert caught.value.reject_reasons == (reason,)
    assert member_id not in str(caught.value) and member_id not in repr(caught.value)


async def test_unable_to_respond_now_is_retried_until_answered(sandbox: Sandbox) -> None:
    sandbox.faults.aaa_unable_to_respond = 1
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        response = await client.eligibility("EVRGRN", inquiry())
    assert response.attempts == 2
    assert eb(response.payload)


async def test_http_5xx_is_retried(sandbox: Sandbox) -> None:
    sandbox.faults.http_errors = 2
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        response = await client.eligibility("EVRGRN", inquiry())
    assert response.attempts == 3


async def test_throttling_is_retried_like_a_server_error(sandbox: Sandbox) -> None:
    sandbox.faults.http_errors, sandbox.faults.http_error_status = 1, 429
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        response = await client.eligibility("EVRGRN", inquiry())
    assert response.attempts == 2 and eb(response.payload)
    sandbox.faults.http_errors = 5
    once = RetrySettings(timeout_seconds=2, max_attempts=1)
    async with CoreRealtimeClient(settings_for(sandbox, retry=once)) as client:
        with pytest.raises(PayerUnavailable) as caught:
            await client.eligibility("EVRGRN", inquiry())
    assert caught.value.status_code == 429 and caught.value.retryable


def status_request(claim_id: str = "PCN-UNKNOWN") -> str:
    return build_276(
        payer_id="EVRGRN",
        member_id="EVG100000001",
        claim_id=claim_id,
        charge=Decimal("120"),
        service_date=recent(),
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 302),
    )


async def test_a_throttled_client_waits_as_long_as_retry_after_asks_within_its_maximum_wait(
    sandbox: Sandbox,
) -> None:
    loop = asyncio.get_running_loop()
    sandbox.faults.http_errors, sandbox.faults.http_error_status = 1, 429
    sandbox.faults.http_retry_after_seconds = 1
    patient = RetrySettings(
        timeout_seconds=3,
        max_attempts=2,
        initial_backoff_seconds=0.01,
        max_backoff_seconds=5,
        jitter_seconds=0,
    )
    async with CoreRealtimeClient(settings_for(sandbox, retry=patient)) as client:
        started = loop.time()
        response = await client.eligibility("EVRGRN", inquiry())
        waited = loop.time() - started
    assert response.attempts == 2 and eb(response.payload)
    assert waited >= 1.0  # the backoff alone would have retried after 0.01 s

    sandbox.faults.http_errors, sandbox.faults.http_error_status = 1, 503
    sandbox.faults.http_retry_after_seconds = 120
    hurried = patient.model_copy(update={"max_backoff_seconds": 0.2, "max_attempts": 3})
    async with CoreRealtimeClient(settings_for(sandbox, retry=hurried)) as client:
        started = loop.time()
        with pytest.raises(PayerUnavailable) as given_up:
            await client.claim_status("EVRGRN", status_request())
        waited = loop.time() - started
    # longer than the policy would ever wait: given up at once, not retried within 0.2 s
    assert given_up.value.retry_after == 120 and waited < 1 and sandbox.faults.http_errors == 0

    sandbox.faults.http_errors = 1
    once = RetrySettings(timeout_seconds=2, max_attempts=1)
    async with CoreRealtimeClient(settings_for(sandbox, retry=once)) as client:
        with pytest.raises(PayerUnavailable) as caught:
            await client.eligibility("EVRGRN", inquiry())
    assert caught.value.status_code == 503 and caught.value.retry_after == 120  # for the caller to honour


def test_an_injected_http_error_is_a_server_error_or_throttling() -> None:
    assert FaultSettings(http_error_status=429).http_error_status == 429
    for status in (400, 404, 600):
        with pytest.raises(ValidationError):
            FaultSettings(http_error_status=status)


async def test_a_270_with_x12_errors_is_answered_with_a_999_rejecting_it(sandbox: Sandbox) -> None:
    bad_birth_date = inquiry().replace("DMG*D8*19850412", "DMG*D8*19851350")
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        with pytest.raises(RejectedPayload) as caught:
            await client.eligibility("EVRGRN", bad_birth_date)
    rejected = caught.value
    assert rejected.payload_type == "X12_999_Response_005010X231A1" and rejected.transaction == "999"
    assert "IK501:R" in rejected.error_codes and "AK901:R" in rejected.error_codes
    assert not rejected.retryable and "19851350" not in repr(rejected) + str(rejected)
    assert rejected.response is not None
    ik5 = [s.elements for s in segments_of(rejected.response) if s.id == "IK5"]
    assert ik5 and ik5[0][0] == "R" and not eb(rejected.response)


async def test_a_dropped_connection_is_retried(sandbox: Sandbox) -> None:
    sandbox.faults.drop_http = 1
    async with CoreRealtimeClient(settings_for(sandbox)) as client:
        response = await client.eligibility("EVRGRN", inquiry())
    assert response.attempts == 2 and sandbox.faults.drop_http == 0
    assert eb(response.payload)


async def test_connections_dropped_on_every_attempt_end_in_connection_lost(sandbox: Sandbox) -> None:
    sandbox.faults.drop_http = 10
    async with CoreRealtimeClient(settings_for(sandbox)) as client:  # FAST_RETRY: 3 attempts
        with pytest.raises(ConnectionLost) as caught:
            await client.eligibility("EVRGRN", inquiry())
    assert sandbox.faults.drop_http == 7  # each of the three attempts reached the payer and was dropped
    assert caught.value.payer == "EVRGRN" and "EVG100000001" not in str(caught.value)


async def test_a_slow_payer_times_out(sandbox: Sandbox) -> None:
    sandbox.faults.latency_seconds = 1.0
    retry = RetrySettings(timeout_seconds=0.2, max_attempts=2, initial_backoff_seconds=0.01, jitter_seconds=0)
    async with CoreRealtimeClient(settings_for(sandbox, retry=retry)) as client:
        with pytest.raises(PayerTimeout):
            await client.eligibility("EVRGRN", inquiry())


async def test_the_breaker_opens_rejects_half_opens_and_closes(sandbox: Sandbox) -> None:
    sandbox.faults.http_errors = 100
    retry = RetrySettings(timeout_seconds=2, max_attempts=1)
    breaker = BreakerSettings(failure_threshold=2, cool_down_seconds=0.3)
    async with CoreRealtimeClient(settings_for(sandbox, retry=retry, breaker=breaker)) as client:
        for _ in range(2):
            with pytest.raises(PayerUnavailable) as failure:
                await client.eligibility("EVRGRN", inquiry())
            assert failure.value.status_code == 503
        state = client.breakers.get("EVRGRN", breaker)
        assert state.state is BreakerState.OPEN
        left = sandbox.faults.http_errors
        with pytest.raises(CircuitOpen) as rejected:
            await client.eligibility("EVRGRN", inquiry())
        assert sandbox.faults.http_errors == left  # rejected without calling the payer
        assert 0 < rejected.value.retry_after <= 0.3
        await asyncio.sleep(0.35)
        assert state.state is BreakerState.HALF_OPEN
        with pytest.raises(PayerUnavailable):  # the probe fails: open again
            await client.eligibility("EVRGRN", inquiry())
        assert state.state is BreakerState.OPEN
        sandbox.faults.http_errors = 0
        await asyncio.sleep(0.35)
        response = await client.eligibility("EVRGRN", inquiry())
        assert state.state is BreakerState.CLOSED
    assert eb(response.payload)


async def test_a_276_is_answered_with_the_claims_status_after_adjudication(sandbox: Sandbox) -> None:
    settings = settings_for(sandbox)
    assert settings.sftp is not None
    sent = claim("PCN-STATUS", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])
    interchange = Interchange("PRACTICE01", "SANDBOXCH", 301)
    name = batch_file_name(submitter_id="PRACTICE01", control_number=301)
    async with SftpBatchClient(settings.sftp) as sftp:
        await sftp.upload(build_837p([sent], interchange=interchange).encode(), name=name)

    async def adjudicated() -> bool:
        return bool(sandbox.office.adjudications)

    await eventually(adjudicated)
    request = build_276(
        payer_id="EVRGRN",
        member_id="EVG100000001",
        claim_id="PCN-STATUS",
        charge=Decimal("120"),
        service_date=recent(),
        interchange=interchange,
    )
    async with CoreRealtimeClient(settings) as client:
        response = await client.claim_status("EVRGRN", request)
    (stc,) = [s.elements for s in segments_of(response.payload) if s.id == "STC"]
    assert stc[0] == "F1:65" and Decimal(stc[3]) == 120 and Decimal(stc[4]) == 70
