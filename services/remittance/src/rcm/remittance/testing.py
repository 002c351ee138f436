"""Synthetic 835s and claims for tests and demos (no real PHI).

``remit_835`` writes a small, valid 835 from plain values; ``claim_for`` makes the
``claim-created`` event a claim payment should match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm.events import decode
from rcm.events.catalog import spec_for
from rcm.events.models import ClaimCreated
from rcm.events.testing import claim_created
from rcm.remittance import store as t
from rcm.remittance.handlers import HANDLERS, handle_batch, on_claim_created
from rcm.remittance.ingest import (
    FileOutcome,
    assign_unmatched,
    post_remit_file,
    release_held,
    rematch_waiting,
    repost_payment,
)
from rcm.remittance.metrics import RemitMetrics
from rcm.servicekit import Delivered, Record, Transaction
from rcm.servicekit.db import outbox

__all__ = ["Cas", "CasSegment", "Clp", "Ledger", "Plb", "Posted", "Svc", "claim_for", "paid", "remit_835"]


@dataclass(frozen=True, slots=True)
class Cas:
    group: str
    carc: str
    amount: str


@dataclass(frozen=True, slots=True)
class CasSegment:
    """One CAS segment with up to six reason/amount pairs (``(carc, amount)``)."""

    group: str
    pairs: Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Svc:
    code: str
    charge: str
    paid: str
    cas: Sequence[Cas | CasSegment] = ()
    modifiers: Sequence[str] = ()
    on: date | None = None
    line_key: str | None = None
    allowed: str | None = None
    rarcs: Sequence[str] = ()
    original: str | None = None
    """SVC06: the procedure code billed, when the payer adjudicated another (``HC:code:mod``...)."""
    period: tuple[date, date] | None = None
    """DTM*150/151 instead of DTM*472."""
    units: str = "1"
    """SVC05: the units paid."""
    original_units: str | None = None
    """SVC07: the units billed, when the payer paid another number (a split or unbundled line)."""


@dataclass(frozen=True, slots=True)
class Clp:
    pcn: str
    status: str
    charge: str
    paid: str
    patient: str = "0"
    icn: str | None = None
    cas: Sequence[Cas | CasSegment] = ()
    services: Sequence[Svc] = ()
    rarcs: Sequence[str] = ()
    """Claim-level remarks (MOA03-07), e.g. MA18 for a crossover."""
    refs: Sequence[tuple[str, str]] = ()
    """2100 REF segments, e.g. ``("F8", original payer claim number)``."""
    amounts: Sequence[tuple[str, str]] = ()
    """2100 AMT segments, e.g. ``("I", interest)``."""
    dates: Sequence[tuple[str, date]] = ()
    """2100 DTM segments, e.g. ``("232", first day)`` and ``("233", last day)`` of the statement."""


@dataclass(frozen=True, slots=True)
class Plb:
    reason: str
    amount: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class _Doc:
    segments: list[str] = field(default_factory=list)

    def add(self, *elements: str) -> None:
        while elements and elements[-1] == "":
            elements = elements[:-1]
        self.segments.append("*".join(elements))


def _cas(doc: _Doc, adjustments: Sequence[Cas | CasSegment]) -> None:
    for cas in adjustments:
        if isinstance(cas, CasSegment):
            doc.add("CAS", cas.group, *(e for carc, amount in cas.pairs for e in (carc, amount, "")))
        else:
            doc.add("CAS", cas.group, cas.carc, cas.amount)


def paid(
    pcn: str,
    icn: str,
    *,
    line_key: str | None = None,
    status: str = "1",
    sign: str = "",
    on: date = date(2025, 3, 3),
) -> Clp:
    """A 90837 claim payment: 170.00 charged; 110.00 paid, CO-45 35.00, PR-3 25.00 (negated when
    ``sign`` is '-'), the line on ``on``."""
    return Clp(
        pcn,
        status,
        f"{sign}170.00",
        f"{sign}110.00",
        f"{sign}25.00",
        icn,
        services=[
            Svc(
                "90837",
                f"{sign}170.00",
                f"{sign}110.00",
                [Cas("CO", "45", f"{sign}35.00"), Cas("PR", "3", f"{sign}25.00")],
                on=on,
                line_key=line_key,
            )
        ],
    )


def remit_835(
    claims: Sequence[Clp],
    *,
    trace: str = "EFT0001",
    payer_id: str = "1999999999",
    amount: str | None = None,
    plb: Sequence[Plb] = (),
    paid_on: date = date(2025, 4, 1),
    control: int = 1,
    handling: str = "I",
    method: str = "ACH",
    credit_debit: str = "C",
    payee_tin: str | None = None,
    payee_npi: str = "1234567893",
) -> bytes:
    """An 835 interchange; ``amount`` defaults to the balanced BPR02 (claims paid - PLB), a debit
    (BPR03 D) when that is negative, as the guide writes a payment the payer takes back."""
    total = sum((Decimal(c.paid) for c in claims), Decimal(0)) - sum(
        (Decimal(p.amount) for p in plb), Decimal(0)
    )
    if amount is None and total < 0:
        credit_debit = "D"
    bpr = amount if amount is not None else str(abs(total) if credit_debit == "D" else total)
    day = paid_on.strftime("%Y%m%d")
    body = _Doc()
    body.add("ST", "835", f"{control:04d}")
    if method == "NON":
        body.add("BPR", handling, bpr, credit_debit, method, *[""] * 11, day)
    else:
        body.add(
            "BPR",
            handling,
            bpr,
            credit_debit,
            method,
            "CCP",
            "01",
            "011000015",
            "DA",
            "123456",
            payer_id,
            "",
            "01",
            "021000021",
            "DA",
            "654321",
            day,
        )
    body.add("TRN", "1", trace, payer_id)
    body.add("DTM", "405", day)
    body.add("N1", "PR", "SYNTHETIC PAYER")
    body.add("N3", "1 PAYER WAY")
    body.add("N4", "ANYTOWN", "NY", "10001")
    body.add("PER", "BL", "EDI DESK", "TE", "5555550100")
    body.add("N1", "PE", "SYNTHETIC COUNSELING GROUP", "XX", payee_npi)
    if payee_tin:
        body.add("REF", "TJ", payee_tin)
    body.add("LX", "1")
    for c in claims:
        body.add("CLP", c.pcn, c.status, c.charge, c.paid, c.patient, "12", c.icn or "")
        _cas(body, c.cas)
        body.add("NM1", "QC", "1", "PATIENT", "TEST")
        if c.rarcs:
            body.add("MOA", "", "", *list(c.rarcs)[:5])
        for qualifier, value in c.refs:
            body.add("REF", qualifier, value)
        for qualifier, when in c.dates:
            body.add("DTM", qualifier, when.strftime("%Y%m%d"))
        for qualifier, value in c.amounts:
            body.add("AMT", qualifier, value)
        for s in c.services:
            procedure = ":".join(["HC", s.code, *s.modifiers])
            body.add(
                "SVC", procedure, s.charge, s.paid, "", s.units, s.original or "", s.original_units or ""
            )
            if s.on is not None:
                body.add("DTM", "472", s.on.strftime("%Y%m%d"))
            if s.period is not None:
                body.add("DTM", "150", s.period[0].strftime("%Y%m%d"))
                body.add("DTM", "151", s.period[1].strftime("%Y%m%d"))
            _cas(body, s.cas)
            if s.line_key:
                body.add("REF", "6R", s.line_key)
            if s.allowed:
                body.add("AMT", "B6", s.allowed)
            for rarc in s.rarcs:
                body.add("LQ", "HE", rarc)
    for p in plb:
        reason = f"{p.reason}:{p.reference}" if p.reference else p.reason
        body.add("PLB", "1234567893", "20251231", reason, p.amount)
    body.add("SE", str(len(body.segments) + 1), f"{control:04d}")
    isa = (
        f"ISA*00*          *00*          *ZZ*{'SYNPAYER':<15}*ZZ*{'PRACTICE01':<15}*250401*1200*^*00501*"
        f"{control:09d}*0*T*:"
    )
    segments = [isa, f"GS*HP*SYNPAYER*PRACTICE01*{day}*1200*{control}*X*005010X221A1", *body.segments]
    segments += [f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return ("~\n".join(segments) + "~\n").encode()


def claim_for(
    n: int,
    *,
    claim_id: str,
    lines: Sequence[tuple[str, str, str] | tuple[str, str, str, date]] | None = None,
    on: date = date(2025, 3, 3),
    modifiers: Sequence[str] = (),
    **overrides: Any,
) -> ClaimCreated:
    """A claim with lines ``(line_key, code, charge)`` on date ``on``, or ``(line_key, code,
    charge, date)`` each on its own date."""
    specs = [(spec[0], spec[1], spec[2], spec[3] if len(spec) > 3 else on) for spec in lines or []]
    specs = specs or [(f"{claim_id}:1", "90837", "170.00", on)]
    built = [
        {
            "line_key": key,
            "session_id": f"ses-{n:04d}",
            "service_date": day,
            "procedure_code": code,
            "modifiers": list(modifiers),
            "units": 1,
            "place_of_service": "11",
            "charge": charge,
            "diagnosis_pointers": [1],
            "rule": "test",
        }
        for key, code, charge, day in specs
    ]
    total = sum((Decimal(charge) for _, _, charge, _ in specs), Decimal(0))
    return claim_created(n, claim_id=claim_id, lines=built, total_charge=str(total), **overrides)


@dataclass
class Posted:
    outcome: FileOutcome
    events: list[Any]

    def of(self, name: str) -> list[Any]:
        return [e for e in self.events if type(e).__name__ == name]


class Ledger:
    """The remittance database of one test."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.metrics = RemitMetrics()

    async def add_claims(self, claims: Sequence[ClaimCreated]) -> None:
        """Project ``claims`` one event at a time, in one transaction."""
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test")
            for i, claim in enumerate(claims):
                record = Record("claim-created", 0, i, claim.patient_id.encode(), b"{}")
                await on_claim_created(tx, Delivered(record, claim))
            await tx.flush()

    async def deliver(self, *events: Any, batch: bool = False) -> list[Any]:
        """Hand consumed events to the service's handlers in one transaction; the events it published.

        ``batch``: as one consumed batch (``handle_batch``), not through each event's handler."""
        delivered = []
        for i, event in enumerate(events):
            spec = spec_for(event)
            key = str(getattr(event, spec.key)).encode()
            delivered.append(Delivered(Record(spec.name, 0, i, key, b"{}"), event))
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test", source="remittance")
            if batch:
                await handle_batch(tx, delivered)
            else:
                for d in delivered:
                    await HANDLERS[type(d.event)](tx, d)
            await tx.flush()
        tx.committed()
        return [decode(m.value, m.headers).event for m in tx.outgoing]

    async def post(self, content: bytes, name: str = "remit.835", *, payee_ids: Sequence[str] = ()) -> Posted:
        """Post ``content``; ``payee_ids``: the practice's payee NPIs and tax ids (empty: not checked)."""
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test", source="remittance")
            outcome = await post_remit_file(
                tx, content, name=name, source="upload", metrics=self.metrics, payee_ids=payee_ids
            )
            await tx.flush()
        tx.committed()
        return Posted(outcome, [decode(m.value, m.headers).event for m in tx.outgoing])

    async def rematch(self) -> tuple[list[Any], int]:
        """Run one pass of the waiting-payments matcher: (events published, claim payments posted)."""
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test", source="remittance")
            posted = await rematch_waiting(tx, metrics=self.metrics)
            await tx.flush()
        tx.committed()
        return [decode(m.value, m.headers).event for m in tx.outgoing], posted

    async def assign(self, remit_id: str, claim_id: str) -> tuple[list[Any], str]:
        """A person places a queued claim payment on a claim: (events published, state)."""
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test", source="remittance")
            state = await assign_unmatched(tx, remit_id, claim_id, metrics=self.metrics)
            await tx.flush()
        tx.committed()
        return [decode(m.value, m.headers).event for m in tx.outgoing], state

    async def release(self, remit_id: str) -> tuple[list[Any], str]:
        """A person releases a claim payment held as a repeat or a second payment: (events, state)."""
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test", source="remittance")
            state = await release_held(tx, remit_id, metrics=self.metrics)
            await tx.flush()
        tx.committed()
        return [decode(m.value, m.headers).event for m in tx.outgoing], state

    async def repost(self, payment_id: str, *, payee_ids: Sequence[str]) -> tuple[list[Any], str]:
        """A person posts a held payment again under ``payee_ids``: (events published, status)."""
        async with self.engine.begin() as conn:
            tx = Transaction(conn, "test", source="remittance")
            status = await repost_payment(tx, payment_id, metrics=self.metrics, payee_ids=payee_ids)
            await tx.flush()
        tx.committed()
        return [decode(m.value, m.headers).event for m in tx.outgoing], status

    async def rows(self, table: sa.Table, *where: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(sa.select(table).where(*where))).all())

    async def claim(self, claim_id: str) -> Any:
        (row,) = await self.rows(t.claim, t.claim.c.claim_id == claim_id)
        return row

    async def count(self, table: sa.Table) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    async def counts(self) -> dict[str, int]:
        tables = [t.remit_file, t.payment, t.claim_payment, t.posted_line, t.unmatched, t.remit_exception]
        return {tb.name: await self.count(tb) for tb in [*tables, outbox]}
