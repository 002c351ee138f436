"""Business metrics for dashboards, on the service's own registry. Labels never carry PHI:
payer ids, reason codes, results and age buckets only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.claims.domain.state import TERMINAL_STATES, ClaimState
from rcm.claims.store import claim, claim_audit
from rcm.events.models import HoldReasonCode

__all__ = [
    "AGE_BUCKETS",
    "AUTOMATIC_HOLDS",
    "CLEAN_CLAIM_WINDOW",
    "ArAgingMetrics",
    "ClaimsMetrics",
    "ar_aging_query",
    "clean_claim_query",
]


class ClaimsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.created = Counter("rcm_claims_created_total", "Claims created from sessions.", registry=registry)
        self.held = Counter(
            "rcm_claims_held_total", "Claims held, by hold reason code.", ["reason"], registry=registry
        )
        self.released = Counter("rcm_claims_released_total", "Held claims released.", registry=registry)
        self.warned = Counter(
            "rcm_claims_scrub_warnings_total",
            "Warnings of the edits on claims that passed them, by finding code.",
            ["reason"],
            registry=registry,
        )
        self.submitted = Counter(
            "rcm_claims_submitted_total",
            "Claims uploaded in an 837P batch, by payer.",
            ["payer"],
            registry=registry,
        )
        self.acknowledged = Counter(
            "rcm_claims_acknowledged_total",
            "Claim acknowledgements (999/277CA), by result.",
            ["source", "result"],
            registry=registry,
        )
        self.status_inquiries = Counter(
            "rcm_claims_status_inquiries_total",
            "276 claim status inquiries of aged claims, by result: answered (a 277 status read), "
            "no_answer (the call failed, or its 277 was unreadable or named no status for the claim), "
            "skipped (not written: reference data missing, no CORE route).",
            ["result"],
            registry=registry,
        )


AGE_BUCKETS: tuple[tuple[int | None, str], ...] = (
    (30, "0-30"),
    (60, "31-60"),
    (90, "61-90"),
    (120, "91-120"),
    (None, "120+"),
)
"""Days since the claim's first submission, up to and including the bound, and the bucket's label."""

SETTLED = TERMINAL_STATES | {ClaimState.PAID, ClaimState.WRITTEN_OFF}
"""States in which the payer owes nothing more on the claim: it leaves A/R (a corrected claim's
balance is carried by its replacement)."""


def ar_aging_query(now: datetime) -> sa.Select[Any]:
    """Open balance and claim count per payer and age bucket, in one aggregate query.

    A claim is in A/R once submitted and until settled (``SETTLED``); its age runs from its first
    submission (the earliest move to ``submitted`` in its audit trail), its balance is the charge
    less what its latest remit paid, moved to the patient and wrote off under the contract
    (CO-45, CO-253 sequestration...: owed by no one, so not receivable; ``rcm.claims.domain.
    adjudication.written_off``). An amount the payer refused (CO-197, CO-50...) stays in it.
    """
    a, c = claim_audit.c, claim.c
    first = (
        sa.select(sa.func.min(a.at))
        .where(a.claim_id == c.claim_id, a.to_state == ClaimState.SUBMITTED.value)
        .scalar_subquery()
    )
    days = sa.func.floor(
        sa.extract(
            "epoch", sa.literal(now, sa.DateTime(timezone=True)) - sa.func.coalesce(first, c.submitted_at)
        )
        / 86400
    )
    bucket = sa.case(
        *((days <= bound, label) for bound, label in AGE_BUCKETS if bound is not None),
        else_=AGE_BUCKETS[-1][1],
    )
    balance = sa.func.greatest(
        c.total_charge
        - sa.func.coalesce(c.remit_paid, 0)
        - sa.func.coalesce(c.remit_patient_responsibility, 0)
        - sa.func.coalesce(c.remit_contractual, 0),
        0,
    )
    open_claims = (
        sa.select(c.payer_id, bucket.label("bucket"), balance.label("balance"))
        .where(c.submitted_at.is_not(None), c.state.not_in([s.value for s in SETTLED]))
        .subquery()
    )
    o = open_claims.c
    return sa.select(
        o.payer_id, o.bucket, sa.func.count().label("claims"), sa.func.sum(o.balance).label("balance")
    ).group_by(o.payer_id, o.bucket)


AUTOMATIC_HOLDS: frozenset[str] = frozenset({HoldReasonCode.ELIGIBILITY_UNKNOWN.value})
"""Hold reasons the service clears by itself, with no person: the 271 answer it waits for re-runs
the edits and releases the claim. (Waiting for the authorizations service's answer is no hold at
all: the claim stays ``created`` until the answer; a timeout holds it ``authorization_missing``,
which a person must fix.) Every other hold needs a fix, so the claim was not clean."""


CLEAN_CLAIM_WINDOW = timedelta(days=30)
"""The clean-claim ratio is of the claims created in the last 30 days (a rolling month, as the
figure is reported), so its refresh does not grow with the claims' whole history."""


def clean_claim_query(since: datetime) -> sa.Select[Any]:
    """Claims created since ``since`` and scrubbed at least once, and how many of them passed the
    edits with no manual intervention, in one aggregate query.

    A claim is scrubbed once it left ``created`` (claims still ``created``, e.g. waiting for the
    authorization answer, are not counted yet). It is unclean when a hold put it ``held`` for a
    reason outside ``AUTOMATIC_HOLDS`` (the audit records ``held: <first reason>``) or it is held
    now (never sent yet) with such a reason among its current ones. Rejections after submission
    ("rejected: ...") are the first-pass acceptance's business, not the edits'.
    """
    a, c = claim_audit.c, claim.c
    scrubbed = (
        sa.select(sa.literal(1))
        .where(a.claim_id == c.claim_id, a.from_state == ClaimState.CREATED.value)
        .exists()
    )
    automatic = [f"held: {code}" for code in sorted(AUTOMATIC_HOLDS)]
    held_for_a_fix = (
        sa.select(sa.literal(1))
        .where(
            a.claim_id == c.claim_id,
            a.to_state == ClaimState.HELD.value,
            a.reason.like("held: %"),
            a.reason.not_in(automatic),
        )
        .exists()
    )
    reason = sa.func.jsonb_array_elements(c.hold_reasons).table_valued("value").alias("r")
    held_now_for_a_fix = (
        sa.select(sa.literal(1))
        .select_from(reason)
        .where(reason.c.value.op("->>")("code").not_in(sorted(AUTOMATIC_HOLDS)))
        .exists()
    )
    sent = (
        sa.select(sa.literal(1))
        .where(a.claim_id == c.claim_id, a.to_state == ClaimState.SUBMITTED.value)
        .exists()
    )
    # held now, before it was ever sent: the edits' hold (after a send, a rejection holds it)
    unclean = held_for_a_fix | ((c.state == ClaimState.HELD.value) & ~sent & held_now_for_a_fix)
    return sa.select(
        sa.func.count().label("scrubbed"),
        sa.func.count().filter(sa.not_(unclean)).label("clean"),
    ).where(c.created_at >= since, scrubbed)


class ArAgingMetrics:
    """A/R aging gauges, refreshed from the database by the service's timer."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.balance = Gauge(
            "rcm_claims_ar_balance_dollars",
            "Open balance of submitted, unsettled claims, in dollars, by payer and days since first "
            "submission (0-30, 31-60, 61-90, 91-120, 120+).",
            ["payer", "bucket"],
            registry=registry,
        )
        self.claims = Gauge(
            "rcm_claims_ar_claims",
            "Submitted, unsettled claims, by payer and days since first submission.",
            ["payer", "bucket"],
            registry=registry,
        )
        self._payers: set[str] = set()

        self.clean_claim_rate = Gauge(
            "rcm_claims_clean_claim_ratio",
            "Share of the claims created in the last 30 days and scrubbed that passed the edits with no "
            "manual intervention (a hold "
            "the service releases by itself, waiting for the 271, does not count against it).",
            registry=registry,
        )

    async def refresh(self, conn: AsyncConnection, *, now: datetime) -> None:
        counts = (await conn.execute(clean_claim_query(now - CLEAN_CLAIM_WINDOW))).one()
        if counts.scrubbed:
            self.clean_claim_rate.set(counts.clean / counts.scrubbed)
        rows = (await conn.execute(ar_aging_query(now))).all()
        found = {(r.payer_id, r.bucket): (int(r.claims), float(r.balance or 0)) for r in rows}
        # every bucket of every payer seen is set, to zero when empty, so a bucket that empties drops to 0
        self._payers |= {payer for payer, _ in found}
        for payer in self._payers:
            for _, bucket in AGE_BUCKETS:
                count, balance = found.get((payer, bucket), (0, 0.0))
                self.claims.labels(payer, bucket).set(count)
                self.balance.labels(payer, bucket).set(balance)
