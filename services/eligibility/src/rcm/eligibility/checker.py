"""Asking payers: the 270 out over CORE real time, the 271 back as a summary.

Each payer has its own concurrency limit and request rate (``PayerPolicy``) and, in the
transport, its own retry policy and circuit breaker: a payer that is slow or down only
ever holds its own slots. Whatever happens, ``check`` returns an outcome; it does not
raise for a payer problem:

- answered: the summary (and the raw 271 for audit);
- AAA rejection: the summary of the rejecting 271 with the AAA decision (retry, wait,
  correct, stop);
- payer unavailable (timeouts or 5xx after the transport's retries, circuit open): a
  summary with status ``error`` and the failure kind; the caller schedules a re-check.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rcm.clearinghouse import (
    CircuitOpen,
    ClearinghouseSettings,
    CoreRealtimeClient,
    RejectedFinal,
    RejectedRetryable,
    TransportError,
)
from rcm.eligibility.domain import (
    AaaAction,
    AaaDecision,
    BenefitSummary,
    InquiryRequest,
    build_270,
    decide,
    summarize,
)
from rcm.eligibility.settings import PayerPolicy
from rcm.events.models import EligibilityStatus
from rcm.x12.convert import read_interchanges
from rcm.x12.errors import X12Error
from rcm.x12.models.eligibility import EligibilityResponse271

__all__ = ["CheckOutcome", "Checker", "PayerGate", "read_271"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    summary: BenefitSummary
    raw_271: str | None = None
    decision: AaaDecision | None = None
    #: Why the payer could not answer (``PayerTimeout``, ``CircuitOpen``...), when it could not.
    failure: str | None = None
    #: True when asking again later may help (outage, AAA "try again").
    retry_later: bool = False
    attempts: int = 1


def read_271(text: str) -> list[EligibilityResponse271]:
    """Every 271 transaction set of an interchange."""
    found: list[EligibilityResponse271] = []
    for interchange, _ in read_interchanges(text):
        for group in interchange.groups:
            found += [t for t in group.transactions if isinstance(t, EligibilityResponse271)]
    return found


@dataclass
class PayerGate:
    """Concurrency and rate limit of one payer."""

    policy: PayerPolicy
    clock: Callable[[], float] = time.monotonic
    _slots: asyncio.Semaphore = field(init=False)
    _next_start: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.policy.max_concurrent)

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        now = self.clock()
        start = max(now, self._next_start)
        self._next_start = start + 1.0 / self.policy.max_per_second
        if start > now:
            await asyncio.sleep(start - now)

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()


class Checker:
    """Sends 270s through one clearinghouse configuration and reads the answers."""

    def __init__(
        self,
        clearinghouse: ClearinghouseSettings,
        *,
        core: CoreRealtimeClient | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        usage: str = "P",
        memo_seconds: float = 300.0,
    ) -> None:
        self.clearinghouse = clearinghouse
        self.core = core or CoreRealtimeClient(clearinghouse)
        self.now = now
        self.usage = usage
        self.memo_seconds = memo_seconds
        self._gates: dict[str, PayerGate] = {}
        self._controls = itertools.count(int(time.time()) % 900_000_000)
        # Answers of the last minutes by cache key: a batch that is applied again after a
        # rollback (another record failed) reuses them instead of asking the payer twice.
        self._memo: dict[str, tuple[float, CheckOutcome]] = {}

    async def aclose(self) -> None:
        await self.core.aclose()

    def gate(self, payer: str, policy: PayerPolicy) -> PayerGate:
        gate = self._gates.get(payer)
        if gate is None or gate.policy != policy:
            gate = PayerGate(policy)
            self._gates[payer] = gate
        return gate

    def remembered(self, cache_key: str) -> CheckOutcome | None:
        hit = self._memo.get(cache_key)
        if hit is None or time.monotonic() - hit[0] > self.memo_seconds:
            self._memo.pop(cache_key, None)
            return None
        return hit[1]

    def _remember(self, cache_key: str, outcome: CheckOutcome) -> None:
        now = time.monotonic()
        if len(self._memo) > 10_000:
            self._memo = {k: v for k, v in self._memo.items() if now - v[0] <= self.memo_seconds}
        self._memo[cache_key] = (now, outcome)

    async def check(self, request: InquiryRequest, policy: PayerPolicy, *, cache_key: str) -> CheckOutcome:
        """Ask the payer about ``request``; never raises for payer-side problems."""
        remembered = self.remembered(cache_key)
        if remembered is not None:
            return remembered
        payer = request.payer_electronic_id
        endpoint = self.clearinghouse.core_endpoint(payer)
        x12 = build_270(
            request,
            sender_id=endpoint.sender_id,
            receiver_id=endpoint.receiver_id,
            interchange_control_number=next(self._controls) % 1_000_000_000,
            created=self.now(),
            usage=self.usage,
        )
        try:
            async with self.gate(payer, policy):
                response = await self.core.eligibility(payer, x12)
        except RejectedFinal as exc:
            outcome = self._rejected(exc.response, request, policy, retry=False)
        except RejectedRetryable as exc:
            outcome = self._rejected(exc.response, request, policy, retry=True)
        except CircuitOpen as exc:
            log.warning("payer %s: circuit open, check deferred", payer)
            outcome = self._unavailable(type(exc).__name__)
        except TransportError as exc:
            log.warning("payer %s: %s after the transport's retries", payer, type(exc).__name__)
            outcome = self._unavailable(type(exc).__name__, retry_later=exc.retryable)
        else:
            outcome = self._answered(response.payload, request, policy, attempts=response.attempts)
        if outcome.failure is None and outcome.summary.status is not EligibilityStatus.ERROR:
            self._remember(cache_key, outcome)
        return outcome

    def _summary(self, text: str, request: InquiryRequest, policy: PayerPolicy) -> BenefitSummary:
        responses = read_271(text)
        if not responses:
            raise X12Error("the answer holds no 271")
        return summarize(responses[0], service_date=request.service_date, order=policy.fallback_order)

    def _answered(
        self, text: str, request: InquiryRequest, policy: PayerPolicy, *, attempts: int
    ) -> CheckOutcome:
        try:
            summary = self._summary(text, request, policy)
        except X12Error:
            log.warning("payer %s: unreadable 271", request.payer_electronic_id)
            return CheckOutcome(
                BenefitSummary(status=EligibilityStatus.ERROR), raw_271=text, failure="Unreadable271"
            )
        decision = (
            decide(summary.aaa_errors)
            if summary.status in (EligibilityStatus.ERROR, EligibilityStatus.NOT_FOUND)
            else None
        )
        return CheckOutcome(summary, raw_271=text, decision=decision, attempts=attempts)

    def _rejected(
        self, text: str | None, request: InquiryRequest, policy: PayerPolicy, *, retry: bool
    ) -> CheckOutcome:
        summary = BenefitSummary(status=EligibilityStatus.ERROR)
        if text:
            try:
                summary = self._summary(text, request, policy)
            except X12Error:
                log.warning("payer %s: unreadable rejecting 271", request.payer_electronic_id)
        decision = decide(summary.aaa_errors) or AaaDecision(AaaAction.RETRY if retry else AaaAction.STOP)
        if retry and summary.status is not EligibilityStatus.ERROR:
            summary = summary.model_copy(update={"status": EligibilityStatus.ERROR})
        return CheckOutcome(
            summary,
            raw_271=text,
            decision=decision,
            retry_later=decision.action in (AaaAction.RETRY, AaaAction.WAIT),
        )

    @staticmethod
    def _unavailable(kind: str, *, retry_later: bool = True) -> CheckOutcome:
        return CheckOutcome(
            BenefitSummary(status=EligibilityStatus.ERROR), failure=kind, retry_later=retry_later
        )
