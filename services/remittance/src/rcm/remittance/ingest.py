"""Posting an 835 file: the use case that ties the domain rules to the store and the events.

``post_remit_file`` runs inside one database transaction (a service transaction or the CLI's):
the file row, every posting, the queues and the outgoing events commit together, so a crash
leaves either nothing or everything, and a retried file is recognised by its hash. Its metrics
are counted through ``Transaction.after_commit``, so a run that rolls back counts nothing.

Exactly once, in three layers:
1. the file: ``remit_file.sha256`` is unique; identical content is skipped before parsing;
2. the payment: ``payment (payer_ref, TRN02)`` is unique; a regenerated file for a posted
   payment reuses it;
3. the claim payment: ``claim_payment (payment_id, dedupe_key)`` is unique, the key being
   CLP02, payer claim number and amounts (and the occurrence within the payment); and a
   claim payment identical to one posted under another payment and not reversed is a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
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
    deferral_key,
    reference_tokens,
)
from rcm.remittance.domain.reassociation import trace_key
from rcm.remittance.domain.remit import SPLIT_CLAIM_RARC, ZERO, Adjustment, ClaimRemit, ClaimStatus, Payment
from rcm.remittance.domain.reversal import PostedClaimPayment, find_original, undo
from rcm.remittance.domain.validity import claim_problems
from rcm.remittance.lookups import Posted, claim_index, line_ids, posted_index
from rcm.remittance.metrics import RemitMetrics
from rcm.remittance.remit_file import RemitFile, read_remit_file
from rcm.servicekit import Transaction, among

__all__ = [
    "FileOutcome",
    "ReviewError",
    "assign_unmatched",
    "post_remit_file",
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
                  claim.patient_responsibility, claim.forwarded, claim.other,
                  (SELECT balance FROM owed) AS patient_balance
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
        patient_balance=sa.Numeric,
    )
)
"""A posted claim payment settled: its outcome and claim, the claim's totals moved by the posting
(and returned), and what the patient owes moved by the posting's patient share when it has one."""

_LINES_QUEUED = "remittance.posted_lines_queued"
"""``Transaction.memo``: posted lines are queued and not written yet (``posted_for`` writes them)."""


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
    async def post_payment(self, payment: Payment, *, incomplete: bool) -> None:
        payment_id = _opaque("pay", payment.payer_ref, payment.trace_number)
        existing = (
            await self.conn.execute(sa.select(t.payment.c.status).where(t.payment.c.payment_id == payment_id))
        ).scalar_one_or_none()
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
        elif existing == "posted":
            # A regenerated 835 for a payment already posted: only claim payments not seen pass.
            await self.flag(
                "payment_redelivered", "payment already posted from another file", payment_id=payment_id
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
            return
        await self.post_claim_payments(payment, payment_id)
        if existing != "posted":
            await self.apply_plb(payment, payment_id)
        for held in payment.held_claims:
            self.outcome.count("held")
            # not recorded as a claim payment: the payer's corrected 835 (the same payment again)
            # posts it then, once, while the claim payments posted now are recognised and skipped
            await self.flag(
                "unreadable_claim",
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
            base = "|".join(
                [
                    remit.status,
                    (remit.payer_claim_number or remit.patient_control_number).upper(),
                    _cents(remit.charge),
                    _cents(remit.paid),
                    _cents(remit.patient_responsibility),
                ]
            )
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
    ) -> str:
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

        if chosen is not None:  # a person placed it (``assign_unmatched``)
            match = ClaimMatch(chosen, MatchedBy.REVIEW)
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
        if remit.status == ClaimStatus.REVERSAL:
            posted = await self.posted_for(claim.claim_id)
            # what an earlier remittance posted first: a correction listed before this reversal in
            # the same 835 may repeat the original's CLP07 and amounts, and is not what it takes back
            original = find_original(remit, [p for p in posted if p.payment_id != payment_id])
            original = original or find_original(remit, posted)
            if original is None:
                await self.flag(
                    "orphan_reversal",
                    "reversal (CLP02 22) with no open posting to reverse",
                    payment_id=payment_id,
                    remit_id=remit_id,
                )
                await self.queue_unmatched(payment, payment_id, remit_id, remit, "no_claim", ())
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
                remit.services, claim.lines, claim_date=remit.statement_date, paid_lines=paid_lines
            )
            line_keys = [m.line_key for m in matches]
            earlier = await self.repeated(remit_id, remit, cross_key, claim.claim_id)
            if earlier:  # a split claim's parts may carry the same money for other lines
                earlier = await self.on_same_lines(earlier, {m.line_key for m in matches if m.line_key})
            # a correction listed before the reversal of the first in the same 835 is not a repeat:
            # the reversal takes the first back further on (5010 sets no order between the two)
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
            for m in matches:
                if m.line_key is None:
                    await self.queue_unmatched_line(
                        payment, payment_id, remit_id, remit, claim.claim_id, m.service_index
                    )
            single = claim.lines[0].line_key if len(claim.lines) == 1 else None
            posting = post_claim(
                remit,
                claim_id=claim.claim_id,
                line_keys=[m.line_key for m in matches],
                single_line_key=single,
                claim_payer_order=claim.payer_order,
            )
            status = remit.claim_status
            state = "posted" if status is None or status.moves_money else "recorded"

        totals, owed = await self.write_posting(remit_id, posting, state, match, reverses=reverses)
        if state == "posted":
            posted_index(self.tx).posted(_open(remit_id, remit, cross_key, claim.claim_id))
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
        if revive is not None:
            await self.post_held_correction(payment, remit, claim.claim_id, revive)
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
        money under another payer claim number, was its correction (the reversal came in a later
        835), and posts now from its stored file; its duplicate flag is resolved. Not when the
        reversal's own 835 carries the correction: that one posts, the held one stays a repeat."""
        control = reversal.patient_control_number.strip().upper()
        if any(
            c.status != ClaimStatus.REVERSAL
            and c.paid == reversed_.paid
            and abs(c.charge) == abs(reversed_.charge)
            and c.patient_control_number.strip().upper() == control
            for c in payment.claims
        ):
            return
        cp, e = t.claim_payment.c, t.remit_exception.c
        held = (
            await self.conn.execute(
                sa.select(cp.remit_id, cp.payment_id, cp.file_id, cp.sequence, cp.cross_key)
                .join(t.remit_exception, e.remit_id == cp.remit_id)
                .where(
                    cp.claim_id == claim_id,
                    cp.state == "duplicate",
                    e.kind == "duplicate_claim_payment",
                    e.resolved_at.is_(None),
                    e.detail["duplicate_of"].astext == reversed_.remit_id,
                    sa.func.upper(sa.func.coalesce(cp.payer_claim_number, ""))
                    != (reversed_.payer_claim_number or "").upper(),
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
        await self.conn.execute(
            t.remit_exception.update()
            .where(e.remit_id == held.remit_id, e.kind == "duplicate_claim_payment", e.resolved_at.is_(None))
            .values(resolved_at=sa.func.now())
        )
        run = _Run.again(self.tx, held.file_id, file, cut_lengths=self.cut_lengths, metrics=self.metrics)
        state = await run._post(payment, held.payment_id, held.remit_id, remit, held.cross_key)
        self.tx.after_commit(partial(_inc, self.metrics.claim_payments, state))
        log.info(
            "claim payment %s held as a duplicate posted once its first was reversed: %s",
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
    ) -> tuple[ClaimTotals, tuple[Decimal, Decimal] | None]:
        """Write a claim payment's posting: its lines and adjustments (queued with the
        transaction's inserts), its outcome, the claim's totals and, when the posting moves what
        the patient owes, the patient's balance, in one statement. Returns the claim's totals and
        the patient's (previous, new) balance when it changed."""
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
        totals = ClaimTotals(
            charge=row.total_charge,
            paid=row.paid,
            contractual=row.contractual,
            denied=row.denied,
            patient_responsibility=row.patient_responsibility,
            forwarded=row.forwarded,
            other=row.other,
        )
        if owed == ZERO:
            return totals, None
        return totals, (row.patient_balance - owed, row.patient_balance)

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
        if not payment.provider_adjustments:
            return
        tokens = {tok.upper() for p in payment.provider_adjustments for tok in reference_tokens(p.reference)}
        by_reference: dict[str, str] = {}
        if tokens:
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
        for sequence, applied in enumerate(
            apply_provider_adjustments(
                payment.provider_adjustments, by_reference, await self.deferred(payment, payment_id)
            ),
            1,
        ):
            adj = applied.adjustment
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
                        claim_id=applied.claim_id,
                    )
                    .on_conflict_do_nothing(constraint="provider_adjustment_once")
                    .returning(t.provider_adjustment.c.id)
                )
            ).scalar_one_or_none()
            if inserted is None or applied.claim_id is None:
                continue
            c = t.claim.c
            if applied.kind is PlbKind.RECOUPMENT:
                row = (
                    await self.conn.execute(
                        t.claim.update()
                        .where(c.claim_id == applied.claim_id)
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
                        )
                    )
                ).one()
                totals = ClaimTotals(
                    charge=row.total_charge,
                    paid=row.paid,
                    contractual=row.contractual,
                    denied=row.denied,
                    patient_responsibility=row.patient_responsibility,
                    forwarded=row.forwarded,
                    other=row.other,
                )
                plb_id = _opaque("plb", payment_id, sequence)
                self.tx.publish(
                    PaymentPosted(
                        posting_id=plb_id,
                        remit_id=plb_id,
                        claim_id=applied.claim_id,
                        patient_id=row.patient_id,
                        payer_id=row.payer_id,
                        paid=-adj.amount,
                        contractual_adjustment=ZERO,
                        patient_responsibility=ZERO,
                        claim_balance=totals.insurance_balance,
                        lines=[],
                        posted_at=self.received_at,
                    )
                )
            elif applied.kind is PlbKind.INTEREST:
                # PLB interest is negative when paid to the provider; the claim ledger keeps it positive.
                await self.conn.execute(
                    t.claim.update()
                    .where(c.claim_id == applied.claim_id)
                    .values(interest=c.interest - adj.amount)
                )

    async def deferred(self, payment: Payment, payment_id: str) -> dict[str, Decimal]:
        """What earlier 835s of the payer deferred with a negative WO and no positive WO has taken
        yet, by ``deferral_key``, for the references of ``payment``'s positive WOs."""
        keys = {
            deferral_key(p.reference)
            for p in payment.provider_adjustments
            if p.reason == OVERPAYMENT_RECOVERY and p.amount > ZERO and p.reference
        }
        if not keys:
            return {}
        a, p = t.provider_adjustment.c, t.payment.c
        rows = await self.conn.execute(
            sa.select(a.reference, a.amount)
            .join_from(t.provider_adjustment, t.payment, p.payment_id == a.payment_id)
            .where(
                a.reason == OVERPAYMENT_RECOVERY,
                a.kind.in_([PlbKind.DEFERRAL.value, PlbKind.RECOVERY.value]),
                a.payment_id != payment_id,
                p.payer_ref == payment.payer_ref,
            )
        )
        out: dict[str, Decimal] = {}
        for reference, amount in rows:
            key = deferral_key(reference)
            if key in keys:
                out[key] = out.get(key, ZERO) - amount
        return out

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
        if p.kind in ("invalid_claim", "invalid_segment", "truncated_set")
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
    resolved. Returns how many were posted.

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
    waiting = (
        await tx.conn.execute(
            sa.select(
                u.id,
                cp.remit_id,
                cp.payment_id,
                cp.file_id,
                cp.sequence,
                cp.cross_key,
                f.name,
                f.received_at,
            )
            .join_from(t.unmatched, t.claim_payment, cp.remit_id == u.remit_id)
            .join(t.remit_file, f.file_id == cp.file_id)
            .where(
                u.kind == "claim",
                u.resolved_at.is_(None),
                cp.state == "unmatched",
                sa.exists().where(known),
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
    return next(
        (
            (p, r)
            for p in parsed.payments
            if _opaque("pay", p.payer_ref, p.trace_number) == payment_id
            for r in p.claims
            if r.sequence == sequence
        ),
        None,
    )


class ReviewError(ValueError):
    """A person's placement of a queued claim payment that cannot be done; the message says why."""


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
    if row.state != "unmatched":
        raise ReviewError(f"claim payment {remit_id} is {row.state}, not waiting in the queue")
    found = await _stored_claim_payment(tx, row.file_id, row.payment_id, row.sequence, {})
    if found is None:
        raise ReviewError(f"the file of claim payment {remit_id} can no longer be read")
    payment, remit = found
    run = _Run.again(tx, row.file_id, row, cut_lengths=cut_lengths, metrics=metrics)
    claims = await run.claims([claim_id])
    if not claims:
        raise ReviewError(f"no claim {claim_id}")
    u = t.unmatched.c
    waiting = (
        await tx.conn.scalars(
            sa.select(u.id).where(u.remit_id == remit_id, u.kind == "claim", u.resolved_at.is_(None))
        )
    ).all()
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
    payment = next(
        (
            found
            for found in (read_remit_file(row.content).payments if row.content is not None else [])
            if _opaque("pay", found.payer_ref, found.trace_number) == payment_id
        ),
        None,
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
    await run.post_payment(payment, incomplete=False)
    status = str(await tx.conn.scalar(sa.select(p.status).where(p.payment_id == payment_id)))
    if held:  # still held: the post just flagged it again, so one exception stays open
        await tx.conn.execute(
            t.remit_exception.update().where(e.id.in_(held)).values(resolved_at=sa.func.now())
        )
    log.info("payment %s posted again by review: %s", payment_id, status)
    return status
