"""Retry policy, circuit breaker, AAA classification, envelope forms, ledgers and configuration."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from rcm.clearinghouse import (
    AuthenticationFailed,
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    ClearinghouseSettings,
    MemoryFileLedger,
    PayerUnavailable,
    RejectedFinal,
    RejectedRetryable,
    RetrySettings,
    SqliteFileLedger,
    batch_file_name,
    call_with_retry,
    check_aaa,
)
from rcm.clearinghouse.core import retry_after_seconds
from rcm.clearinghouse.envelope import (
    decode_multipart,
    encode_multipart,
    from_form,
    from_soap,
    new_request,
    to_form,
    to_soap,
)

pytestmark = pytest.mark.unit

FAST = RetrySettings(timeout_seconds=1, max_attempts=3, initial_backoff_seconds=0, jitter_seconds=0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_n_failures_and_half_opens_after_the_cool_down() -> None:
    clock = Clock()
    breaker = CircuitBreaker("P1", BreakerSettings(failure_threshold=3, cool_down_seconds=10), clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now = 10
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0


async def test_only_retryable_errors_are_retried() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise PayerUnavailable("503", status_code=503)
        return "ok"

    assert await call_with_retry(flaky, policy=FAST) == "ok" and calls == 3

    async def refused() -> str:
        nonlocal calls
        calls += 1
        raise AuthenticationFailed("no")

    calls = 0
    with pytest.raises(AuthenticationFailed):
        await call_with_retry(refused, policy=FAST)
    assert calls == 1


async def test_a_final_reject_is_an_answer_that_closes_the_breaker_not_a_failure() -> None:
    clock = Clock()
    breaker = CircuitBreaker("P1", BreakerSettings(failure_threshold=2, cool_down_seconds=10), clock=clock)
    once = RetrySettings(timeout_seconds=1, max_attempts=1)

    async def down() -> str:
        raise PayerUnavailable("503", status_code=503)

    async def member_unknown() -> str:
        raise RejectedFinal("75", reject_reasons=["75"], follow_up_actions=["N"])

    with pytest.raises(PayerUnavailable):
        await call_with_retry(down, policy=once, breaker=breaker)
    with pytest.raises(RejectedFinal):
        await call_with_retry(member_unknown, policy=once, breaker=breaker)
    assert breaker.consecutive_failures == 0  # the payer answered in between: not consecutive
    with pytest.raises(PayerUnavailable):
        await call_with_retry(down, policy=once, breaker=breaker)
    assert breaker.state is BreakerState.CLOSED
    with pytest.raises(PayerUnavailable):
        await call_with_retry(down, policy=once, breaker=breaker)
    assert breaker.state is BreakerState.OPEN
    clock.now = 10
    with pytest.raises(RejectedFinal):  # the half-open probe is answered
        await call_with_retry(member_unknown, policy=once, breaker=breaker)
    assert breaker.state is BreakerState.CLOSED


async def test_an_authentication_failure_neither_counts_nor_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker("P1", BreakerSettings(failure_threshold=1, cool_down_seconds=10), clock=clock)
    once = RetrySettings(timeout_seconds=1, max_attempts=1)

    async def refused() -> str:
        raise AuthenticationFailed("no")

    async def down() -> str:
        raise PayerUnavailable("503", status_code=503)

    with pytest.raises(AuthenticationFailed):
        await call_with_retry(refused, policy=once, breaker=breaker)
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0
    with pytest.raises(PayerUnavailable):
        await call_with_retry(down, policy=once, breaker=breaker)
    clock.now = 10
    with pytest.raises(AuthenticationFailed):  # the probe says nothing about the payer's health
        await call_with_retry(refused, policy=once, breaker=breaker)
    assert breaker.state is BreakerState.HALF_OPEN


def _271(*aaa: str) -> str:
    isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*000000001*0*P*:~"
    return (
        isa
        + "GS*HB*A*B*20240101*1200*1*X*005010X279A1~ST*271*0001*005010X279A1~"
        + "".join(f"AAA*{a}~" for a in aaa)
        + "SE*3*0001~GE*1*1~IEA*1*000000001~"
    )


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("N**42*R", RejectedRetryable),
        ("N**80*P", RejectedRetryable),
        ("N**80*Y", RejectedFinal),  # Y: do not resubmit, the payer handles it itself
        ("N**72*C", RejectedFinal),
        ("N**73*C", RejectedFinal),
        ("N**58*C", RejectedFinal),
        ("N**75*N", RejectedFinal),
        ("N**42*N", RejectedFinal),  # the payer forbids resubmitting even though it was busy
        # R allows a resubmission, not the same one: a wrong member id or name would fail again
        ("N**72*R", RejectedFinal),
        ("N**75*R", RejectedFinal),
        ("N**43*R", RejectedFinal),
        ("N**72*P", RejectedRetryable),  # P asks for the original again
        ("N**79*R", RejectedRetryable),  # the payer could not place the exchange: try again
    ],
)
def test_aaa_rejects_split_into_try_again_and_do_not_retry(segment: str, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        check_aaa(_271(segment))


def test_a_271_without_rejects_passes() -> None:
    check_aaa(_271("Y**42*R"))  # AAA01 Y: the request was valid


def _answered_271(member: str, benefit: str) -> str:
    body = (
        "HL*1**20*1~NM1*PR*2*SYNTHETIC PLAN*****PI*SYNP0001~HL*2*1*21*1~NM1*1P*2*SYNTHETIC GROUP*****XX*1000000004~"
        f"HL*3*2*22*0~NM1*IL*1*PATIENT*TEST****MI*SYN000001~{member}EB*1*IND*30~EB*B*IND*MH*PR**27*30~"
        f"{benefit}DTP*291*D8*20250101~"
    )
    isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*000000001*0*P*:~"
    return (
        isa
        + "GS*HB*A*B*20240101*1200*1*X*005010X279A1~ST*271*0001*005010X279A1~"
        + body
        + ("SE*14*0001~GE*1*1~IEA*1*000000001~")
    )


def test_an_aaa_inside_a_benefit_loop_does_not_reject_the_answered_271() -> None:
    check_aaa(_answered_271("", "AAA*N**42*R~"))  # 2110C: one benefit unavailable, coverage answered
    check_aaa(_answered_271("", "AAA*N**75*N~"))
    with pytest.raises(RejectedFinal, match="75"):
        check_aaa(_answered_271("AAA*N**75*N~", ""))  # 2100C, before any EB: the member is unknown
    with pytest.raises(RejectedRetryable):
        check_aaa(_answered_271("AAA*N**42*R~", "AAA*N**53*N~"))  # the benefit's AAA is not counted


@pytest.mark.parametrize("form", ["mime", "soap"])
def test_envelope_round_trips(form: str) -> None:
    message = new_request(
        "ISA*payload~",
        "X12_270_Request_005010X279A1",
        sender_id="S",
        receiver_id="R",
        username="u",
        password="p",
    )
    if form == "soap":
        back = from_soap(to_soap(message, response=False))
    else:
        body, content_type = encode_multipart(to_form(message))
        back = from_form(decode_multipart(body, content_type))
    assert back == message
    assert message.checksum == hashlib.sha1(b"ISA*payload~").hexdigest()
    assert message.payload_length == "12"


async def test_ledgers_hand_each_content_on_once(tmp_path: Path) -> None:
    for ledger in (MemoryFileLedger(), SqliteFileLedger(tmp_path / "l.db")):
        assert await ledger.record(name="a.835", sha256="h1", size=3, kind="835")
        assert not await ledger.record(name="b.835", sha256="h1", size=3, kind="835")
        assert await ledger.seen("h1") and await ledger.seen_name("b.835", 3)
        await ledger.close()
    reopened = SqliteFileLedger(tmp_path / "l.db")
    assert await reopened.seen("h1")
    await reopened.close()


def test_batch_file_names_are_traceable() -> None:
    from datetime import UTC, datetime

    name = batch_file_name(
        submitter_id="PRACTICE 01", control_number=42, created_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    )
    assert name == "837P_PRACTICE-01_20240506T070809Z_000000042.x12"


SECRET_SFTP = "s3cret-sftp-value"
SECRET_CORE = "s3cret-core-value"


def test_secrets_come_from_the_environment_and_never_show(caplog: pytest.LogCaptureFixture) -> None:
    base = {
        "submitter_id": "PRACTICE01",
        "sftp": {"host": "127.0.0.1", "port": 1, "username": "u", "accept_any_host_key": True},
        "core": {"url": "http://127.0.0.1:1/core", "sender_id": "S", "receiver_id": "R", "username": "u"},
    }
    env = {
        "RCM_CLEARINGHOUSE__SFTP__PASSWORD": SECRET_SFTP,
        "RCM_CLEARINGHOUSE__CORE__PASSWORD": SECRET_CORE,
        "RCM_CLEARINGHOUSE__PAYERS__EVRGRN__RETRY__MAX_ATTEMPTS": "1",
    }
    settings = ClearinghouseSettings.from_env(base, environ=env)
    assert (
        settings.sftp and settings.sftp.password and settings.sftp.password.get_secret_value() == SECRET_SFTP
    )
    assert settings.core_endpoint("EVRGRN").retry.max_attempts == 1
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings %s %r", settings, settings)
    for text in (repr(settings), str(settings), settings.model_dump_json(), caplog.text):
        assert SECRET_SFTP not in text and SECRET_CORE not in text


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),  # an HTTP date 30 s ahead
        ("Wed, 21 Oct 2015 07:20:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_delay_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    from datetime import UTC, datetime

    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == seconds


async def test_the_wait_before_a_retry_stretches_to_retry_after_but_not_past_the_maximum(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetrySettings(
        timeout_seconds=1,
        max_attempts=2,
        initial_backoff_seconds=0,
        max_backoff_seconds=0.3,
        jitter_seconds=0,
    )

    def throttled_once(retry_after: float | None) -> Callable[[], Awaitable[str]]:
        calls = 0

        async def attempt() -> str:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise PayerUnavailable("429", status_code=429, retry_after=retry_after)
            return "ok"

        return attempt

    loop = asyncio.get_running_loop()
    waits = []
    for retry_after in (None, 0.2, 0.3):
        caplog.clear()
        started = loop.time()
        with caplog.at_level(logging.WARNING, logger="rcm.clearinghouse.retry"):
            assert await call_with_retry(throttled_once(retry_after), policy=policy) == "ok"
        waits.append((caplog.records[-1].getMessage().rsplit(" ", 1)[-1], loop.time() - started))
    assert [logged for logged, _ in waits] == ["0.00s", "0.20s", "0.30s"]
    assert waits[1][1] >= 0.2 and waits[2][1] >= 0.3

    # asked to wait longer than the policy ever waits: given up at once, the wait left to the caller
    started = loop.time()
    with pytest.raises(PayerUnavailable) as caught:
        await call_with_retry(throttled_once(3600), policy=policy.model_copy(update={"max_attempts": 5}))
    assert caught.value.retry_after == 3600 and loop.time() - started < 0.2


def test_the_capped_backoff_keeps_its_jitter() -> None:
    from tenacity import RetryCallState

    from rcm.clearinghouse.retry import wait_backoff_or_retry_after

    policy = RetrySettings(initial_backoff_seconds=0.5, max_backoff_seconds=10, jitter_seconds=0.5)
    wait = wait_backoff_or_retry_after(policy)
    state = RetryCallState(None, None, (), {})
    state.attempt_number = 9  # far past the cap
    waits = {wait(state) for _ in range(200)}
    assert len(waits) > 100 and all(10 <= w <= 10.5 for w in waits)
