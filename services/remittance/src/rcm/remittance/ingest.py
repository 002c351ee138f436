"""Posting an 835 file: the use case that ties the domain rules to the store and the events.

``post_remit_file`` runs inside one database transaction (a service transaction or the CLI's):
the file row, every posting, the queues and the outgoing events commit together, so a crash
leaves either nothing or everything, and a retried file is recognised by its hash. Its metrics
are counted through ``Transaction.after_commit``, so a run that rolls back counts nothing.

Exactly once, in three layers:
1. the file: ``remit_file.sha256`` is unique; identical content is skipped before parsing;
2. the payment: one per payer (TRN03), TRN02, BPR02 and BPR16 date; a regenerated file for a
   posted payment reuses it and posts what it had not (claim payments, PLB amounts); a payer's
   other payment under a TRN02 it used before is a payment of its own (flagged);
3. the claim payment: ``claim_payment (payment_id, dedupe_key)`` is unique, the key being
   CLP02, payer claim number and amounts (and the occurrence within the payment); and a
   claim payment identical to one posted under another payment and not reversed is a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.events.models import (
    BalanceChangeReason,
    OutpatientAdjudication,
    PatientBalanceChanged,
    PaymentPosted,
    PostedLine,
    RemitLine,
    RemitReceived,
    RemitUnmatched,
)
from rcm.events.models.common import Adjustment as EventAdjustment
from rcm.remittance import store as t
from rcm.remittance.domain.balancing import check_claim, check_payment
from rcm.remittance.domain.matching import (
    DEFAULT_CUT_LENGTHS,
    ClaimMatch,
    ClaimRef,
    MatchedBy,
    match_claim,
    match_lines,
)
from rcm.remittance.domain.payees import pays_us
from rcm.remittance.domain.payers import resolve_payer
from rcm.remittance.domain.posting import ClaimPosting, ClaimTotals, LinePosting, post_claim
from rcm.remittance.domain.provider_adjustments import (
    OVERPAYMENT_RECOVERY,
    PlbKind,
    apply_provider_adjustments,
    deferral_identity,
    named_claim,
    reference_tokens,
)
from rcm.remittance.domain.reassociation import trace_key
from rcm.remittance.domain.remit import (
    SPLIT_CLAIM_RARC,
    ZERO,
    Adjustment,
    ClaimRemit,
    ClaimStatus,
    Payment,
    ProviderAdjustment,
)
from rcm.remittance.domain.reversal import PostedClaimPayment, find_original, undo
from rcm.remittance.domain.validity import claim_problems, claim_warnings
from rcm.remittance.lookups import Posted, claim_index, line_ids, posted_index
from rcm.remittance.metrics import RemitMetrics
from rcm.remittance.remit_file import RemitFile, read_remit_file
from rcm.remittance.write_offs import apply_waiting, totals_of
from rcm.servicekit import Transaction, among

__all__ = [
    "RELEASABLE",
    "FileOutcome",
    "ReviewError",
    "assign_unmatched",
    "post_remit_file",
    "release_held",
    "rematch_waiting",
    "repost_payment",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FileOutcome:
    """What happened to one file (counts only; safe to log)."""

    file_id: str
    duplicate_file: bool = False
    payments: int = 0
    states: dict[str, int] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)

    def count(self, state: str) -> None:
        self.states[state] = self.states.get(state, 0) + 1


def _inc(counter: Counter, *labels: str) -> None:
    counter.labels(*labels).inc()


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


def _cents(amount: Decimal) -> str:
    """An amount written one way (835s write 800, 800.0 and 800.00 alike)."""
    return str(amount.quantize(Decimal("0.01")))


def _opaque(prefix: str, *parts: object) -> str:
    return f"{prefix}-{_digest(*parts)}"


def _payment_key(payment: Payment) -> str:
    """A payment's id: its payer (TRN03), TRN02, BPR02 and BPR16 date. TRN02 is the check or EFT
    trace number, unique for its payer's money only: a payer may reuse it (a notification's
    constant number, a check number another account used), so the amount and date tell apart
    what TRN02 alone does not."""
    return _opaque(
        "pay", payment.payer_ref, payment.trace_number, _cents(payment.amount), payment.payment_date or ""
    )


def _another_payment_key(payment: Payment, n: int) -> str:
    """The id of a payment alike in payer, TRN02, BPR02 and date to one the same file posted
    before it: the set names it (ISA13, ST02), ``n`` counts it."""
    return _opaque("pay", _payment_key(payment), payment.interchange, payment.control_number, n)


_ALIKE_IN_A_FILE = 50
"""Payments alike in payer, TRN02, BPR02 and date one file is read for, at most."""


def _legacy_payment_key(payment: Payment) -> str:
    """The id a payment was given before 0006, by payer and TRN02 only (stored rows keep it)."""
    return _opaque("pay", payment.payer_ref, payment.trace_number)


def _payment_keys(payment: Payment) -> Iterator[str]:
    """The ids ``payment`` may have been posted under, most likely first."""
    yield _payment_key(payment)
    for n in range(1, _ALIKE_IN_A_FILE + 1):
        yield _another_payment_key(payment, n)
    yield _legacy_payment_key(payment)


def _is_payment(payment: Payment, payment_id: str) -> bool:
    """Whether ``payment_id`` may be the id ``payment`` was posted under (the first payment of a
    file that may is: a file's payments are posted in order)."""
    return any(key == payment_id for key in _payment_keys(payment))


def _find_payment(payments: Sequence[Payment], payment_id: str) -> Payment | None:
    return next((p for p in payments if _is_payment(p, payment_id)), None)


def _claim_payment_base(remit: ClaimRemit) -> str:
    """A claim payment's key within its payer's claim payments: CLP02, CLP07 (else CLP01) and
    amounts (``claim_payment.dedupe_key`` adds its occurrence, ``cross_key`` the payer)."""
    return "|".join(
        [
            remit.status,
            (remit.payer_claim_number or remit.patient_control_number).upper(),
            _cents(remit.charge),
            _cents(remit.paid),
            _cents(remit.patient_responsibility),
        ]
    )


def _norm(number: str | None) -> str:
    """A CLP01 or CLP07 compared: case and surrounding spaces ignored ('' when absent)."""
    return (number or "").strip().upper()


def _safe_id(value: str) -> str:
    """An events ``Id`` from a payer identifier (letters, digits and . _ : - only)."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._:-") else "-" for ch in value.strip())
    if not cleaned:
        return "unknown"
    return (cleaned if cleaned[0].isalnum() else f"p{cleaned}")[:64]


_c, _cp = t.claim.c, t.claim_payment.c

_RECORD_CLAIM_PAYMENTS = (
    pg_insert(t.claim_payment).on_conflict_do_nothing(constraint="claim_payment_once").returning(_cp.remit_id)
)
"""Claim payments recorded (state ``received``), each once: the rows back are the new ones."""

_SET_STATE = (
    t.claim_payment.update()
    .where(_cp.remit_id == sa.bindparam("b_remit_id"))
    .values(state=sa.bindparam("state"))
)
_SET_MATCHED_STATE = (
    t.claim_payment.update()
    .where(_cp.remit_id == sa.bindparam("b_remit_id"))
    .values(
        state=sa.bindparam("state"), claim_id=sa.bindparam("claim_id"), matched_by=sa.bindparam("matched_by")
    )
)
_SET_REVERSED_BY = (
    t.claim_payment.update()
    .where(_cp.remit_id == sa.bindparam("b_remit_id"))
    .values(reversed_by=sa.bindparam("reversed_by"))
)


def _earlier(*, same_amounts: bool) -> sa.Select[Any]:
    """Claim payments posted before and not reversed that a new one repeats: the same payer and
    key (``cross_key``), or, when ``same_amounts`` (it pays money), the same claim and amounts
    under another payer claim number, which is a payer's repeat, not a second adjudication."""
    same: list[Any] = [_cp.cross_key == sa.bindparam("cross_key")]
    if same_amounts:
        same.append(
            sa.and_(
                _cp.claim_id == sa.bindparam("claim_id"),
                _cp.status == sa.bindparam("status"),
                _cp.charge == sa.bindparam("charge"),
                _cp.paid == sa.bindparam("paid"),
                _cp.patient_responsibility == sa.bindparam("patient_responsibility"),
            )
        )
    return sa.select(_cp.remit_id, _cp.payer_claim_number, _cp.charge, _cp.paid).where(
        sa.or_(*same),
        _cp.remit_id != sa.bindparam("remit_id"),
        _cp.state == "posted",
        _cp.reversed_by.is_(None),
    )


_EARLIER_SAME_KEY = _earlier(same_amounts=False)
_EARLIER_SAME_AMOUNTS = _earlier(same_amounts=True)

_POSTED_FOR = (
    sa.select(t.claim_payment)
    .where(_cp.claim_id == sa.bindparam("claim_id"), _cp.state == "posted", _cp.reverses.is_(None))
    .order_by(_cp.created_at, _cp.sequence)
)
_POSTED_LINES = (
    sa.select(t.posted_line)
    .where(t.posted_line.c.remit_id == sa.any_(sa.bindparam("remit_ids", type_=ARRAY(sa.Text))))
    .order_by(t.posted_line.c.id)
)
_POSTED_ADJUSTMENTS = (
    sa.select(t.posted_adjustment)
    .where(
        t.posted_adjustment.c.posted_line_id == sa.any_(sa.bindparam("line_ids", type_=ARRAY(sa.BigInteger)))
    )
    .order_by(t.posted_adjustment.c.id)
)

_SETTLE = (
    sa.text(
        """
        WITH settled AS (
            UPDATE claim_payment
            SET state = :state, claim_id = :claim_id, matched_by = :matched_by, reverses = :reverses
            WHERE remit_id = :remit_id
        ), owed AS (
            INSERT INTO patient_balance (patient_id, balance)
            SELECT CAST(:patient_id AS text), CAST(:owed AS numeric) WHERE CAST(:owed AS numeric) <> 0
            ON CONFLICT (patient_id) DO UPDATE
            SET balance = patient_balance.balance + excluded.balance, updated_at = now()
            RETURNING balance
        )
        UPDATE claim
        SET paid = claim.paid + CAST(:paid AS numeric),
            contractual = claim.contractual + CAST(:contractual AS numeric),
            denied = claim.denied + CAST(:denied AS numeric),
            patient_responsibility = claim.patient_responsibility + CAST(:patient_responsibility AS numeric),
            forwarded = claim.forwarded + CAST(:forwarded AS numeric),
            other = claim.other + CAST(:other AS numeric),
            interest = claim.interest + CAST(:interest AS numeric)
        WHERE claim.claim_id = :claim_id
        RETURNING claim.total_charge, claim.paid, claim.contractual, claim.denied,
                  claim.patient_responsibility, claim.forwarded, claim.other, claim.written_off,
                  (SELECT balance FROM owed) AS patient_balance,
                  EXISTS (SELECT 1 FROM claim_write_off w
                          WHERE w.claim_id = claim.claim_id AND w.applied IS NULL) AS write_offs_waiting
        """
    )
    .bindparams(
        *(
            sa.bindparam(name, type_=sa.Numeric)
            for name in (
                "owed",
                "paid",
                "contractual",
                "denied",
                "patient_responsibility",
                "forwarded",
                "other",
                "interest",
            )
        )
    )
    .columns(
        total_charge=sa.Numeric,
        paid=sa.Numeric,
        contractual=sa.Numeric,
        denied=sa.Numeric,
        patient_responsibility=sa.Numeric,
        forwarded=sa.Numeric,
        other=sa.Numeric,
        written_off=sa.Numeric,
        patient_balance=sa.Numeric,
        write_offs_waiting=sa.Boolean,
    )
)
"""A posted claim payment settled: its outcome and claim, the claim's totals moved by the posting
(and returned), and what the patient owes moved by the posting's patient share when it has one;
whether a write-off of the claim's denials waits for its adjudication (``write_offs``). The claim
is locked before (``lookups``), so this statement sees a write-off recorded while it waited."""

_LINES_QUEUED = "remittance.posted_lines_queued"
"""``Transaction.memo``: posted lines are queued and not written yet (``posted_for`` writes them)."""


@dataclass(frozen=True, slots=True)
class _Alike:
    """A posted reversal a new one repeats (``reversal_repeated``)."""

    remit_id: str
    repeat: bool
    """The same reversal sent again (``_Run.reversal_repeated``), not one of another payment alike."""


class _Run:
    def __init__(
        self,
        tx: Transaction,
        *,
        file_id: str,
        file_name: str,
        received_at: datetime,
        cut_lengths: Sequence[int],
        metrics: RemitMetrics,
        outcome: FileOutcome,
        payee_ids: Sequence[str] = (),
    ) -> None:
        self.tx = tx
        self.payee_ids = payee_ids
        self.conn: AsyncConnection = tx.conn
        self.file_id = file_id
        self.file_name = file_name[:255]
        self.received_at = received_at
        self.cut_lengths = cut_lengths
        self.metrics = metrics
        self.outcome = outcome
        self.payers: dict[str, str | None] = {}
        self.payment_ids: set[str] = set()
        """The payments this run has posted (a payment of the file alike to one of them is another)."""
        self.line_hint = 0
        """How many posted lines the rest of the payment being posted may write, at most."""

    @classmethod
    def again(
        cls,
        tx: Transaction,
        file_id: str,
        file: Any,
        *,
        cut_lengths: Sequence[int],
        metrics: RemitMetrics,
        payee_ids: Sequence[str] = (),
    ) -> _Run:
        """A run posting again from the stored file ``file_id`` (``file``: its name and received_at)."""
        return cls(
            tx,
            file_id=file_id,
            file_name=file.name,
            received_at=file.received_at,
            cut_lengths=cut_lengths,
            metrics=metrics,
            outcome=FileOutcome(file_id=file_id),
            payee_ids=payee_ids,
        )

    # ------------------------------------------------------------------ exceptions
    async def flag(
        self,
        kind: str,
        message: str,
        *,
        payment_id: str | None = None,
        remit_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.conn.execute(
            t.remit_exception.insert().values(
                kind=kind,
                file_id=self.file_id,
                payment_id=payment_id,
                remit_id=remit_id,
                message=message,
                detail=detail,
            )
        )
        self.tx.after_commit(partial(_inc, self.metrics.exceptions, kind))
        self.outcome.exceptions.append(kind)
        log.warning("remit exception %s (file %s, payment %s)", kind, self.file_id, payment_id)

    # ------------------------------------------------------------------ payment
    async def identify(self, payment: Payment) -> tuple[str, Any | None, list[str]]:
        """The payment's id, its row when it was recorded before (the same payment from another
        file, or the same file reposted), and the payer's other payments under its TRN02 when it
        was not. Locks the payer's payments under that TRN02 until the posting commits."""
        p = t.payment.c
        rows = (
            await self.conn.execute(
                sa.select(p.payment_id, p.status, p.amount, p.payment_date, p.file_id)
                .where(p.payer_ref == payment.payer_ref, p.trace_number == payment.trace_number)
                .order_by(p.created_at, p.payment_id)
                .with_for_update()
            )
        ).all()
        same = {
            row.payment_id: row
            for row in rows
            if row.amount == payment.amount
            and row.payment_date == payment.payment_date
            and row.payment_id not in self.payment_ids
        }
        if same:  # the id this set was given before, when it is one of them; else the first
            payment_id = next((i for i in _payment_keys(payment) if i in same), next(iter(same)))
            return payment_id, same[payment_id], []
        taken = {row.payment_id for row in rows} | self.payment_ids
        payment_id, n = _payment_key(payment), 0
        while payment_id in taken:
            n += 1
            payment_id = _another_payment_key(payment, n)
        return payment_id, None, [row.payment_id for row in rows]

    async def post_payment(
        self, payment: Payment, *, incomplete: bool, payment_id: str | None = None
    ) -> None:
        """Record and post one 835 payment; ``payment_id`` names the recorded payment to post again
        (``repost_payment``), else the payment is identified by payer, TRN02, BPR02 and date."""
        others: list[str] = []
        if payment_id is None:
            payment_id, row, others = await self.identify(payment)
        else:
            row = (
                await self.conn.execute(
                    sa.select(t.payment.c.status, t.payment.c.file_id).where(
                        t.payment.c.payment_id == payment_id
                    )
                )
            ).first()
        self.payment_ids.add(payment_id)
        existing = None if row is None else row.status
        imbalance = None if payment.payment_only else check_payment(payment)
        foreign = not pays_us(payment.payee_ids, self.payee_ids)
        status = "incomplete" if incomplete else "unbalanced" if imbalance else "posted"
        if payment.payment_only and not incomplete:
            status = "payment_only"
        if foreign and not incomplete:
            status = "other_payee"
        self.payers[payment_id] = await self.resolve_payer(payment)
        values = {
            "file_id": self.file_id,
            "payer_ref": payment.payer_ref,
            "payer_name": payment.payer_name,
            "trace_number": payment.trace_number,
            "trace_key": trace_key(payment.trace_number),
            "amount": payment.amount,
            "method": payment.method,
            "payment_date": payment.payment_date,
            "control_number": payment.control_number,
            "payer_id": self.payers[payment_id],
            "status": status,
        }
        if existing is None:
            await self.conn.execute(t.payment.insert().values(payment_id=payment_id, **values))
            if others:
                await self.flag(
                    "trace_number_reused",
                    "the payer used this TRN02 before for another payment (another BPR02 amount or "
                    "date): posted as a payment of its own; match its deposit by amount and date too",
                    payment_id=payment_id,
                    detail={"other_payments": others[:10]},
                )
        elif existing == "posted":
            # A regenerated 835 for a payment already posted: only what was not posted then passes.
            await self.flag(
                "payment_redelivered",
                "the same payment (payer, TRN02, BPR02 and date) was posted from an earlier file: "
                "only its claim payments and PLB amounts not posted then are posted",
                payment_id=payment_id,
                detail={"posted_from": row.file_id}
                if row is not None and row.file_id != self.file_id
                else None,
            )
            status = "posted"
        else:
            await self.conn.execute(
                t.payment.update().where(t.payment.c.payment_id == payment_id).values(**values)
            )
        self.outcome.payments += 1
        if incomplete:
            await self.flag(
                "incomplete_payment",
                "a claim payment of this 835 could not be read; nothing of it was posted",
                payment_id=payment_id,
            )
            return
        if foreign:
            await self.flag(
                "other_payee",
                "the 835's payee (N1*PE, REF*TJ/PQ) is none of the practice's payee ids; nothing was posted",
                payment_id=payment_id,
            )
            return
        if imbalance is not None:
            await self.flag(
                "unbalanced_payment",
                imbalance.describe(),
                payment_id=payment_id,
                detail={"reported": str(imbalance.reported), "expected": str(imbalance.expected)},
            )
            # what the held claim payments hold explains the imbalance, when one does
            await self.flag_held_claims(payment, payment_id)
            return
        await self.post_claim_payments(payment, payment_id)
        await self.apply_plb(payment, payment_id)
        await self.flag_held_claims(payment, payment_id)

    async def flag_held_claims(self, payment: Payment, payment_id: str) -> None:
        for held in payment.held_claims:
            self.outcome.count("held")
            # not recorded as a claim payment: the payer's corrected 835 (the same payment again)
            # posts it then, once, while the claim payments posted now are recognised and skipped
            await self.flag(
                held.kind,
                f"claim payment {held.sequence} of the 835 held whole, nothing of it posted: {held.reason}",
                payment_id=payment_id,
                detail={
                    "set": payment.control_number,
                    "interchange": payment.interchange,
                    "claim": held.sequence,
                    "patient_control_number": held.patient_control_number,
                    "paid": str(held.paid),
                },
            )

    # ------------------------------------------------------------------ claim payments
    async def post_claim_payments(self, payment: Payment, payment_id: str) -> None:
        """Record every claim payment of ``payment`` once, then post the new ones in order.

        All are recorded (state ``received``) with one insert: a claim payment recorded before
        (the same payment from a regenerated file, a redelivered file) is not inserted again and
        posts nothing. Nothing a posting reads sees a ``received`` claim payment, so recording the
        later ones of the payment first leaves every posting as it was. The claims all of them can
        name are read once, before the first is posted (``lookups.ClaimIndex``)."""
        seen: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        for remit in payment.claims:
            base = _claim_payment_base(remit)
            seen[base] = seen.get(base, 0) + 1
            dedupe_key = f"{base}#{seen[base]}"
            rows.append(
                {
                    "remit_id": _opaque("rmt", payment_id, dedupe_key),
                    "payment_id": payment_id,
                    "file_id": self.file_id,
                    "sequence": remit.sequence,
                    "dedupe_key": dedupe_key,
                    "cross_key": f"{payment.payer_ref}|{base}",
                    "patient_control_number": remit.patient_control_number,
                    "payer_claim_number": remit.payer_claim_number,
                    "status": remit.status,
                    "charge": remit.charge,
                    "paid": remit.paid,
                    "patient_responsibility": remit.patient_responsibility,
                    "state": "received",
                }
            )
        if not rows:
            return
        recorded = set((await self.conn.execute(_RECORD_CLAIM_PAYMENTS, rows)).scalars())
        fresh = [
            (remit, row)
            for remit, row in zip(payment.claims, rows, strict=True)
            if row["remit_id"] in recorded
        ]
        claims = claim_index(self.tx)
        await claims.load(self.conn, [remit for remit, _ in fresh], self.cut_lengths)
        await posted_index(self.tx).load(
            self.conn,
            [row["cross_key"] for _, row in fresh],
            {i for remit, _ in fresh for i in claims.lookup(remit, self.cut_lengths)},
        )
        self.line_hint = sum(max(len(remit.services), 1) for remit, _ in fresh)
        for remit, row in zip(payment.claims, rows, strict=True):
            if row["remit_id"] not in recorded:
                self.outcome.count("already_posted")
                continue
            for warning in claim_warnings(remit):  # flagged once, when it is first recorded
                await self.flag(
                    warning.kind, warning.message, payment_id=payment_id, remit_id=row["remit_id"]
                )
            state = await self._post(payment, payment_id, row["remit_id"], remit, row["cross_key"])
            self.outcome.count(state)
            self.tx.after_commit(partial(_inc, self.metrics.claim_payments, state))

    async def _set_state(self, remit_id: str, state: str, claim: ClaimMatch | None = None) -> str:
        """The claim payment's outcome; with the claim it was matched to, when it was."""
        if claim is None or claim.claim is None:
            await self.conn.execute(_SET_STATE, {"b_remit_id": remit_id, "state": state})
        else:
            await self.conn.execute(
                _SET_MATCHED_STATE,
                {
                    "b_remit_id": remit_id,
                    "state": state,
                    "claim_id": claim.claim.claim_id,
                    "matched_by": claim.matched_by,
                },
            )
        return state

    async def _post(
        self,
        payment: Payment,
        payment_id: str,
        remit_id: str,
        remit: ClaimRemit,
        cross_key: str,
        *,
        chosen: ClaimRef | None = None,
        matched_by: str | None = None,
        released: bool = False,
    ) -> str:
        """Post one claim payment; ``chosen``: the claim to post it to (a person's placement, or
        the claim a waiting reversal was matched to before, ``matched_by`` then saying how);
        ``released``: a person confirmed it is no repeat and no second payment of the claim
        (``release_held``), so neither check holds it again."""
        problems = claim_problems(remit)
        for problem in problems:
            await self.flag(problem.kind, problem.message, payment_id=payment_id, remit_id=remit_id)
        if problems:
            return await self._set_state(remit_id, "held")
        imbalances = check_claim(remit)
        if imbalances:
            await self.flag(
                "unbalanced_claim",
                "; ".join(i.describe() for i in imbalances),
                payment_id=payment_id,
                remit_id=remit_id,
            )
            return await self._set_state(remit_id, "unbalanced")

        if chosen is not None:  # a person placed it (``assign_unmatched``), or it was matched before
            match = ClaimMatch(chosen, MatchedBy(matched_by) if matched_by else MatchedBy.REVIEW)
        else:
            candidates = await self.candidates(remit, await self.payer_of(payment_id))
            match = match_claim(remit, candidates, cut_lengths=self.cut_lengths)
        if match.claim is None:
            reason = match.reason or "no_claim"
            await self.queue_unmatched(payment, payment_id, remit_id, remit, reason, match.candidates)
            return await self._set_state(remit_id, "unmatched")
        claim = match.claim
        # the claim and how it was matched are written with the claim payment's outcome, below:
        # nothing read in between reads this claim payment's row
        if remit.payer_claim_number:
            await claim_index(self.tx).remember(self.conn, remit.payer_claim_number, claim.claim_id)

        revive: PostedClaimPayment | None = None
        reversal_follows = False  # a reversal further on in this 835 takes the first back
        reverses: str | None = None
        waiting: Any | None = None  # a reversal of this claim payment that came before it
        if remit.status == ClaimStatus.REVERSAL:
            posted = await self.posted_for(claim.claim_id)
            # what an earlier remittance posted first: a correction listed before this reversal in
            # the same 835 may repeat the original's CLP07 and amounts, and is not what it takes back
            original = find_original(remit, [p for p in posted if p.payment_id != payment_id])
            original = original or find_original(remit, posted)
            alike = (
                None
                if original is not None
                else await self.reversal_repeated(payment, remit_id, remit, cross_key)
            )
            if alike is not None and alike.repeat:
                # the payer sent this reversal before (its same transfer, or the adjudication
                # regenerated under another trace), and it posted: there is nothing left to take back
                await self.flag(
                    "duplicate_claim_payment",
                    "the same reversal (CLP02 22) was already posted from another payment",
                    payment_id=payment_id,
                    remit_id=remit_id,
                    detail={"duplicate_of": alike.remit_id},
                )
                return await self._set_state(remit_id, "duplicate", match)
            if original is None:
                # the original may come later (an 835 delivered late, a payment held for its
                # payee, a correction that repeats the reversed payment's CLP07 and amounts): it
                # takes this reversal right after it posts (``waiting_reversal``)
                await self.flag(
                    "orphan_reversal",
                    "reversal (CLP02 22) with no open posting to reverse: it waits for the payment it "
                    "takes back, and posts right after it"
                    + (
                        " (a reversal alike, of an earlier payment, posted under another trace number)"
                        if alike is not None
                        else ""
                    ),
                    payment_id=payment_id,
                    remit_id=remit_id,
                    detail=None if alike is None else {"alike": alike.remit_id},
                )
                await self.queue_unmatched(payment, payment_id, remit_id, remit, "no_claim", ())
                posted_index(self.tx).orphaned(claim.claim_id)
                return await self._set_state(remit_id, "orphan_reversal", match)
            posting = replace(undo(original), interest=remit.interest_in_paid)
            await self.conn.execute(
                _SET_REVERSED_BY, {"b_remit_id": original.remit_id, "reversed_by": remit_id}
            )
            posted_index(self.tx).reversed(original.remit_id)
            state, reverses = "posted", original.remit_id
            revive = original
            line_keys: list[str | None] = []
        else:
            # a part of a claim the payer split goes to the lines the other parts left, of alike ones
            paid_lines = await self.lines_paid(claim) if SPLIT_CLAIM_RARC in remit.rarcs else set()
            matches = match_lines(
                remit.services,
                claim.lines,
                claim_date=remit.statement_date,
                claim_end=remit.statement_end,
                paid_lines=paid_lines,
            )
            line_keys = [m.line_key for m in matches]
            keys = {m.line_key for m in matches if m.line_key}
            status = remit.claim_status
            if status is not None and status.moves_money:
                waiting = await self.waiting_reversal(payment, payment_id, remit, claim.claim_id)
            if waiting is not None:
                # the payer reversed this claim payment before it came (an 835 delivered late, a
                # payment held for its payee): it posts, and its reversal right after it, so the
                # two net to nothing whatever else the claim holds
                reversal_follows = True
            else:
                earlier = [] if released else await self.repeated(remit_id, remit, cross_key, claim.claim_id)
                # a part of a split claim (MA15) under a payer claim number of its own, paid at claim
                # level (no lines to tell the parts apart by), is not a repeat
                earlier = [e for e in earlier if keys or not _other_part(remit, e)]
                if earlier:  # a split claim's parts may carry the same money for other lines
                    earlier = await self.on_same_lines(earlier, keys)
                # a correction listed before the reversal of the first in the same 835 is not a
                # repeat: the reversal takes the first back further on (5010 sets no order between them)
                duplicate = next((e for e in earlier if not _reversed_in(payment, remit, e)), None)
                if duplicate is not None:
                    await self.flag(
                        "duplicate_claim_payment",
                        "the same claim payment was already posted from another payment",
                        payment_id=payment_id,
                        remit_id=remit_id,
                        detail={"duplicate_of": duplicate.remit_id},
                    )
                    return await self._set_state(remit_id, "duplicate", match)
                reversal_follows = bool(earlier)
            single = claim.lines[0].line_key if len(claim.lines) == 1 else None
            posting = post_claim(
                remit,
                claim_id=claim.claim_id,
                line_keys=line_keys,
                single_line_key=single,
                claim_payer_order=claim.payer_order,
            )
            if (
                not released
                and waiting is None
                and not reversal_follows
                and posting.patient_responsibility != ZERO
            ):
                first = await self.paid_before(payment, payment_id, remit_id, remit, claim.claim_id, keys)
                if first is not None:
                    # a payer's second adjudication of a claim it paid, with no reversal of the
                    # first (5010 reverses and corrects): posting it would bill the patient's share
                    # twice. Held; it posts when the payer reverses the first (``post_held_correction``)
                    await self.flag(
                        "second_payment_without_reversal",
                        "the payer already paid this claim (an open claim payment, "
                        f"CLP07 {first.payer_claim_number or 'none'}) and does not reverse it: held for "
                        "review, posting both would count the claim's payment and the patient's share "
                        "twice; it posts when the payer reverses the first",
                        payment_id=payment_id,
                        remit_id=remit_id,
                        detail={"duplicate_of": first.remit_id, "claim_id": claim.claim_id},
                    )
                    return await self._set_state(remit_id, "held", match)
            for m in matches:
                if m.line_key is None:
                    await self.queue_unmatched_line(
                        payment, payment_id, remit_id, remit, claim.claim_id, m.service_index
                    )
            state = "posted" if status is None or status.moves_money else "recorded"

        totals, owed, waiting_write_offs = await self.write_posting(
            remit_id, posting, state, match, reverses=reverses
        )
        if state == "posted":
            posted_index(self.tx).posted(_open(remit_id, remit, cross_key, claim.claim_id))
        if revive is not None:
            # the reversal and its correction carry the overpayment: a WO that took it from the
            # claim before they came is cash only, on the account (``give_back_recoupments``)
            totals = await self.give_back_recoupments(payment, claim, totals)
        # counted once the postings commit: a file or batch retried after a rollback counts once
        self.tx.after_commit(partial(self.metrics.posted, claim.payer_id, remit.status, posting))
        # a correction listed before its reversal overpays the claim until the reversal posts:
        # the balance is checked once that reversal has posted (a credit left then is real)
        reversed_primary = revive is not None and revive.posting.status in _PRIMARY_CODES
        if (
            (remit.claim_status in _PRIMARY or reversed_primary)
            and totals.insurance_balance < ZERO
            and not reversal_follows
            and (
                reversed_primary
                or not await self.reversed_further_on(payment, payment_id, remit, claim.claim_id)
            )
        ):
            # e.g. the same claim paid again under another payer claim number, with no reversal:
            # the money came, so it is posted, and the credit balance waits for a refund review
            await self.flag(
                "overpaid_claim",
                "the claim's payments and adjustments exceed its charge (credit balance)",
                payment_id=payment_id,
                remit_id=remit_id,
                detail={"claim_id": claim.claim_id, "claim_balance": str(totals.insurance_balance)},
            )
        await self.check_crossover(payment_id, remit_id, claim.claim_id, totals)
        await self.publish(payment, remit_id, remit, claim, line_keys, posting, totals, owed)
        if waiting_write_offs and remit.status != ClaimStatus.REVERSAL:
            # write-offs of the claim's denials read before its adjudication was on file
            await apply_waiting(
                self.tx,
                claim_id=claim.claim_id,
                patient_id=claim.patient_id,
                payer_id=claim.payer_id,
                totals=totals,
                at=self.received_at,
            )
        if revive is not None:
            await self.post_held_correction(payment, remit, claim.claim_id, revive)
        if waiting is not None:
            await self.post_waiting_reversal(waiting, claim)
        return "posted" if posting.lines or remit.status == ClaimStatus.REVERSAL else "recorded"

    async def reversed_further_on(
        self, payment: Payment, payment_id: str, remit: ClaimRemit, claim_id: str
    ) -> bool:
        """Whether ``payment`` also carries a reversal (CLP02 22) of this claim that takes back a
        posting made before it: ``remit``, a correction listed before that reversal (5010 sets no
        order between the two), overpays the claim only until the reversal posts, whatever money
        the correction changes."""
        control = remit.patient_control_number.strip().upper()
        reversals = [
            c
            for c in payment.claims
            if c.status == ClaimStatus.REVERSAL and c.patient_control_number.strip().upper() == control
        ]
        if not reversals:
            return False
        posted = [p for p in await self.posted_for(claim_id) if p.payment_id != payment_id]
        return any(find_original(c, posted) is not None for c in reversals)

    async def reversal_repeated(
        self, payment: Payment, remit_id: str, remit: ClaimRemit, cross_key: str
    ) -> _Alike | None:
        """A reversal posted before that ``remit`` (a reversal with nothing left to take back)
        is alike: the same payer, payer claim number and amounts; a repeat of it first.

        It is the same reversal sent again (``repeat``) when it came in the payer's same transfer
        (TRN03 and TRN02: the payment identity, 0006, then differs in BPR02 or date only), or when
        the payer regenerated the adjudication under another trace: this 835 carries again, for
        the claim, a claim payment the earlier reversal's carried (its correction). Otherwise the
        payer takes back another payment alike: the correction of the one it reversed, repeating
        its CLP07 and amounts (5010 reverses and corrects, and a correction may be reversed in
        turn), whose 835 may come after this one; that reversal waits for it
        (``waiting_reversal``)."""
        p = t.payment.c
        control = _norm(remit.patient_control_number)
        companions = [
            f"{payment.payer_ref}|{_claim_payment_base(c)}"
            for c in payment.claims
            if c.sequence != remit.sequence
            and c.status != ClaimStatus.REVERSAL
            and _norm(c.patient_control_number) == control
        ]
        e = t.claim_payment.alias("companion").c
        repeat = sa.or_(
            sa.and_(p.payer_ref == payment.payer_ref, p.trace_key == trace_key(payment.trace_number)),
            sa.exists().where(e.payment_id == _cp.payment_id, e.cross_key.in_(companions))
            if companions
            else sa.false(),
        )
        row = (
            await self.conn.execute(
                sa.select(_cp.remit_id, repeat.label("repeat"))
                .join(t.payment, p.payment_id == _cp.payment_id)
                .where(
                    _cp.cross_key == cross_key,
                    _cp.remit_id != remit_id,
                    _cp.state == "posted",
                    _cp.status == ClaimStatus.REVERSAL.value,
                )
                .order_by(repeat.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else _Alike(row.remit_id, bool(row.repeat))

    async def waiting_reversal(
        self, payment: Payment, payment_id: str, remit: ClaimRemit, claim_id: str
    ) -> Any | None:
        """An orphan reversal on ``claim_id`` that takes back ``remit`` (its amounts negated, the
        same payer claim number first, as ``find_original`` pairs them), locked.

        The payer's own (the same TRN03) first. A reversal under another TRN03 (a payer that
        changed its originating company id, another entity of the plan) takes it back only when it
        is certainly the same payer's reversal of this very claim payment: both payments name our
        same payer (``payer-updated``'s identifiers: TRN03, N1*PR, REF*2U), and it carries the same
        CLP07 and CLP01 and every amount negated, and no other reversal alike (that CLP07 and those
        amounts) waits on the claim. Otherwise it is left to a person (``rcm remits assign``), as is
        one whose payer is not known; the matcher pairs by the same rule (``_takes_back_on_file``)."""
        if not posted_index(self.tx).may_wait(claim_id):
            return None
        p = t.payment.c
        rows = (
            await self.conn.execute(
                sa.select(
                    _cp.remit_id,
                    _cp.payment_id,
                    _cp.file_id,
                    _cp.sequence,
                    _cp.cross_key,
                    _cp.matched_by,
                    _cp.payer_claim_number,
                    _cp.patient_control_number,
                    _cp.patient_responsibility,
                    p.payer_ref,
                    p.payer_id,
                )
                .join(t.payment, p.payment_id == _cp.payment_id)
                .where(
                    _cp.claim_id == claim_id,
                    _cp.state == "orphan_reversal",
                    _cp.status == ClaimStatus.REVERSAL.value,
                    _cp.paid == -remit.paid,
                    sa.func.abs(_cp.charge) == abs(remit.charge),
                )
                .order_by(_cp.created_at, _cp.sequence)
                .with_for_update(of=t.claim_payment)
            )
        ).all()
        number = _norm(remit.payer_claim_number)
        own = [r for r in rows if r.payer_ref == payment.payer_ref]
        if own:
            return next((r for r in own if _norm(r.payer_claim_number) == number), own[0])
        payer_id = await self.payer_of(payment_id)
        if payer_id is None or not number:
            return None
        alike = [r for r in rows if _norm(r.payer_claim_number) == number]
        same = [
            r
            for r in alike
            if r.payer_id == payer_id
            and _norm(r.patient_control_number) == _norm(remit.patient_control_number)
            and r.patient_responsibility == -remit.patient_responsibility
        ]
        if len(same) == 1 and len(alike) == 1:
            return same[0]
        if same:
            log.warning("reversals alike under other TRN03s wait on claim %s: left to a person", claim_id)
        return None

    async def post_waiting_reversal(self, waiting: Any, claim: ClaimRef) -> None:
        """Post, right after the claim payment it takes back, a reversal that came before it; its
        orphan flag and queue rows are resolved once it posts."""
        found = await _stored_claim_payment(
            self.tx, waiting.file_id, waiting.payment_id, waiting.sequence, {}
        )
        if found is None:
            log.warning("the file of waiting reversal %s can no longer be read", waiting.remit_id)
            return
        payment, remit = found
        f = t.remit_file.c
        file = (
            await self.conn.execute(sa.select(f.name, f.received_at).where(f.file_id == waiting.file_id))
        ).one()
        await _resolve_flags(self.tx, waiting.remit_id, ("orphan_reversal",))
        run = _Run.again(self.tx, waiting.file_id, file, cut_lengths=self.cut_lengths, metrics=self.metrics)
        state = await run._post(
            payment,
            waiting.payment_id,
            waiting.remit_id,
            remit,
            waiting.cross_key,
            chosen=claim,
            matched_by=waiting.matched_by,
        )
        self.tx.after_commit(partial(_inc, self.metrics.claim_payments, state))
        if state == "posted":
            self.outcome.count("waiting_reversal_posted")
            u = t.unmatched.c
            await self.conn.execute(
                t.unmatched.update()
                .where(u.remit_id == waiting.remit_id, u.kind == "claim", u.resolved_at.is_(None))
                .values(resolved_at=sa.func.now())
            )
        log.info(
            "reversal %s that came before its claim payment posted after it: %s", waiting.remit_id, state
        )

    async def open_postings(self, claim_id: str) -> list[Posted]:
        """The claim payments posted on ``claim_id`` and not reversed (reversals included)."""
        known = posted_index(self.tx).on_claim(claim_id)
        if known is not None:
            return known
        rows = await self.conn.execute(
            sa.select(
                _cp.remit_id,
                _cp.cross_key,
                _cp.claim_id,
                _cp.status,
                _cp.charge,
                _cp.paid,
                _cp.patient_responsibility,
                _cp.payer_claim_number,
            ).where(_cp.claim_id == claim_id, _cp.state == "posted", _cp.reversed_by.is_(None))
        )
        return [Posted(*r) for r in rows]

    async def paid_before(
        self,
        payment: Payment,
        payment_id: str,
        remit_id: str,
        remit: ClaimRemit,
        claim_id: str,
        line_keys: set[str],
    ) -> Posted | None:
        """An open claim payment of the same payer that already adjudicated ``claim_id`` in the
        same place (primary, secondary, tertiary) and moved money: ``remit`` is then a second
        original payment of the claim. Not when ``payment`` reverses a posting of the claim
        (``remit`` is its correction, 5010 sets no order between the two), nor for another part
        of a split claim (MA15 under another payer claim number, or paying other lines)."""
        status = remit.claim_status
        order = status.payer_order if status is not None else None
        if order is None:
            return None
        prefix = f"{payment.payer_ref}|"
        found: list[Any] = []
        for p in await self.open_postings(claim_id):
            try:
                their = ClaimStatus(p.status)
            except ValueError:
                continue
            if (
                p.remit_id == remit_id
                or not p.cross_key.startswith(prefix)
                or their.payer_order != order
                or (p.paid == ZERO and p.patient_responsibility == ZERO)
                or (not line_keys and _other_part(remit, p))
                or _reversed_in(payment, remit, p)
            ):
                continue
            found.append(p)
        if found and line_keys:
            found = await self.on_same_lines(found, line_keys)
        if found and await self.reversed_further_on(payment, payment_id, remit, claim_id):
            return None
        return found[0] if found else None

    async def give_back_recoupments(
        self, payment: Payment, claim: ClaimRef, totals: ClaimTotals
    ) -> ClaimTotals:
        """A reversal of the payer on ``claim`` has posted: a WO recoupment the payer took from the
        claim before it (a recovery that came before the 835 deferring it, 1.10.2.17) is cash only
        now, a ``recovery`` on the account, and the claim's payment is given it back; the
        correction states what the claim is paid. Returns the claim's totals after."""
        a, p, c = t.provider_adjustment.c, t.payment.c, t.claim.c
        taken = (
            await self.conn.execute(
                sa.select(a.id, a.payment_id, a.sequence, a.amount)
                .join_from(t.provider_adjustment, t.payment, p.payment_id == a.payment_id)
                .where(
                    a.claim_id == claim.claim_id,
                    a.kind == PlbKind.RECOUPMENT.value,
                    a.reason == OVERPAYMENT_RECOVERY,
                    p.payer_ref == payment.payer_ref,
                )
                .order_by(a.id)
                .with_for_update(of=t.provider_adjustment)
            )
        ).all()
        for row in taken:
            await self.conn.execute(
                t.provider_adjustment.update()
                .where(a.id == row.id)
                .values(kind=PlbKind.RECOVERY.value, claim_id=None, named_claim_id=claim.claim_id)
            )
            back = (
                await self.conn.execute(
                    t.claim.update()
                    .where(c.claim_id == claim.claim_id)
                    .values(paid=c.paid + row.amount)
                    .returning(c.paid)
                )
            ).scalar_one()
            totals = replace(totals, paid=back)
            plb_id = _opaque("plbx", row.payment_id, row.sequence)
            self.tx.publish(
                PaymentPosted(
                    posting_id=plb_id,
                    remit_id=plb_id,
                    claim_id=claim.claim_id,
                    patient_id=claim.patient_id,
                    payer_id=claim.payer_id,
                    paid=row.amount,
                    contractual_adjustment=ZERO,
                    patient_responsibility=ZERO,
                    claim_balance=totals.insurance_balance,
                    lines=[],
                    posted_at=self.received_at,
                    denied=ZERO,
                    written_off=ZERO,
                )
            )
            log.info(
                "WO recoupment %s on claim %s is the account's: its reversal came", row.id, claim.claim_id
            )
        return totals

    async def repeated(self, remit_id: str, remit: ClaimRemit, cross_key: str, claim_id: str) -> list[Any]:
        """Claim payments posted before and not reversed that ``remit`` repeats: the same payer
        and key, or, when it pays money, the same claim and amounts under another payer claim
        number (a payer's repeat, not a second adjudication). From the transaction's index of
        open claim payments when it has read them, else from the table."""
        index = posted_index(self.tx)
        moves = remit.paid != ZERO
        if index.covers(cross_key, claim_id if moves else None):
            same = _open(remit_id, remit, cross_key, claim_id) if moves else None
            return index.repeated(remit_id, cross_key, same)
        return list(
            (
                await self.conn.execute(
                    _EARLIER_SAME_AMOUNTS if moves else _EARLIER_SAME_KEY,
                    {
                        "cross_key": cross_key,
                        "remit_id": remit_id,
                        "claim_id": claim_id,
                        "status": remit.status,
                        "charge": remit.charge,
                        "paid": remit.paid,
                        "patient_responsibility": remit.patient_responsibility,
                    },
                )
            ).all()
        )

    async def on_same_lines(self, earlier: list[Any], line_keys: set[str]) -> list[Any]:
        """Of the claim payments ``earlier``, those that paid one of ``line_keys`` (or were posted at
        claim level): a payer that splits a claim (MA15) sends a claim payment per part, and parts
        for other lines of the claim are not repeats of each other, however alike their amounts."""
        if not line_keys:
            return earlier
        if self.tx.memo.pop(_LINES_QUEUED, False):
            await self.tx.flush()  # the posted lines queued so far, so they are read back here
        pl = t.posted_line.c
        keys: dict[str, set[str]] = {}
        for remit_id, line_key in await self.conn.execute(
            sa.select(pl.remit_id, pl.line_key).where(among(pl.remit_id, [e.remit_id for e in earlier]))
        ):
            if line_key is not None:
                keys.setdefault(remit_id, set()).add(line_key)
        return [e for e in earlier if not keys.get(e.remit_id) or keys[e.remit_id] & line_keys]

    async def post_held_correction(
        self, payment: Payment, reversal: ClaimRemit, claim_id: str, reversed_: PostedClaimPayment
    ) -> None:
        """The payer has now reversed ``reversed_``: a claim payment held as its duplicate, the same
        money under another payer claim number, or held as a second payment of the claim without a
        reversal, was its correction (the reversal came in a later 835), and posts now from its
        stored file; its flag is resolved. Not when the reversal's own 835 carries the correction:
        that one posts, the held one stays a repeat (the same money) or held (any money)."""
        control = reversal.patient_control_number.strip().upper()
        corrections = [
            c
            for c in payment.claims
            if c.status != ClaimStatus.REVERSAL and c.patient_control_number.strip().upper() == control
        ]
        kinds = []
        if not any(c.paid == reversed_.paid and abs(c.charge) == abs(reversed_.charge) for c in corrections):
            kinds.append("duplicate_claim_payment")
        if not corrections:
            kinds.append("second_payment_without_reversal")
        if not kinds:
            return
        cp, e = t.claim_payment.c, t.remit_exception.c
        held = (
            await self.conn.execute(
                sa.select(cp.remit_id, cp.payment_id, cp.file_id, cp.sequence, cp.cross_key, e.kind)
                .join(t.remit_exception, e.remit_id == cp.remit_id)
                .where(
                    cp.claim_id == claim_id,
                    cp.state.in_(["duplicate", "held"]),
                    e.kind.in_(kinds),
                    e.resolved_at.is_(None),
                    e.detail["duplicate_of"].astext == reversed_.remit_id,
                    sa.or_(
                        e.kind == "second_payment_without_reversal",
                        sa.func.upper(sa.func.coalesce(cp.payer_claim_number, ""))
                        != (reversed_.payer_claim_number or "").upper(),
                    ),
                )
                .order_by(cp.created_at, cp.sequence)
                .limit(1)
                .with_for_update(of=t.claim_payment)
            )
        ).first()
        if held is None:
            return
        found = await _stored_claim_payment(self.tx, held.file_id, held.payment_id, held.sequence, {})
        if found is None:
            return
        payment, remit = found
        f = t.remit_file.c
        file = (
            await self.conn.execute(sa.select(f.name, f.received_at).where(f.file_id == held.file_id))
        ).one()
        await _resolve_flags(self.tx, held.remit_id, (held.kind,))
        run = _Run.again(self.tx, held.file_id, file, cut_lengths=self.cut_lengths, metrics=self.metrics)
        state = await run._post(payment, held.payment_id, held.remit_id, remit, held.cross_key)
        self.tx.after_commit(partial(_inc, self.metrics.claim_payments, state))
        log.info(
            "claim payment %s held as a repeat posted once its first was reversed: %s",
            held.remit_id,
            state,
        )

    async def check_crossover(
        self, payment_id: str, remit_id: str, claim_id: str, totals: ClaimTotals
    ) -> None:
        """Flag a claim whose payers' postings leave its forwarded amount unexplained.

        Once a prior payer and a later one have both posted on a claim, what the later payers
        adjudicated should equal what was forwarded: less than zero left means they adjudicated
        more than was forwarded (e.g. the prior payer kept the patient's share, not crossing
        over); more than zero after a payer that forwards no further means part of it is nobody's.
        """
        if totals.forwarded == ZERO:
            return
        cp = t.claim_payment.c
        statuses = (
            await self.conn.scalars(
                sa.select(cp.status).where(
                    cp.claim_id == claim_id,
                    cp.state == "posted",
                    cp.reverses.is_(None),
                    cp.reversed_by.is_(None),
                )
            )
        ).all()
        orders: dict[int, set[ClaimStatus]] = {}
        for value in statuses:
            try:
                status = ClaimStatus(value)
            except ValueError:
                continue
            if status.payer_order is not None:
                orders.setdefault(status.payer_order, set()).add(status)
        if len(orders) < 2:
            return
        last = orders[max(orders)]
        ended = any(not s.forwarded for s in last)
        if totals.forwarded < ZERO or ended:
            await self.flag(
                "crossover_mismatch",
                "the later payers' adjudication does not match what the prior payer forwarded",
                payment_id=payment_id,
                remit_id=remit_id,
                detail={"claim_id": claim_id, "forwarded": str(totals.forwarded)},
            )

    # ------------------------------------------------------------------ lookups
    async def resolve_payer(self, payment: Payment) -> str | None:
        """Our payer, when the 835's payer identifiers name exactly one (``domain.payers``)."""
        if not payment.payer_keys:
            return None
        found = await self.conn.execute(
            sa.select(t.payer.c.payer_id).where(
                t.payer.c.identifiers.overlap(list(payment.payer_keys)), t.payer.c.deleted.is_(False)
            )
        )
        return resolve_payer(r[0] for r in found)

    async def payer_of(self, payment_id: str) -> str | None:
        if payment_id not in self.payers:
            self.payers[payment_id] = await self.conn.scalar(
                sa.select(t.payment.c.payer_id).where(t.payment.c.payment_id == payment_id)
            )
        return self.payers[payment_id]

    async def candidates(self, remit: ClaimRemit, payer_id: str | None = None) -> list[ClaimRef]:
        index = claim_index(self.tx)
        await index.load(self.conn, [remit], self.cut_lengths)
        ids = index.lookup(remit, self.cut_lengths)
        if not ids:  # the fuzzy fallback: same charge (and payer, when known); the domain checks
            # dates and only proposes
            c = t.claim.c
            same_charge = sa.select(c.claim_id).where(c.total_charge == abs(remit.charge))
            if payer_id is not None:
                same_charge = same_charge.where(c.payer_id == payer_id)
            ids = [r[0] for r in await self.conn.execute(same_charge.limit(20))]
        return await index.claims(self.conn, ids)

    async def claims(self, ids: Sequence[str]) -> list[ClaimRef]:
        return await claim_index(self.tx).claims(self.conn, ids)

    async def lines_paid(self, claim: ClaimRef) -> set[str]:
        """The lines of ``claim`` that claim payments posted and not reversed paid (or adjusted)."""
        if len(claim.lines) < 2:
            return set()
        return {
            line.line_key
            for posted in await self.posted_for(claim.claim_id)
            if not posted.reversed
            for line in posted.posting.lines
            if line.line_key is not None
        }

    async def posted_for(self, claim_id: str) -> list[PostedClaimPayment]:
        """What was posted to the claim and not itself a reversal, first posted first."""
        if self.tx.memo.pop(_LINES_QUEUED, False):
            await self.tx.flush()  # the posted lines queued so far, so they are read back here
        rows = (await self.conn.execute(_POSTED_FOR, {"claim_id": claim_id})).all()
        if not rows:
            return []
        lines = (await self.conn.execute(_POSTED_LINES, {"remit_ids": [r.remit_id for r in rows]})).all()
        adjustments: dict[int, list[Adjustment]] = {}
        if lines:
            for a in await self.conn.execute(_POSTED_ADJUSTMENTS, {"line_ids": [ln.id for ln in lines]}):
                adjustments.setdefault(a.posted_line_id, []).append(
                    Adjustment(a.group_code, a.carc, a.amount, a.quantity)
                )
        by_remit: dict[str, list[LinePosting]] = {}
        for ln in lines:
            by_remit.setdefault(ln.remit_id, []).append(
                LinePosting(
                    line_key=ln.line_key,
                    charge=ln.charge,
                    paid=ln.paid,
                    allowed=ln.allowed,
                    contractual=ln.contractual,
                    denied=ln.denied,
                    patient_responsibility=ln.patient_responsibility,
                    forwarded=ln.forwarded,
                    other=ln.other,
                    adjustments=tuple(adjustments.get(ln.id, ())),
                    rarcs=tuple(ln.rarcs),
                    procedure_code=ln.procedure_code,
                )
            )
        return [
            PostedClaimPayment(
                remit_id=r.remit_id,
                payment_id=r.payment_id,
                claim_id=claim_id,
                payer_claim_number=r.payer_claim_number,
                charge=r.charge,
                paid=r.paid,
                posting=ClaimPosting(claim_id, r.status, tuple(by_remit.get(r.remit_id, ()))),
                reversed=r.reversed_by is not None,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ writes
    async def write_posting(
        self,
        remit_id: str,
        posting: ClaimPosting,
        state: str,
        match: ClaimMatch,
        *,
        reverses: str | None = None,
    ) -> tuple[ClaimTotals, tuple[Decimal, Decimal] | None, bool]:
        """Write a claim payment's posting: its lines and adjustments (queued with the
        transaction's inserts), its outcome, the claim's totals and, when the posting moves what
        the patient owes, the patient's balance, in one statement. Returns the claim's totals,
        the patient's (previous, new) balance when it changed, and whether a write-off of the
        claim's denials waits for an adjudication (``write_offs``)."""
        ids = await line_ids(self.tx).take(self.conn, len(posting.lines), ahead=self.line_hint)
        for line_id, line in zip(ids, posting.lines, strict=True):
            self.tx.insert_later(
                t.posted_line,
                {
                    "id": line_id,
                    "remit_id": remit_id,
                    "claim_id": posting.claim_id,
                    "line_key": line.line_key,
                    "procedure_code": line.procedure_code,
                    "charge": line.charge,
                    "paid": line.paid,
                    "allowed": line.allowed,
                    "contractual": line.contractual,
                    "denied": line.denied,
                    "patient_responsibility": line.patient_responsibility,
                    "forwarded": line.forwarded,
                    "other": line.other,
                    "rarcs": list(line.rarcs),
                },
            )
            for a in line.adjustments:
                self.tx.insert_later(
                    t.posted_adjustment,
                    {
                        "posted_line_id": line_id,
                        "group_code": a.group,
                        "carc": a.carc,
                        "amount": a.amount,
                        "quantity": a.quantity,
                    },
                )
        if posting.lines:
            self.tx.memo[_LINES_QUEUED] = True
        owed = posting.patient_responsibility if posting.lines else ZERO
        assert match.claim is not None
        row = (
            await self.conn.execute(
                _SETTLE,
                {
                    "remit_id": remit_id,
                    "state": state,
                    "claim_id": posting.claim_id,
                    "matched_by": match.matched_by,
                    "reverses": reverses,
                    "patient_id": match.claim.patient_id,
                    "owed": owed,
                    "paid": posting.paid,
                    "contractual": posting.contractual,
                    "denied": posting.denied,
                    "patient_responsibility": posting.patient_responsibility,
                    "forwarded": posting.forwarded,
                    "other": posting.other,
                    "interest": posting.interest,
                },
            )
        ).one()
        totals = totals_of(row)
        waiting = state == "posted" and bool(row.write_offs_waiting)
        if owed == ZERO:
            return totals, None, waiting
        return totals, (row.patient_balance - owed, row.patient_balance), waiting

    async def queue_unmatched(
        self,
        payment: Payment,
        payment_id: str,
        remit_id: str,
        remit: ClaimRemit,
        reason: str,
        candidates: Sequence[str],
    ) -> None:
        await self.conn.execute(
            t.unmatched.insert().values(
                kind="claim",
                remit_id=remit_id,
                payment_id=payment_id,
                payer_ref=payment.payer_ref,
                patient_control_number=remit.patient_control_number,
                payer_claim_number=remit.payer_claim_number,
                charge=remit.charge,
                paid=remit.paid,
                reason=reason,
                candidates=list(candidates),
            )
        )
        event_reason = reason if reason in ("no_claim", "ambiguous", "charge_mismatch") else "no_claim"
        self.tx.publish(
            RemitUnmatched(
                remit_id=remit_id,
                payer_id=await self.payer_of(payment_id) or _safe_id(payment.payer_ref),
                patient_control_number=remit.patient_control_number[:38],
                payer_claim_number=(remit.payer_claim_number or None) and remit.payer_claim_number[:50],
                charge=remit.charge,
                paid=remit.paid,
                reason=event_reason,
                file_name=self.file_name,
                received_at=self.received_at,
            )
        )

    async def queue_unmatched_line(
        self, payment: Payment, payment_id: str, remit_id: str, remit: ClaimRemit, claim_id: str, index: int
    ) -> None:
        service = remit.services[index]
        await self.conn.execute(
            t.unmatched.insert().values(
                kind="line",
                remit_id=remit_id,
                payment_id=payment_id,
                payer_ref=payment.payer_ref,
                patient_control_number=remit.patient_control_number,
                payer_claim_number=remit.payer_claim_number,
                claim_id=claim_id,
                line_number=index + 1,
                procedure_code=service.procedure_code,
                charge=service.charge,
                paid=service.paid,
                reason="no_line",
                candidates=[],
            )
        )

    # ------------------------------------------------------------------ PLB
    async def apply_plb(self, payment: Payment, payment_id: str) -> None:
        """Record the payment's PLB amounts and apply them (``domain.provider_adjustments``), each
        once: a payment posted again (a regenerated 835) records only the amounts it had not."""
        if not payment.provider_adjustments:
            return
        a = t.provider_adjustment.c
        recorded = (
            await self.conn.execute(
                sa.select(a.reason, a.reference, a.amount, a.sequence).where(a.payment_id == payment_id)
            )
        ).all()
        left = Tally((r.reason, r.reference or "", r.amount) for r in recorded)
        new: list[ProviderAdjustment] = []
        for adj in payment.provider_adjustments:
            seen = (adj.reason, adj.reference or "", adj.amount)
            if left[seen] > 0:
                left[seen] -= 1
                continue
            new.append(adj)
        if not new:
            return
        first = max((r.sequence for r in recorded), default=0) + 1
        deferrals = await self.deferrals(payment, new)
        tokens = {
            tok.upper()
            for reference in [
                *(p.reference for p in new),
                *(d.reference for d in deferrals if not d.named_claim_id),
            ]
            for tok in reference_tokens(reference)
        }
        by_reference = await self.claims_by_reference(tokens)
        deferred: dict[str, Decimal] = {}
        for d in deferrals:
            key = deferral_identity(d.reference, d.named_claim_id or named_claim(d.reference, by_reference))
            if key:
                deferred[key] = deferred.get(key, ZERO) - d.amount
        for sequence, applied in enumerate(apply_provider_adjustments(new, by_reference, deferred), first):
            adj = applied.adjustment
            claim_id = applied.claim_id
            c = t.claim.c
            overdrawn: Decimal | None = None
            if applied.kind is PlbKind.RECOUPMENT and claim_id is not None:
                paid_now = await self.conn.scalar(
                    sa.select(c.paid).where(c.claim_id == claim_id).with_for_update()
                )
                if paid_now is not None and paid_now - adj.amount < ZERO:
                    overdrawn, claim_id = paid_now, None  # stays on the account, flagged below
            inserted = (
                await self.conn.execute(
                    pg_insert(t.provider_adjustment)
                    .values(
                        payment_id=payment_id,
                        sequence=sequence,
                        provider_id=adj.provider_id,
                        reason=adj.reason,
                        reference=adj.reference,
                        amount=adj.amount,
                        kind=applied.kind,
                        claim_id=claim_id,
                        named_claim_id=applied.named_claim_id,
                    )
                    .on_conflict_do_nothing(constraint="provider_adjustment_once")
                    .returning(t.provider_adjustment.c.id)
                )
            ).scalar_one_or_none()
            if inserted is None:
                continue
            if overdrawn is not None:
                await self.flag(
                    "recoupment_exceeds_claim_payment",
                    f"PLB {adj.reason} {adj.amount} takes back from claim {applied.named_claim_id} more than "
                    f"its payments ({overdrawn}): not taken from the claim, it is on the account for a "
                    "person to place (the reversal and correction it recovers may not have come yet)",
                    payment_id=payment_id,
                    detail={
                        "claim_id": applied.named_claim_id,
                        "claim_paid": str(overdrawn),
                        "amount": str(adj.amount),
                        "sequence": sequence,
                    },
                )
                continue
            if claim_id is None:
                continue
            if applied.kind is PlbKind.RECOUPMENT:
                row = (
                    await self.conn.execute(
                        t.claim.update()
                        .where(c.claim_id == claim_id)
                        .values(paid=c.paid - adj.amount)
                        .returning(
                            c.patient_id,
                            c.payer_id,
                            c.total_charge,
                            c.paid,
                            c.contractual,
                            c.denied,
                            c.patient_responsibility,
                            c.forwarded,
                            c.other,
                            c.written_off,
                        )
                    )
                ).one()
                totals = totals_of(row)
                plb_id = _opaque("plb", payment_id, sequence)
                self.tx.publish(
                    PaymentPosted(
                        posting_id=plb_id,
                        remit_id=plb_id,
                        claim_id=claim_id,
                        patient_id=row.patient_id,
                        payer_id=row.payer_id,
                        paid=-adj.amount,
                        contractual_adjustment=ZERO,
                        patient_responsibility=ZERO,
                        claim_balance=totals.insurance_balance,
                        lines=[],
                        posted_at=self.received_at,
                        denied=ZERO,
                        written_off=ZERO,
                    )
                )
            elif applied.kind is PlbKind.INTEREST:
                # PLB interest is negative when paid to the provider; the claim ledger keeps it positive.
                await self.conn.execute(
                    t.claim.update().where(c.claim_id == claim_id).values(interest=c.interest - adj.amount)
                )

    async def claims_by_reference(self, tokens: set[str]) -> dict[str, str]:
        """Our claims by the upper-cased payer claim numbers and control numbers in ``tokens``."""
        by_reference: dict[str, str] = {}
        if not tokens:
            return by_reference
        for number_key, claim_id in await self.conn.execute(
            sa.select(t.payer_claim_number.c.number_key, t.payer_claim_number.c.claim_id).where(
                among(t.payer_claim_number.c.number_key, tokens)
            )
        ):
            by_reference.setdefault(number_key, claim_id)
        for claim_key, claim_id in await self.conn.execute(
            sa.select(t.claim.c.claim_key, t.claim.c.claim_id).where(among(t.claim.c.claim_key, tokens))
        ):
            by_reference.setdefault(claim_key, claim_id)
        return by_reference

    async def deferrals(self, payment: Payment, adjustments: Sequence[ProviderAdjustment]) -> list[Any]:
        """The payer's recorded deferrals (negative WO) and the recoveries that took them, when
        ``adjustments`` hold a positive WO that may take one (``domain.provider_adjustments``)."""
        if not any(p.reason == OVERPAYMENT_RECOVERY and p.amount > ZERO and p.reference for p in adjustments):
            return []
        a, p = t.provider_adjustment.c, t.payment.c
        return list(
            (
                await self.conn.execute(
                    sa.select(a.reference, a.amount, a.named_claim_id)
                    .join_from(t.provider_adjustment, t.payment, p.payment_id == a.payment_id)
                    .where(
                        a.reason == OVERPAYMENT_RECOVERY,
                        a.kind.in_([PlbKind.DEFERRAL.value, PlbKind.RECOVERY.value]),
                        p.payer_ref == payment.payer_ref,
                    )
                )
            ).all()
        )

    # ------------------------------------------------------------------ events
    async def publish(
        self,
        payment: Payment,
        remit_id: str,
        remit: ClaimRemit,
        claim: ClaimRef,
        line_keys: Sequence[str | None],
        posting: ClaimPosting,
        totals: ClaimTotals,
        balance_change: tuple[Decimal, Decimal] | None,
    ) -> None:
        """``line_keys``: the claim line each service line matched (empty for a reversal, whose
        lines name the line by their REF*6R only)."""
        keys = iter(line_keys)
        lines = []
        for service in remit.services:
            key = next(keys, None) or service.line_key
            line = _remit_line(service, key)
            if line is not None:
                lines.append(line)
        self.tx.publish(
            RemitReceived(
                remit_id=remit_id,
                claim_id=claim.claim_id,
                patient_id=claim.patient_id,
                payer_id=claim.payer_id,
                payer_claim_number=(remit.payer_claim_number or remit.patient_control_number)[:50],
                status=remit.status,
                charge=remit.charge,
                paid=remit.paid,
                patient_responsibility=remit.patient_responsibility,
                claim_adjustments=_event_adjustments(remit.adjustments),
                lines=lines,
                rarcs=[r for r in remit.rarcs if _valid_rarc(r)],
                outpatient=_outpatient(remit),
                crossover_payer_name=(remit.crossover_payer_name or None) and remit.crossover_payer_name[:60],
                payment_trace_number=payment.trace_number[:50],
                payment_date=payment.payment_date or self.received_at.date(),
                file_name=self.file_name,
                received_at=self.received_at,
            )
        )
        if not posting.lines:
            return
        self.tx.publish(
            PaymentPosted(
                posting_id=_opaque("pst", remit_id),
                remit_id=remit_id,
                claim_id=claim.claim_id,
                patient_id=claim.patient_id,
                payer_id=claim.payer_id,
                paid=posting.paid,
                contractual_adjustment=posting.contractual,
                patient_responsibility=posting.patient_responsibility,
                claim_balance=totals.insurance_balance,
                lines=[
                    PostedLine(
                        line_key=line.line_key,
                        paid=line.paid,
                        contractual_adjustment=line.contractual,
                        patient_responsibility=line.patient_responsibility,
                    )
                    for line in posting.lines
                    if line.line_key is not None
                ],
                posted_at=self.received_at,
                denied=posting.denied,
                written_off=_written_off_change(posting, totals),
            )
        )
        if balance_change is not None:  # written with the posting (``write_posting``)
            previous, balance = balance_change
            self.tx.publish(
                PatientBalanceChanged(
                    patient_id=claim.patient_id,
                    claim_id=claim.claim_id,
                    previous_balance=previous,
                    balance=balance,
                    change=balance - previous,
                    reason=BalanceChangeReason.REMIT_POSTED,
                    source_id=remit_id,
                    changed_at=self.received_at,
                )
            )


def _written_off_change(posting: ClaimPosting, totals: ClaimTotals) -> Decimal:
    """How much more (or, negative, less) of the claim's denied amount its write-offs close after
    ``posting`` than before it (``ClaimTotals.denied_written_off``): a reversal takes back the
    denied amount a write-off closed, the corrected payment gives it its denied amount to close."""
    before = replace(totals, denied=totals.denied - posting.denied)
    return totals.denied_written_off - before.denied_written_off


def _open(remit_id: str, remit: ClaimRemit, cross_key: str, claim_id: str) -> Posted:
    """``remit`` as an open claim payment on ``claim_id`` (``lookups.PostedIndex``)."""
    return Posted(
        remit_id=remit_id,
        cross_key=cross_key,
        claim_id=claim_id,
        status=remit.status,
        charge=remit.charge,
        paid=remit.paid,
        patient_responsibility=remit.patient_responsibility,
        payer_claim_number=remit.payer_claim_number,
    )


def _other_part(remit: ClaimRemit, earlier: Any) -> bool:
    """Whether ``remit`` is another part of a claim the payer split (MA15) than ``earlier``: each
    part comes under a payer claim number of its own."""
    if SPLIT_CLAIM_RARC not in remit.rarcs:
        return False
    return (remit.payer_claim_number or "").strip().upper() != (
        earlier.payer_claim_number or ""
    ).strip().upper()


async def _resolve_flags(tx: Transaction, remit_id: str, kinds: Sequence[str]) -> None:
    """Resolve the open exceptions of ``kinds`` of a claim payment (it is posted, or posting it
    again flags it anew)."""
    e = t.remit_exception.c
    await tx.conn.execute(
        t.remit_exception.update()
        .where(e.remit_id == remit_id, e.kind.in_(list(kinds)), e.resolved_at.is_(None))
        .values(resolved_at=sa.func.now())
    )


def _reversed_in(payment: Payment, remit: ClaimRemit, earlier: Any) -> bool:
    """Whether ``payment`` also carries the reversal (CLP02 22) of the ``earlier`` posting that
    ``remit`` repeats: the same claim (its CLP07, or ``remit``'s CLP01), the paid amount negated."""
    number = (earlier.payer_claim_number or "").upper()
    control = remit.patient_control_number.strip().upper()

    def same_claim(c: ClaimRemit) -> bool:
        theirs = (c.payer_claim_number or "").upper()
        if number and theirs:
            return theirs == number
        return c.patient_control_number.strip().upper() == control

    return any(
        c.status == ClaimStatus.REVERSAL
        and c.paid == -earlier.paid
        and abs(c.charge) == abs(earlier.charge)
        and same_claim(c)
        for c in payment.claims
    )


_GROUPS = {"CO", "PR", "OA", "PI", "CR"}
_PRIMARY = (ClaimStatus.PRIMARY, ClaimStatus.PRIMARY_FORWARDED)
_PRIMARY_CODES = frozenset(s.value for s in _PRIMARY)
"""Statuses that pay a claim first (a later payer's posting on a crossover claim changes the
balance only by what it denies, ``domain.posting``)."""


def _valid_rarc(code: str) -> bool:
    return re.fullmatch(r"[A-Z]{1,2}[0-9]{1,4}", code) is not None


def _outpatient(remit: ClaimRemit) -> OutpatientAdjudication | None:
    """The claim's MOA for the event (its valid remark codes, as ``rarcs``); none when the payer
    sent none, or a value the event contract cannot carry (logged, the rest is published)."""
    moa = remit.outpatient
    if moa is None:
        return None
    try:
        return OutpatientAdjudication(
            reimbursement_rate=moa.reimbursement_rate,
            hcpcs_payable=moa.hcpcs_payable,
            remark_codes=[r for r in moa.remark_codes if _valid_rarc(r)][:5],
            esrd_payment=moa.esrd_payment,
            nonpayable_professional=moa.nonpayable_professional,
        )
    except ValidationError:
        log.warning("a claim's MOA does not fit the event contract and is left out of the event")
        return None


def _event_adjustments(adjustments: Sequence[Adjustment]) -> list[EventAdjustment]:
    out = []
    for a in adjustments:
        if a.group not in _GROUPS:
            continue
        quantity = int(a.quantity) if a.quantity is not None and a.quantity == int(a.quantity) else None
        try:
            out.append(EventAdjustment(group=a.group, carc=a.carc, amount=a.amount, quantity=quantity))
        except ValidationError:
            log.warning("an adjustment does not fit the event contract and is left out of the event")
    return out


def _remit_line(service: Any, line_key: str | None) -> RemitLine | None:
    try:
        return RemitLine(
            line_key=line_key,
            procedure_code=service.procedure_code,
            modifiers=list(service.modifiers)[:4],
            service_date=service.service_date,
            charge=service.charge,
            paid=service.paid,
            allowed=service.allowed,
            units_paid=int(service.units)
            if service.units is not None and service.units == int(service.units)
            else None,
            adjustments=_event_adjustments(service.adjustments),
            rarcs=[r for r in service.rarcs if _valid_rarc(r)],
        )
    except ValidationError:
        # e.g. a revenue code or NDC in SVC01: posted, but not expressible as a RemitLine
        log.warning("a service line does not fit the remit-received contract and is left out of the event")
        return None


async def post_remit_file(
    tx: Transaction,
    content: bytes,
    *,
    name: str,
    source: str,
    metrics: RemitMetrics,
    received_at: datetime | None = None,
    cut_lengths: Sequence[int] = DEFAULT_CUT_LENGTHS,
    payee_ids: Sequence[str] = (),
) -> FileOutcome:
    """Record and post one 835 file in the transaction ``tx``; identical content is skipped.

    ``payee_ids``: the NPIs and tax ids the practice is paid under; a payment to another payee
    is held (``other_payee``). Empty: not checked."""
    received_at = received_at or datetime.now(UTC)
    sha = hashlib.sha256(content).hexdigest()
    file_id = f"file-{sha[:24]}"
    inserted = (
        await tx.conn.execute(
            pg_insert(t.remit_file)
            .values(
                file_id=file_id,
                name=name,
                sha256=sha,
                size=len(content),
                source=source,
                status="received",
                content=content,
                received_at=received_at,
            )
            .on_conflict_do_nothing(index_elements=[t.remit_file.c.sha256])
            .returning(t.remit_file.c.file_id)
        )
    ).scalar_one_or_none()
    outcome = FileOutcome(file_id=file_id)
    if inserted is None:
        outcome.duplicate_file = True
        tx.after_commit(partial(_inc, metrics.files, "duplicate"))
        log.info("835 file %s skipped: same content already received", file_id)
        return outcome

    parsed = read_remit_file(content)
    run = _Run(
        tx,
        file_id=file_id,
        file_name=name,
        received_at=received_at,
        cut_lengths=cut_lengths,
        metrics=metrics,
        outcome=outcome,
        payee_ids=payee_ids,
    )
    # a set is named by its interchange's ISA13 and its ST02 (interchanges of one file often all
    # number their sets from 0001); a problem whose interchange is unknown holds that ST02 in any
    broken_sets = {
        (p.interchange or "", p.control_number)
        for p in parsed.problems
        if p.kind in ("invalid_claim", "invalid_segment", "invalid_amount", "truncated_set")
    }
    for problem in parsed.problems:
        await run.flag(
            problem.kind,
            problem.message,
            detail={
                "interchange": problem.interchange,
                "set": problem.control_number,
                "claim": problem.claim_sequence,
            },
        )
    for p in parsed.payments:
        broken = (p.interchange, p.control_number) in broken_sets or ("", p.control_number) in broken_sets
        await run.post_payment(p, incomplete=broken)
    status = "flagged" if outcome.exceptions else "posted"
    await tx.conn.execute(
        t.remit_file.update().where(t.remit_file.c.file_id == file_id).values(status=status)
    )
    tx.after_commit(partial(_inc, metrics.files, status))
    log.info("835 file %s: %s payments, %s", file_id, outcome.payments, outcome.states)
    return outcome


async def rematch_waiting(
    tx: Transaction,
    *,
    metrics: RemitMetrics,
    cut_lengths: Sequence[int] = DEFAULT_CUT_LENGTHS,
    limit: int = 200,
) -> int:
    """Post queued claim payments whose claim, by control number, has become known since.

    An 835 can arrive before this service has read the claim it pays (a consumer behind after
    a restart, a claim created while the file was on its way). Those claim payments wait in the
    unmatched queue (as no claim, or as ambiguous between claims of the same charge); once a
    claim with their patient control number exists, they are posted
    from the stored file, exactly as they would have been on arrival, and the queue row is
    resolved. So is a reversal that waits for the claim payment it takes back (``orphan_reversal``)
    once its claim holds an open posting it takes back by the rule the original's posting pairs
    them by (``_takes_back_on_file``: the same TRN03, or the same payer, CLP07 and CLP01 under
    another, alone; the original posting takes it right after itself, this finds one that did not).
    Returns how many were posted.

    The batch's queue rows and claim payments are locked (skipping those another matcher or a
    person's placement holds), the claims they can name are read (and locked) in one query, and
    so are the open postings they are compared with. A claim payment's claim committed while its
    835 was being posted is found here once that 835 has committed, never before: the queue row
    is not visible until then, so it is posted once, by whichever transaction saw both.
    """
    u, c = t.unmatched.c, t.claim.c
    pcn = sa.func.upper(sa.func.btrim(u.patient_control_number))
    known = sa.or_(
        c.claim_key == pcn,
        *(
            sa.and_(sa.func.length(pcn) == n, sa.func.left(c.claim_key, n) == pcn)
            for n in sorted(set(cut_lengths))
        ),
    )
    cp, f = t.claim_payment.c, t.remit_file.c
    takes_back = _takes_back_on_file()
    waiting = (
        await tx.conn.execute(
            sa.select(
                u.id,
                cp.remit_id,
                cp.payment_id,
                cp.file_id,
                cp.sequence,
                cp.cross_key,
                cp.state,
                cp.claim_id,
                cp.matched_by,
                f.name,
                f.received_at,
            )
            .join_from(t.unmatched, t.claim_payment, cp.remit_id == u.remit_id)
            .join(t.remit_file, f.file_id == cp.file_id)
            .join(t.payment, t.payment.c.payment_id == cp.payment_id)
            .where(
                u.kind == "claim",
                u.resolved_at.is_(None),
                sa.or_(
                    sa.and_(cp.state == "unmatched", sa.exists().where(known)),
                    sa.and_(cp.state == "orphan_reversal", takes_back),
                ),
            )
            .order_by(u.id)
            .limit(limit)
            .with_for_update(of=(t.unmatched, t.claim_payment), skip_locked=True)
        )
    ).all()
    files: dict[str, RemitFile | None] = {}
    found: list[tuple[Any, Payment, ClaimRemit]] = []
    seen: set[str] = set()
    for row in waiting:
        if row.remit_id in seen:  # queued twice: posted once
            continue
        seen.add(row.remit_id)
        stored = await _stored_claim_payment(tx, row.file_id, row.payment_id, row.sequence, files)
        if stored is not None:
            found.append((row, *stored))
    if not found:
        return 0
    index = claim_index(tx)
    await index.load(tx.conn, [remit for _, _, remit in found], cut_lengths)
    await posted_index(tx).load(
        tx.conn,
        [row.cross_key for row, _, _ in found],
        {i for _, _, remit in found for i in index.lookup(remit, cut_lengths)},
    )
    payers: dict[str, str | None] = {
        r.payment_id: r.payer_id
        for r in await tx.conn.execute(
            sa.select(t.payment.c.payment_id, t.payment.c.payer_id).where(
                among(t.payment.c.payment_id, {row.payment_id for row, _, _ in found})
            )
        )
    }
    queued_before = await tx.conn.scalar(sa.select(sa.func.max(u.id)))
    posted = 0
    for row, payment, remit in found:
        run = _Run.again(tx, row.file_id, row, cut_lengths=cut_lengths, metrics=metrics)
        run.payers = payers
        run.line_hint = sum(max(len(r.services), 1) for _, _, r in found)
        if row.state == "orphan_reversal":  # on the claim it was matched or placed on before
            chosen = await run.claims([row.claim_id])
            if not chosen:
                continue
            await _resolve_flags(tx, row.remit_id, ("orphan_reversal",))
            state = await run._post(
                payment,
                row.payment_id,
                row.remit_id,
                remit,
                row.cross_key,
                chosen=chosen[0],
                matched_by=row.matched_by,
            )
        else:
            candidates = await run.candidates(remit, payers.get(row.payment_id))
            if match_claim(remit, candidates, cut_lengths=cut_lengths).claim is None:
                continue  # still ambiguous or not this claim: it stays in the queue for a person
            state = await run._post(payment, row.payment_id, row.remit_id, remit, row.cross_key)
        tx.after_commit(partial(_inc, metrics.claim_payments, state))
        # the rows it waited in; a row its posting queued (an orphan reversal) stays, with its reason
        await tx.conn.execute(
            t.unmatched.update()
            .where(
                u.remit_id == row.remit_id,
                u.kind == "claim",
                u.resolved_at.is_(None),
                u.id <= queued_before,
            )
            .values(resolved_at=sa.func.now())
        )
        posted += 1
    if posted:
        log.info("%s waiting claim payments matched to claims that arrived after their 835", posted)
    return posted


def _takes_back_on_file() -> sa.ColumnElement[bool]:
    """Whether the orphan reversal (``claim_payment`` of the ``payment`` joined) has on its claim
    an open posting it takes back, as ``_Run.waiting_reversal`` pairs them: its amounts negated,
    and the payer's own (the same TRN03), or, under another TRN03, the same payer's (both payments
    name our same payer) with the same CLP07 and CLP01 and every amount negated, when no other
    reversal alike waits on the claim (which one takes it back is then a person's call)."""
    cp, w = t.claim_payment.c, t.payment.c
    original, paid_by = t.claim_payment.alias("original"), t.payment.alias("original_payment")
    o, op = original.c, paid_by.c
    x = t.claim_payment.alias("other_orphan").c
    icn, pcn = (
        sa.func.upper(sa.func.btrim(cp.payer_claim_number)),
        sa.func.upper(sa.func.btrim(cp.patient_control_number)),
    )
    alone = ~sa.exists().where(
        x.claim_id == cp.claim_id,
        x.remit_id != cp.remit_id,
        x.state == "orphan_reversal",
        x.paid == cp.paid,
        x.charge == cp.charge,
        sa.func.upper(sa.func.btrim(x.payer_claim_number)) == icn,
    )
    same_payer = sa.and_(
        op.payer_id.is_not(None),
        op.payer_id == w.payer_id,
        sa.func.coalesce(icn, "") != "",
        sa.func.upper(sa.func.btrim(o.payer_claim_number)) == icn,
        sa.func.upper(sa.func.btrim(o.patient_control_number)) == pcn,
        o.patient_responsibility == -cp.patient_responsibility,
        alone,
    )
    return sa.exists().where(
        o.claim_id == cp.claim_id,
        o.state == "posted",
        o.status != ClaimStatus.REVERSAL.value,
        o.reversed_by.is_(None),
        o.paid == -cp.paid,
        sa.func.abs(o.charge) == sa.func.abs(cp.charge),
        op.payment_id == o.payment_id,
        sa.or_(op.payer_ref == w.payer_ref, same_payer),
    )


async def _locked(run: _Run, claim_id: str) -> list[ClaimRef]:
    """The claim a person posts to, locked as an 835's posting locks the claims it names
    (``lookups.claims_named``): what another transaction commits on it meanwhile (a write-off of its
    denial recorded as waiting, ``write_offs``) is seen by the posting's statements."""
    await run.conn.execute(
        sa.select(t.claim.c.claim_id).where(t.claim.c.claim_id == claim_id).with_for_update()
    )
    claims = await run.claims([claim_id])
    if not claims:
        raise ReviewError(f"no claim {claim_id}")
    return claims


async def _stored_claim_payment(
    tx: Transaction, file_id: str, payment_id: str, sequence: int, files: dict[str, RemitFile | None]
) -> tuple[Payment, ClaimRemit] | None:
    """A claim payment read again from its stored file (``files`` caches the files read)."""
    if file_id not in files:
        content = await tx.conn.scalar(
            sa.select(t.remit_file.c.content).where(t.remit_file.c.file_id == file_id)
        )
        files[file_id] = read_remit_file(content) if content is not None else None
    parsed = files[file_id]
    if parsed is None:
        return None
    payment = _find_payment(parsed.payments, payment_id)
    if payment is None:
        return None
    return next(((payment, r) for r in payment.claims if r.sequence == sequence), None)


_WAITING = ("unmatched", "orphan_reversal")
"""Claim payments a person may place on a claim: unmatched ones, and reversals with nothing to
take back on the claim they matched (the original may be on another claim)."""


class ReviewError(ValueError):
    """A person's placement of a queued claim payment that cannot be done; the message says why."""


RELEASABLE = ("duplicate_claim_payment", "second_payment_without_reversal")
"""The holds a person may release: a claim payment taken for a repeat of one posted before, or for
a second payment of a claim the payer did not reverse, that the payer confirms is neither (a
separate payment of the claim)."""


async def _claim_payment_for_review(tx: Transaction, remit_id: str) -> Any:
    """The claim payment a person acts on, with its file's name and arrival, locked; raises
    ``ReviewError`` when there is none."""
    cp, f = t.claim_payment.c, t.remit_file.c
    row = (
        await tx.conn.execute(
            sa.select(
                cp.remit_id,
                cp.payment_id,
                cp.file_id,
                cp.sequence,
                cp.cross_key,
                cp.state,
                cp.claim_id,
                f.name,
                f.received_at,
            )
            .join(t.remit_file, f.file_id == cp.file_id)
            .where(cp.remit_id == remit_id)
            .with_for_update(of=t.claim_payment)
        )
    ).first()
    if row is None:
        raise ReviewError(f"no claim payment {remit_id}")
    return row


async def _stored_for_review(tx: Transaction, row: Any) -> tuple[Payment, ClaimRemit]:
    """The payment and claim payment ``row`` was read from, from its stored 835; raises
    ``ReviewError`` when the file can no longer be read."""
    found = await _stored_claim_payment(tx, row.file_id, row.payment_id, row.sequence, {})
    if found is None:
        raise ReviewError(f"the file of claim payment {row.remit_id} can no longer be read")
    return found


async def release_held(
    tx: Transaction,
    remit_id: str,
    *,
    metrics: RemitMetrics,
    cut_lengths: Sequence[int] = DEFAULT_CUT_LENGTHS,
) -> str:
    """Post a claim payment held as a repeat or as a second payment without a reversal, once a
    person confirmed with the payer that it is a payment of its own: it posts to the claim it was
    matched to as any claim payment does (every other check still applies), and its flag is
    resolved. Returns the state it ended in; raises ``ReviewError`` when it is not held for one of
    ``RELEASABLE``."""
    e = t.remit_exception.c
    row = await _claim_payment_for_review(tx, remit_id)
    flags = (
        await tx.conn.scalars(
            sa.select(e.kind).where(e.remit_id == remit_id, e.kind.in_(RELEASABLE), e.resolved_at.is_(None))
        )
    ).all()
    if row.state not in ("duplicate", "held") or not flags or row.claim_id is None:
        raise ReviewError(
            f"claim payment {remit_id} is {row.state}, not held as a repeat or a second payment"
        )
    payment, remit = await _stored_for_review(tx, row)
    run = _Run.again(tx, row.file_id, row, cut_lengths=cut_lengths, metrics=metrics)
    claims = await _locked(run, row.claim_id)
    await _resolve_flags(tx, remit_id, tuple(flags))
    state = await run._post(
        payment, row.payment_id, remit_id, remit, row.cross_key, chosen=claims[0], released=True
    )
    tx.after_commit(partial(_inc, metrics.claim_payments, state))
    log.info("claim payment %s released by a person: %s", remit_id, state)
    return state


async def assign_unmatched(
    tx: Transaction,
    remit_id: str,
    claim_id: str,
    *,
    metrics: RemitMetrics,
    cut_lengths: Sequence[int] = DEFAULT_CUT_LENGTHS,
) -> str:
    """Post a claim payment waiting in the unmatched queue to the claim a person chose for it.

    It posts exactly as a matched claim payment would (lines by REF*6R or code and date, events,
    patient balance), its payer claim number is remembered for the claim so later payments and
    reversals under it match by themselves, and the queue rows it waited in are resolved once it
    is posted or recorded (a reversal with nothing to reverse on that claim stays in the queue,
    flagged, under the one row that says so). Returns the state it ended in; raises
    ``ReviewError`` when it is not waiting or the claim is not known.
    """
    row = await _claim_payment_for_review(tx, remit_id)
    if row.state not in _WAITING:
        raise ReviewError(f"claim payment {remit_id} is {row.state}, not waiting in the queue")
    payment, remit = await _stored_for_review(tx, row)
    run = _Run.again(tx, row.file_id, row, cut_lengths=cut_lengths, metrics=metrics)
    claims = await _locked(run, claim_id)
    u = t.unmatched.c
    waiting = (
        await tx.conn.scalars(
            sa.select(u.id).where(u.remit_id == remit_id, u.kind == "claim", u.resolved_at.is_(None))
        )
    ).all()
    if row.state == "orphan_reversal":  # placed again: posting it flags it anew if it still is one
        await _resolve_flags(tx, remit_id, ("orphan_reversal",))
    state = await run._post(payment, row.payment_id, remit_id, remit, row.cross_key, chosen=claims[0])
    tx.after_commit(partial(_inc, metrics.claim_payments, state))
    if waiting and state not in ("posted", "recorded"):
        # posting queued it again (an orphan reversal): the new row, with its reason, replaces
        # the rows it waited in, so the queue shows it once
        requeued = await tx.conn.scalar(
            sa.select(sa.func.count())
            .select_from(t.unmatched)
            .where(u.remit_id == remit_id, u.resolved_at.is_(None), u.id.not_in(waiting))
        )
        if not requeued:
            waiting = []  # still waiting where it was
    if waiting:
        await tx.conn.execute(t.unmatched.update().where(u.id.in_(waiting)).values(resolved_at=sa.func.now()))
    log.info("claim payment %s placed on a claim by review: %s", remit_id, state)
    return state


REPOSTABLE = frozenset({"other_payee"})
"""Payment outcomes a person may post again from the stored 835: those that depend on the
service's settings, not on the file (a payee held before the practice's payee ids listed it). A
payment held for what its file says (unbalanced, unreadable) posts when the payer sends it again."""


async def repost_payment(
    tx: Transaction,
    payment_id: str,
    *,
    metrics: RemitMetrics,
    payee_ids: Sequence[str],
    cut_lengths: Sequence[int] = DEFAULT_CUT_LENGTHS,
) -> str:
    """Post again, under today's ``payee_ids``, a payment held for another payee.

    The payment is read again from the 835 it was stored from and posted as that file's post
    would have (claim payments, provider adjustments, events); the exceptions it was held with
    are resolved (a payment still held gets one new exception). Returns its new status
    (``other_payee`` again when the payee is still not the practice's); raises ``ReviewError``
    when it is unknown, not held for a reason a repost can change, or its file can no longer be
    read.
    """
    p, f = t.payment.c, t.remit_file.c
    row = (
        await tx.conn.execute(
            sa.select(p.status, p.file_id, f.name, f.received_at, f.content)
            .join(t.remit_file, f.file_id == p.file_id)
            .where(p.payment_id == payment_id)
            .with_for_update(of=t.payment)
        )
    ).first()
    if row is None:
        raise ReviewError(f"no payment {payment_id}")
    if row.status not in REPOSTABLE:
        raise ReviewError(
            f"payment {payment_id} is {row.status}; only a payment held for another payee is reposted"
        )
    payment = _find_payment(
        read_remit_file(row.content).payments if row.content is not None else [], payment_id
    )
    if payment is None:
        raise ReviewError(f"the file of payment {payment_id} can no longer be read")
    e = t.remit_exception.c
    held = (
        await tx.conn.scalars(
            sa.select(e.id).where(e.payment_id == payment_id, e.kind.in_(REPOSTABLE), e.resolved_at.is_(None))
        )
    ).all()
    run = _Run.again(tx, row.file_id, row, cut_lengths=cut_lengths, metrics=metrics, payee_ids=payee_ids)
    await run.post_payment(payment, incomplete=False, payment_id=payment_id)
    status = str(await tx.conn.scalar(sa.select(p.status).where(p.payment_id == payment_id)))
    if held:  # still held: the post just flagged it again, so one exception stays open
        await tx.conn.execute(
            t.remit_exception.update().where(e.id.in_(held)).values(resolved_at=sa.func.now())
        )
    log.info("payment %s posted again by review: %s", payment_id, status)
    return status
