"""The one retry helper of the transports: timeouts, bounded exponential backoff with jitter and a
circuit breaker per payer.

A call is retried only when it failed with a ``TransportError`` whose ``retryable`` is true
(timeouts, 5xx, dropped connections, AAA "try again" rejects). The wait before the next try is
the exponential backoff, or longer when the endpoint asked for it (``PayerUnavailable.retry_after``,
from an HTTP ``Retry-After``), never more than the policy's ``max_backoff_seconds`` plus its jitter; an
endpoint that asks for a longer wait than that ends the call at once with its ``PayerUnavailable``
(``retry_after`` set, for the caller to reschedule) instead of burning the attempts. The same failures count
towards the payer's breaker; once it opens, calls fail fast with ``CircuitOpen`` until the
cool-down has passed, then one probe call is let through (half-open): success closes the
breaker, failure opens it again. A final AAA reject is an answer from a payer that works: it
closes the breaker like any other answer (the request was wrong, not the payer).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from rcm.clearinghouse.config import BreakerSettings, RetrySettings
from rcm.clearinghouse.errors import (
    CircuitOpen,
    PayerTimeout,
    PayerUnavailable,
    RejectedFinal,
    TransportError,
)
from rcm.clearinghouse.metrics import ClearinghouseMetrics

__all__ = ["BreakerState", "CircuitBreaker", "CircuitBreakers", "call_with_retry"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker for one payer (not thread-safe; one event loop).

    With ``metrics``, its state is served as a gauge and each transition counted, labelled with
    ``name`` (the payer id) and ``endpoint`` (``core``, ``sftp``).
    """

    def __init__(
        self,
        name: str,
        settings: BreakerSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        endpoint: str = "core",
        metrics: ClearinghouseMetrics | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.endpoint = endpoint
        self._clock = clock
        self._metrics = metrics
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False
        if metrics is not None:
            metrics.watch(self)

    def _entered(self, state: BreakerState) -> None:
        if self._metrics is not None:
            self._metrics.transition(self, state)

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.settings.cool_down_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def before_call(self) -> None:
        """Raise ``CircuitOpen`` unless a call may go through now."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            log.info("circuit %s half-open: letting one probe through", self.name)
            self._entered(BreakerState.HALF_OPEN)
            return
        assert self._opened_at is not None
        retry_after = max(0.0, self.settings.cool_down_seconds - (self._clock() - self._opened_at))
        raise CircuitOpen(f"circuit open for {self.name}", payer=self.name, retry_after=retry_after)

    def record_success(self) -> None:
        if self._opened_at is not None:
            log.info("circuit %s closed", self.name)
            self._entered(BreakerState.CLOSED)
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        if was_probe or self._failures >= self.settings.failure_threshold:
            if self._opened_at is None or was_probe:
                log.warning("circuit %s opened after %d consecutive failures", self.name, self._failures)
                self._entered(BreakerState.OPEN)
            self._opened_at = self._clock()

    def release_probe(self) -> None:
        """A probe ended without telling anything about the payer's health (e.g. a final reject)."""
        self._probe_in_flight = False


class CircuitBreakers:
    """The breakers of all payers, created on first use from each payer's settings (and served on
    ``metrics`` when given: the service's ``ClearinghouseMetrics``)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        endpoint: str = "core",
        metrics: ClearinghouseMetrics | None = None,
    ) -> None:
        self._clock = clock
        self.endpoint = endpoint
        self.metrics = metrics
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str, settings: BreakerSettings) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(
                name, settings, clock=self._clock, endpoint=self.endpoint, metrics=self.metrics
            )
            self._breakers[name] = breaker
        return breaker


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) and exc.retryable


def asks_longer_than(exc: BaseException, policy: RetrySettings) -> bool:
    """True when the endpoint's ``Retry-After`` asks for a longer wait than the policy ever makes
    (``max_backoff_seconds``): retrying sooner would only be throttled again, so the call gives up
    at once and the caller sees ``retry_after`` on the ``PayerUnavailable``."""
    return (
        isinstance(exc, PayerUnavailable)
        and exc.retry_after is not None
        and exc.retry_after > policy.max_backoff_seconds
    )


class wait_backoff_or_retry_after(wait_base):  # noqa: N801 - named like tenacity's wait strategies
    """Exponential backoff with jitter, stretched to the endpoint's ``Retry-After`` when it asked for
    longer. The backoff is capped at ``max_backoff_seconds`` before its jitter is added, so calls
    that reached the cap still spread out; a ``Retry-After`` past the cap is not waited for (the
    call gives up, see ``asks_longer_than``)."""

    def __init__(self, policy: RetrySettings) -> None:
        self.cap = policy.max_backoff_seconds
        self.jitter = policy.jitter_seconds
        self.backoff = wait_exponential_jitter(
            multiplier=policy.initial_backoff_seconds, max=self.cap, jitter=0
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = min(self.backoff(retry_state), self.cap)
        if self.jitter:
            delay += random.uniform(0, self.jitter)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, PayerUnavailable) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self.cap))
        return delay


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning(
        "attempt %d failed with %s; retrying in %.2fs",
        state.attempt_number,
        type(exc).__name__ if exc else "?",
        wait,
    )


async def call_with_retry(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetrySettings,
    breaker: CircuitBreaker | None = None,
    payer: str | None = None,
) -> T:
    """Run ``attempt`` under ``policy``: each try bounded by the timeout, guarded by ``breaker``.

    Returns the first successful result; raises the last error when attempts run out,
    ``CircuitOpen`` as soon as the breaker refuses, and non-retryable errors at once.
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait_backoff_or_retry_after(policy),
        retry=retry_if_exception(lambda exc: _is_retryable(exc) and not asks_longer_than(exc, policy)),
        before_sleep=_log_retry,
        reraise=True,
    )
    async for try_ in retrying:
        with try_:
            if breaker is not None:
                breaker.before_call()
            try:
                async with asyncio.timeout(policy.timeout_seconds):
                    result = await attempt()
            except TimeoutError as exc:
                if breaker is not None:
                    breaker.record_failure()
                raise PayerTimeout(f"no answer within {policy.timeout_seconds:g}s", payer=payer) from exc
            except TransportError as exc:
                if breaker is not None:
                    if exc.retryable:
                        breaker.record_failure()
                    elif isinstance(exc, RejectedFinal):
                        breaker.record_success()
                    else:
                        breaker.release_probe()
                raise
            except BaseException:
                if breaker is not None:
                    breaker.release_probe()
                raise
            if breaker is not None:
                breaker.record_success()
            return result
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover
