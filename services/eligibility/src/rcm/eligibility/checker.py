"""Asking payers: the 270 out over CORE real time, the 271 back as a summary.

Each payer has its own concurrency limit and request rate (``PayerPolicy``) and, in the
transport, its own retry policy and circuit breaker: a payer that is slow or down only
ever holds its own slots. Whatever happens, ``check`` returns an outcome; it does not
raise for a payer problem:

- answered: the summary (and the raw 271 for audit);
- AAA rejection: the summary of the rejecting 271 with the AAA decision (retry, wait,
  correct, stop);
- payer unavailable (timeouts or 5xx after the transport's retries, circuit open): a
  summary with status ``error`` and the failure kind; the caller schedules a re-check;
- payer busy (its turn under the rate or concurrency limit would come later than the
  caller is prepared to wait): nothing was sent, ``deferred`` is true and ``retry_in``
  says when the payer should have room; the caller queues the check for then.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.clearinghouse import (
    BreakerState,
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
    order_for,
    summarize,
)
from rcm.eligibility.settings import PayerPolicy
from rcm.events.models import EligibilityStatus
from rcm.x12.convert import read_interchanges_leniently
from rcm.x12.errors import X12Error
from rcm.x12.models.eligibility import EligibilityResponse271

__all__ = [
    "CONTROL_BLOCKS",
    "AnswerForAnotherRequest",
    "CheckOutcome",
    "Checker",
    "ControlNumbers",
    "PayerGate",
    "echoed_traces",
    "read_271",
    "read_271_leniently",
]

log = logging.getLogger(__name__)


class AnswerForAnotherRequest(Exception):
    """The 271 answers another inquiry than ours: its subscriber/dependent TRN*2 (the trace our 270
    sent, echoed back) is not ours, or, without an echoed trace, it names another member.

    ``reason`` is ``TraceMismatch`` or ``MemberMismatch``; the message never holds the member id."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the 271 answers another inquiry ({reason})")
        self.reason = reason


def echoed_traces(response: EligibilityResponse271) -> list[str]:
    """The TRN*2 references of a 271's information levels (the 270's traces echoed back)."""
    found: list[str] = []
    stack = list(response.sources)
    while stack:
        level = stack.pop()
        found += [t.reference for t in level.traces if t.trace_type == "2" and t.reference]
        stack += level.levels
    return found


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
    #: Nothing was sent: the payer's turn would come too late (see ``Checker.check``).
    deferred: bool = False
    #: For a deferred check: seconds until the payer should have room for it.
    retry_in: float = 0.0


def read_271(text: str) -> list[EligibilityResponse271]:
    """Every 271 transaction set of an interchange (see ``read_271_leniently``)."""
    return read_271_leniently(text)[0]


def read_271_leniently(text: str) -> tuple[list[EligibilityResponse271], int]:
    """Every 271 transaction set of an interchange, and how many of its parts were left out.

    A payer's answer with one malformed value (a benefit's amount, a date, a composite without
    its code) still answers for the coverage: that segment is left out, with the benefit loop
    that needs it, and the rest is read. X12Error when nothing can be read (no interchange, a
    set without the parts every 271 has) and for a group of another version than 005010 (a 4010
    271 is not read with the X279A1 rules)."""
    found: list[EligibilityResponse271] = []
    interchanges, unread = read_interchanges_leniently(text)
    for interchange, _ in interchanges:
        for group in interchange.groups:
            if not group.header.version.startswith("005010"):
                raise X12Error(f"271 group version {group.header.version or 'missing'} is not 005010X279A1")
            found += [t for t in group.transactions if isinstance(t, EligibilityResponse271)]
    return found, len(unread)


@dataclass
class PayerGate:
    """Concurrency and rate limit of one payer.

    ``admit(wait_up_to=...)`` bounds how long a caller queues for the payer's turn: past
    that it is refused (and leaves no trace on the payer's rate), so a busy payer makes
    its own checks wait rather than the whole batch they arrived in.
    """

    policy: PayerPolicy
    clock: Callable[[], float] = time.monotonic
    _slots: asyncio.Semaphore = field(init=False)
    _next_start: float = field(default=0.0, init=False)
    _booked: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.policy.max_concurrent)

    async def admit(self, *, wait_up_to: float | None = None) -> bool:
        """Take a slot and the next start under the rate; False when it would take longer than ``wait_up_to``."""
        began = self.clock()
        if wait_up_to is None:
            await self._slots.acquire()
        else:
            try:
                async with asyncio.timeout(max(wait_up_to, 0.0)):
                    await self._slots.acquire()
            except TimeoutError:
                return False
        now = self.clock()
        start = max(now, self._next_start)
        if wait_up_to is not None and start - began > wait_up_to:
            self._slots.release()
            return False
        self._next_start = start + 1.0 / self.policy.max_per_second
        if start > now:
            try:
                await asyncio.sleep(start - now)
            except BaseException:
                self._slots.release()
                raise
        return True

    def release(self) -> None:
        self._slots.release()

    def book_later(self) -> float:
        """Seconds until the payer's rate has room for a refused check, after those refused before it.

        Refused checks are spread at the payer's rate behind the starts already taken, so
        that they come back one by one rather than all at once; the real starts are not
        affected (a refused check that comes back early simply queues again).
        """
        now = self.clock()
        at = max(now, self._next_start, self._booked)
        self._booked = at + 1.0 / self.policy.max_per_second
        return at - now

    async def __aenter__(self) -> None:
        await self.admit()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


CONTROL_BLOCKS = sa.Sequence(
    "elig_interchange_control_block", start=1, minvalue=1, maxvalue=999_999, cycle=True
)
"""The blocks of 270 interchange control numbers (migration 0005): block b is b*1000 to b*1000+999."""
_BLOCK = 1000


class ControlNumbers:
    """ISA13/GS06 of the 270s, unique across processes, replicas and restarts.

    A process takes a block of 1000 numbers at a time from the PostgreSQL sequence
    ``CONTROL_BLOCKS`` of the eligibility database (one statement per 1000 inquiries) and hands
    them out in order; numbers left in a block when the process stops are never used. The
    numbers run from 1000 to 999,999,999 and start over after that. The command line's one-off
    checks take theirs from the same sequence when ``RCM_DATABASE_URL`` names the migrated
    database; without a database the block is drawn at random: distinct from a service's only
    with high probability."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self._next = 0
        self._end = 0
        self._lock = asyncio.Lock()

    def use(self, engine: AsyncEngine) -> None:
        """Take the blocks from ``engine``'s sequence from now on (a random block is dropped)."""
        if self.engine is not engine:
            self.engine = engine
            self._next = self._end = 0

    async def take(self) -> int:
        async with self._lock:
            if self._next >= self._end:
                if self.engine is None:
                    block = secrets.randbelow(999_999) + 1
                else:
                    async with self.engine.connect() as conn:
                        block = int(await conn.scalar(sa.select(CONTROL_BLOCKS.next_value())) or 0)
                self._next, self._end = block * _BLOCK, (block + 1) * _BLOCK
            control = self._next
            self._next += 1
            return control


@dataclass
class _Flight:
    """One exchange with a payer under way."""

    task: asyncio.Task[CheckOutcome]
    #: Its caller stopped waiting: the outcome is kept for the next check of the same request.
    abandoned: bool = False


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
        controls: ControlNumbers | None = None,
    ) -> None:
        self.clearinghouse = clearinghouse
        self.core = core or CoreRealtimeClient(clearinghouse)
        self.now = now
        self.usage = usage
        self.memo_seconds = memo_seconds
        self._gates: dict[str, PayerGate] = {}
        self.controls = controls or ControlNumbers()
        """The 270s' interchange control numbers (from the database once ``bind`` gave it)."""
        # Answers of the last minutes by cache key: a batch that is applied again after a
        # rollback (another record failed) reuses them instead of asking the payer twice.
        self._memo: dict[str, tuple[float, CheckOutcome]] = {}
        # Exchanges under way, and outcomes of those whose caller stopped waiting (by cache key).
        self._inflight: dict[str, _Flight] = {}
        self._unclaimed: dict[str, tuple[float, CheckOutcome]] = {}

    def bind(self, engine: AsyncEngine) -> None:
        """Take the interchange control numbers from the eligibility database's sequence."""
        self.controls.use(engine)

    async def aclose(self) -> None:
        flights = [f.task for f in self._inflight.values()]
        for task in flights:
            task.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
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

    async def check(
        self,
        request: InquiryRequest,
        policy: PayerPolicy,
        *,
        cache_key: str,
        wait_up_to: float | None = None,
        answer_within: float | None = None,
        fresh: bool = False,
    ) -> CheckOutcome:
        """Ask the payer about ``request``; never raises for payer-side problems.

        With ``wait_up_to``, a check whose turn under the payer's concurrency and rate
        limit would come later than that is not sent: the outcome is ``deferred``, with
        ``retry_in`` estimated from the payer's rate. With ``answer_within``, a check sent
        but not answered by then is ``deferred`` too, while its exchange goes on: the next
        check for the same ``cache_key`` waits for that exchange or takes its outcome
        instead of sending another 270. With ``fresh`` (a re-check, the first visit of a month)
        no answer remembered from before is used: the payer is asked (or an exchange already
        under way is joined).
        """
        if not fresh:
            remembered = self.remembered(cache_key)
            if remembered is not None:
                return remembered
            late = self._unclaimed.pop(cache_key, None)
            if late is not None and time.monotonic() - late[0] <= self.memo_seconds:
                return late[1]
        flight = self._inflight.get(cache_key)
        if flight is None:
            payer = request.payer_electronic_id
            breaker = self.core.breakers.get(payer, self.clearinghouse.core_endpoint(payer).breaker)
            if breaker.state is BreakerState.OPEN:
                # fails fast without taking the payer's turn from the checks that may go through later
                log.warning("payer %s: circuit open, check not sent", payer)
                return self._unavailable(CircuitOpen.__name__)
            gate = self.gate(payer, policy)
            if not await gate.admit(wait_up_to=wait_up_to):
                return CheckOutcome(
                    BenefitSummary(status=EligibilityStatus.ERROR),
                    failure="PayerBusy",
                    deferred=True,
                    retry_in=gate.book_later(),
                )
            flight = self._launch(gate, request, policy, cache_key=cache_key)
        if answer_within is None:
            return await asyncio.shield(flight.task)
        try:
            async with asyncio.timeout(answer_within):
                return await asyncio.shield(flight.task)
        except TimeoutError:
            flight.abandoned = True
            log.warning("payer %s: no answer yet, check deferred", request.payer_electronic_id)
            return CheckOutcome(
                BenefitSummary(status=EligibilityStatus.ERROR),
                failure="PayerSlow",
                deferred=True,
                retry_in=answer_within,
            )

    def _launch(
        self, gate: PayerGate, request: InquiryRequest, policy: PayerPolicy, *, cache_key: str
    ) -> _Flight:
        """Start the exchange as a task of its own, so that a caller may stop waiting for it."""

        async def exchange() -> CheckOutcome:
            try:
                return await self._ask(request, policy, cache_key=cache_key)
            finally:
                gate.release()

        flight = _Flight(asyncio.create_task(exchange()))
        self._inflight[cache_key] = flight

        def landed(task: asyncio.Task[CheckOutcome]) -> None:
            if self._inflight.get(cache_key) is flight:
                del self._inflight[cache_key]
            if flight.abandoned and not task.cancelled() and task.exception() is None:
                now = time.monotonic()
                if len(self._unclaimed) > 10_000:
                    self._unclaimed = {
                        k: v for k, v in self._unclaimed.items() if now - v[0] <= self.memo_seconds
                    }
                self._unclaimed[cache_key] = (now, task.result())

        flight.task.add_done_callback(landed)
        return flight

    async def _ask(self, request: InquiryRequest, policy: PayerPolicy, *, cache_key: str) -> CheckOutcome:
        payer = request.payer_electronic_id
        endpoint = self.clearinghouse.core_endpoint(payer)
        try:
            control = await self.controls.take()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("payer %s: no interchange control number (%s)", payer, type(exc).__name__)
            return self._unavailable("NoControlNumber")
        try:
            x12 = build_270(
                request,
                sender_id=endpoint.sender_id,
                receiver_id=endpoint.receiver_id,
                interchange_control_number=control,
                created=self.now(),
                usage=self.usage,
            )
        except X12Error as exc:
            # a value no 270 can carry (an identifier outside the X12 character set): this check
            # fails on its own, the batch's others go on; the message names the element only
            log.warning("payer %s: the 270 cannot be written (%s)", payer, type(exc).__name__)
            return CheckOutcome(BenefitSummary(status=EligibilityStatus.ERROR), failure="Unwritable270")
        try:
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
        responses, unread = read_271_leniently(text)
        if not responses:
            raise X12Error("the answer holds no 271")
        response = self._ours(responses, request)
        order = policy.fallback_order or order_for(request.service_types)
        summary = summarize(
            response,
            service_date=request.service_date,
            order=order,
            telehealth_places=request.telehealth_places,
        )
        if (
            not echoed_traces(response)
            and request.dependent is None  # a dependent may carry an id of its own
            and not _same_member(summary.member_id, request.member_id)
            and not summary.member_data_changed  # the payer corrected the id (INS*001*25)
        ):
            raise AnswerForAnotherRequest("MemberMismatch")
        if unread:  # counted, never quoted: the reader's messages may hold the member's data
            log.warning(
                "payer %s: %d part(s) of a 271 left out unreadable", request.payer_electronic_id, unread
            )
            summary = summary.model_copy(update={"unread_parts": unread})
        return summary

    @staticmethod
    def _ours(responses: list[EligibilityResponse271], request: InquiryRequest) -> EligibilityResponse271:
        """The 271 that answers our 270: the one echoing our trace (TRN*2). A 271 echoing only other
        traces answers someone else's inquiry and is never read as ours."""
        ours = request.trace[:50]
        echoing = [r for r in responses if echoed_traces(r)]
        for response in echoing:
            if ours in echoed_traces(response):
                return response
        silent = [r for r in responses if r not in echoing]
        if silent:
            return silent[0]
        raise AnswerForAnotherRequest("TraceMismatch")

    def _answered(
        self, text: str, request: InquiryRequest, policy: PayerPolicy, *, attempts: int
    ) -> CheckOutcome:
        try:
            summary = self._summary(text, request, policy)
        except AnswerForAnotherRequest as exc:
            return self._mismatch(exc, request)
        except X12Error:
            log.warning("payer %s: unreadable 271", request.payer_electronic_id)
            return CheckOutcome(
                BenefitSummary(status=EligibilityStatus.ERROR), raw_271=text, failure="Unreadable271"
            )
        decision = (
            decide(
                summary.aaa_errors,
                summary.aaa_loops,
                service_date=request.service_date,
                today=self.now().date(),
            )
            if summary.status in (EligibilityStatus.ERROR, EligibilityStatus.NOT_FOUND)
            else None
        )
        # an AAA with AAA01 Y (valid request, no answer: 42...) reaches here, not the transport's rejects
        retry = decision is not None and decision.action in (AaaAction.RETRY, AaaAction.WAIT)
        return CheckOutcome(summary, raw_271=text, decision=decision, attempts=attempts, retry_later=retry)

    def _rejected(
        self, text: str | None, request: InquiryRequest, policy: PayerPolicy, *, retry: bool
    ) -> CheckOutcome:
        summary = BenefitSummary(status=EligibilityStatus.ERROR)
        if text:
            try:
                summary = self._summary(text, request, policy)
            except AnswerForAnotherRequest as exc:
                return self._mismatch(exc, request)
            except X12Error:
                log.warning("payer %s: unreadable rejecting 271", request.payer_electronic_id)
        if summary.status in (EligibilityStatus.ACTIVE, EligibilityStatus.INACTIVE):
            # the payer answered for the coverage; its AAA are about single benefits (2110C/D)
            return CheckOutcome(summary, raw_271=text)
        decision = decide(
            summary.aaa_errors, summary.aaa_loops, service_date=request.service_date, today=self.now().date()
        ) or AaaDecision(AaaAction.RETRY if retry else AaaAction.STOP)
        if retry and summary.status is not EligibilityStatus.ERROR:
            summary = summary.model_copy(update={"status": EligibilityStatus.ERROR})
        return CheckOutcome(
            summary,
            raw_271=text,
            decision=decision,
            retry_later=decision.action in (AaaAction.RETRY, AaaAction.WAIT),
        )

    @staticmethod
    def _mismatch(exc: AnswerForAnotherRequest, request: InquiryRequest) -> CheckOutcome:
        # neither the member id nor the 271 go to the log: only which check failed
        log.warning("payer %s: 271 answers another inquiry (%s)", request.payer_electronic_id, exc.reason)
        return CheckOutcome(
            BenefitSummary(status=EligibilityStatus.ERROR), failure=exc.reason, retry_later=True
        )

    @staticmethod
    def _unavailable(kind: str, *, retry_later: bool = True) -> CheckOutcome:
        return CheckOutcome(
            BenefitSummary(status=EligibilityStatus.ERROR), failure=kind, retry_later=retry_later
        )


def _same_member(answered: str | None, asked: str) -> bool:
    """True when the 271 names no member id or the one we asked about (case and spaces aside)."""
    if not answered or not asked:
        return True
    return answered.strip().upper() == asked.strip().upper()
