"""Read an 835 file into ``domain.remit`` values, one claim loop at a time.

Claims come from ``rcm.x12.read_claims`` (memory bounded by one claim loop, mapped to the
typed ``ClaimPayment`` model one at a time); the payment header (BPR, TRN, N1*PR) and the PLB
segments that trail the claims come from one pass of the tokenizer. A claim loop the model
cannot read is never guessed at: when its CLP still names the claim (CLP01) and what it pays
(CLP04) it is a ``HeldClaim`` of its payment (held whole with the reason, counted in the balance,
the rest of the payment posts); otherwise it is a problem, with its position, that holds its set.
So is a loop the model reads but posting could not keep to the cent: a monetary amount with more
than 2 decimal places or 10 digits (``invalid_amount``, naming the segment and element) or a CAS
with more than six triplets. A BPR02 of that kind holds its set, a PLB amount its payment.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError

from rcm.remittance.domain.payees import PAYEE_REFERENCES
from rcm.remittance.domain.payers import remit_payer_keys
from rcm.remittance.domain.remit import (
    Adjustment,
    ClaimRemit,
    HeldClaim,
    Outpatient,
    Payment,
    ProviderAdjustment,
    ServiceRemit,
)
from rcm.x12 import (
    Delimiters,
    Finding,
    FindingKind,
    GroupError,
    Loop,
    Segment,
    SetError,
    Severity,
    Tokenizer,
    X12Error,
    read_claims,
)
from rcm.x12.envelope import Envelope, Place
from rcm.x12.models.common import AdjustmentGroup, Reference, Trace
from rcm.x12.models.remit_835 import (
    ClaimPayment,
    PartyId,
    PaymentInformation,
    ServicePayment,
)
from rcm.x12.models.remit_835 import ProviderAdjustment as PlbSegment

__all__ = ["FileProblem", "RemitFile", "money_problem", "read_remit_file"]


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Something in the file that could not be read (no PHI: positions and codes only)."""

    kind: str
    message: str
    control_number: str | None = None
    claim_sequence: int | None = None
    interchange: str | None = None
    """ISA13 of the interchange the set is in (files often hold several, each with an ST02 0001)."""


@dataclass(slots=True)
class RemitFile:
    payments: list[Payment] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)


Slot = tuple[int, int]
"""Where a transaction set is in the file: the ordinal of its interchange and its ST's position
in it. ISA13 and ST02 do not tell sets apart: two groups of one interchange may both hold an
ST02 0001, and concatenated interchanges may repeat an ISA13."""


@dataclass(slots=True)
class _Header:
    key: tuple[str, str]
    """ISA13 and ST02, as the problems name the set."""
    slot: Slot
    delimiters: Delimiters
    version: str = ""
    """GS08 of the set's group."""
    trace: Trace | None = None
    payment: PaymentInformation | None = None
    payer: PartyId | None = None
    payer_refs: list[Reference] = field(default_factory=list)
    payee_ids: list[str] = field(default_factory=list)
    plb: list[PlbSegment] = field(default_factory=list)
    claim_segments: int = 0
    """CLP segments in the set: each is a claim payment, whether or not it was read in a 2100 loop."""
    problems: list[FileProblem] = field(default_factory=list)


def _payment_information(seg: Segment, d: Delimiters, header: _Header) -> PaymentInformation:
    """BPR; an unreadable payment date (BPR16) is reported and left out rather than losing the payment."""
    try:
        return PaymentInformation.from_segment(seg, d)
    except X12Error as exc:
        if len(seg.elements) < 16:
            raise
        try:  # without BPR16: when it reads so, the date was the element at fault
            read = PaymentInformation.from_segment(Segment(seg.id, seg.elements[:15]), d)
        except X12Error:
            raise exc from None  # another element (the amount...) is: reported as what it is
        header.problems.append(
            FileProblem("invalid_payment_date", str(exc), header.key[1], None, header.key[0])
        )
        return read


def _headers(content: bytes) -> tuple[list[_Header], list[Finding]]:
    """Every 835 set's header and PLB segments, in order, and the envelope's errors (counts,
    control numbers, missing trailers), from one tokenizer pass."""
    tokens = Tokenizer(io.BytesIO(content))
    envelope = Envelope()
    last: Segment | None = None
    headers: list[_Header] = []
    current: _Header | None = None
    isa = ""
    version = ""
    interchanges = 0
    in_payer = in_payee = False
    for seg in tokens:
        d = tokens.delimiters or Delimiters()
        place = envelope.feed(seg, tokens.delimiters)
        last = seg
        if seg.id == "ISA":
            isa = seg.get(13) or ""
            # counted as the reader counts them, so the claims find their set (see ``_claims``)
            interchanges += place is Place.ISA and envelope.interchange is not None
        elif seg.id == "GS":
            version = seg.get(8) or ""
        elif seg.id == "ST":
            current = (
                _Header((isa, seg.get(2) or ""), (interchanges, seg.position), d, version)
                if seg.get(1) == "835"
                else None
            )
            if current is not None:
                headers.append(current)
            in_payer = in_payee = False
        elif current is None:
            continue
        elif seg.id == "SE":
            current = None
        else:
            try:
                if seg.id == "BPR" and current.payment is None:
                    current.payment = _payment_information(seg, d, current)
                elif seg.id == "TRN" and current.trace is None:
                    current.trace = Trace.from_segment(seg, d)
                elif seg.id == "N1":
                    in_payer, in_payee = seg.get(1) == "PR", seg.get(1) == "PE"
                    if in_payer:
                        current.payer = PartyId.from_segment(seg, d)
                    elif in_payee and (payee := PartyId.from_segment(seg, d)).identifier:
                        current.payee_ids.append(payee.identifier)
                elif seg.id == "REF" and in_payer:
                    current.payer_refs.append(Reference.from_segment(seg, d))
                elif seg.id == "REF" and in_payee:
                    ref = Reference.from_segment(seg, d)
                    if ref.qualifier in PAYEE_REFERENCES and ref.value:
                        current.payee_ids.append(ref.value)
                elif seg.id in ("LX", "CLP"):
                    in_payer = in_payee = False
                    current.claim_segments += seg.id == "CLP"
                elif seg.id == "PLB":
                    current.plb.append(PlbSegment.from_segment(seg, d))
                    for index in _PLB_AMOUNTS:
                        if (problem := money_problem(seg.get(index))) is not None:
                            current.problems.append(
                                FileProblem(
                                    "invalid_amount",
                                    f"PLB{index:02d} (segment {seg.position} of the interchange) is a "
                                    f"monetary amount with {problem}",
                                    current.key[1],
                                    None,
                                    current.key[0],
                                )
                            )
            except X12Error as exc:
                current.problems.append(
                    FileProblem("invalid_segment", str(exc), current.key[1], None, current.key[0])
                )
    envelope.finish(last)
    findings = [f for f in (*tokens.findings, *envelope.findings) if f.severity is Severity.ERROR]
    return headers, findings


def _envelope_problem(finding: Finding) -> FileProblem:
    """A set that ends before its SE may have lost claim payments: ``truncated_set`` holds it.
    Other envelope errors (counts, control numbers) are reported; the payment still posts when it
    balances. Finding messages quote no element values."""
    truncated = finding.kind is FindingKind.TRANSACTION and finding.code == SetError.TRAILER_MISSING
    kind = "truncated_set" if truncated else "invalid_envelope"
    return FileProblem(
        kind, finding.message[:300], finding.transaction or None, None, finding.interchange or None
    )


def _adjustments(groups: list[AdjustmentGroup]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(g.group, a.reason, a.amount, a.quantity) for g in groups for a in g.adjustments)


def _service(svc: ServicePayment) -> ServiceRemit:
    info = svc.service
    return ServiceRemit(
        procedure_code=info.procedure.code,
        qualifier=info.procedure.qualifier,
        modifiers=tuple(m for m in info.procedure.modifiers if m),
        original_procedure_code=info.original_procedure.code if info.original_procedure else None,
        original_modifiers=tuple(m for m in info.original_procedure.modifiers if m)
        if info.original_procedure
        else (),
        charge=info.charge,
        paid=info.paid,
        service_date=svc.service_date,
        service_end=next((d.value for d in svc.dates if d.qualifier == "151"), None),
        allowed=svc.allowed_amount,
        units=info.units if info.units is not None else Decimal(1),  # SVC05 absent: one unit (the guide)
        line_key=svc.line_item_control_number,
        adjustments=_adjustments(svc.adjustments),
        rarcs=tuple(svc.remark_codes),
        original_units=info.original_units,
    )


def claim_remit(loop: ClaimPayment, sequence: int) -> ClaimRemit:
    clp = loop.claim
    rarcs: list[str] = []
    if loop.outpatient is not None:
        rarcs += [c for c in loop.outpatient.remark_codes if c]
    if loop.inpatient is not None:
        rarcs += loop.inpatient.remark_codes
    statement = next((d.value for d in loop.dates if d.qualifier == "232"), None)
    statement_end = next((d.value for d in loop.dates if d.qualifier == "233"), None)
    full = next((r.value for r in loop.references if r.qualifier == "EA"), None)
    original = next((r.value for r in loop.references if r.qualifier == "F8" and r.value), None)
    interest = sum((a.amount for a in loop.amounts if a.qualifier == "I"), Decimal(0))
    crossover = loop.crossover_carrier.last_or_organization if loop.crossover_carrier else None
    moa = loop.outpatient
    outpatient = (
        Outpatient(
            moa.reimbursement_rate,
            moa.hcpcs_payable,
            tuple(c for c in moa.remark_codes if c),
            moa.esrd_payment,
            moa.nonpayable_professional,
        )
        if moa is not None
        else None
    )
    return ClaimRemit(
        patient_control_number=clp.patient_control_number,
        status=clp.status,
        charge=clp.charge,
        paid=clp.paid,
        patient_responsibility=clp.patient_responsibility or Decimal(0),
        payer_claim_number=clp.payer_claim_control_number,
        adjustments=_adjustments(loop.adjustments),
        services=tuple(_service(s) for s in loop.services),
        rarcs=tuple(rarcs),
        crossover_payer_name=crossover,
        statement_date=statement,
        statement_end=statement_end,
        full_control_number=full,
        sequence=sequence,
        original_reference=original,
        interest=interest,
        outpatient=outpatient,
    )


_AMOUNT = re.compile(r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)\Z")

MONEY_PLACES = 2
MONEY_DIGITS = 10
"""A monetary amount (data element 782) under HIPAA: at most 10 digits, cents included, and 2 of
them after the decimal point (005010 front matter). The ledger keeps cents (numeric(14, 2)) and
the events carry 2 places: a value beyond either would be rounded or refused after the fact."""

_MONEY_ELEMENTS = {"CLP": (3, 4, 5), "CAS": (3, 6, 9, 12, 15, 18), "SVC": (2, 3), "AMT": (2,)}
"""The monetary amounts of a claim payment loop that posting reads."""
_PLB_AMOUNTS = (4, 6, 8, 10, 12, 14)
CAS_ELEMENTS = 19
"""CAS01 and six reason/amount/quantity triplets (CAS02-CAS19)."""


def money_problem(value: Decimal | str) -> str | None:
    """Why ``value`` is no monetary amount the ledger can keep exactly, or None."""
    if isinstance(value, str):
        if not value or not _AMOUNT.match(value):
            return None  # absent or no number: the model reports it as what it is
        value = Decimal(value)
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return "no finite amount"
    if exponent < -MONEY_PLACES:
        return f"more than {MONEY_PLACES} decimal places"
    if len(digits) + max(exponent, 0) > MONEY_DIGITS:
        return f"more than {MONEY_DIGITS} digits"
    return None


def _loop_problem(loop: Loop) -> tuple[str, str] | None:
    """What the model reads without complaint, but posting could not keep: a monetary amount with
    more than 2 decimal places or 10 digits (``invalid_amount``), a CAS with more than six
    triplets (the model reads six; the rest would be lost and the claim left unbalanced).
    ``(kind, reason)``, naming the segment and element (never its value)."""
    for seg in loop.walk():
        if seg.id == "CAS" and any(e.strip() for e in seg.elements[CAS_ELEMENTS:]):
            return (
                "unreadable_claim",
                f"CAS (segment {seg.position} of the interchange) has {len(seg.elements)} elements: more "
                f"than the six reason/amount/quantity triplets (CAS02-CAS{CAS_ELEMENTS}) a CAS may carry; "
                "the payer must send the other adjustments in another CAS",
            )
        for index in _MONEY_ELEMENTS.get(seg.id, ()):
            problem = money_problem(seg.get(index))
            if problem is not None:
                return (
                    "invalid_amount",
                    f"{seg.id}{index:02d} (segment {seg.position} of the interchange) is a monetary "
                    f"amount with {problem}",
                )
    return None


def _held(loop: Loop, sequence: int, reason: str, kind: str = "unreadable_claim") -> HeldClaim | None:
    """The claim payment of a loop the model cannot read, when its CLP names the claim (CLP01) and
    what it pays (CLP04, which BPR02 counts); None when it does not (its set is then held)."""
    clp = loop.first("CLP")
    if clp is None or not clp.get(1).strip() or not _AMOUNT.match(clp.get(4)):
        return None
    return HeldClaim(
        sequence=sequence,
        patient_control_number=clp.get(1).strip(),
        status=clp.get(2),
        paid=Decimal(clp.get(4)),
        payer_claim_number=clp.get(7) or None,
        reason=reason,
        kind=kind,
    )


def _claims(
    content: bytes, delimiters: dict[Slot, Delimiters]
) -> Iterator[tuple[Slot, ClaimRemit | HeldClaim | FileProblem]]:
    counters: dict[Slot, int] = {}
    stream = read_claims(io.BytesIO(content))
    for item in stream:
        if item.transaction.id != "835":
            continue
        slot = (len(stream.result.interchanges), item.transaction.position)
        key = (item.interchange.control_number if item.interchange else "", item.transaction.control_number)
        counters[slot] = counters.get(slot, 0) + 1
        sequence = counters[slot]
        try:
            model = ClaimPayment.from_loop(item.loop, delimiters.get(slot, Delimiters()))
            remit = claim_remit(model, sequence)
        except (X12Error, ValidationError) as exc:
            reason = str(exc).splitlines()[0][:300]
            held = _held(item.loop, sequence, reason)
            yield slot, held or FileProblem("invalid_claim", reason, key[1], sequence, key[0])
            continue
        problem = _loop_problem(item.loop)
        if problem is None:
            yield slot, remit
            continue
        kind, reason = problem
        held = _held(item.loop, sequence, reason, kind)
        yield slot, held or FileProblem(kind, reason, key[1], sequence, key[0])


def _payment_problems(h: _Header, bpr: PaymentInformation) -> list[FileProblem]:
    """What a person should know of a BPR the guide does not allow, though the set balances and
    posts: a negative BPR02 (a set that nets negative carries the amount to a later 835 with a
    PLB FB, or the payer takes it by a debit, BPR03 D: no deposit will match it), and BPR01 H
    (notification only: no money moves) with a BPR02 other than zero (its claims say paid, but
    this 835 pays nothing: where the money went is to be asked)."""
    found = []
    if bpr.amount < 0:
        found.append(
            FileProblem(
                "negative_payment",
                "BPR02 is negative: the guide carries a negative balance forward (PLB FB) or debits it (BPR03 D)",
                h.key[1],
                None,
                h.key[0],
            )
        )
    if bpr.handling_code == "H" and bpr.amount != 0:
        found.append(
            FileProblem(
                "notification_with_payment",
                "BPR01 H (notification only, no payment) with a BPR02 other than zero",
                h.key[1],
                None,
                h.key[0],
            )
        )
    return found


def _payer_ref(h: _Header) -> str:
    if h.trace is not None and h.trace.originator:
        return h.trace.originator
    if h.payer is not None and h.payer.identifier:
        return h.payer.identifier
    ref = next((r.value for r in h.payer_refs if r.qualifier == "2U" and r.value), None)
    if ref:
        return ref
    return (h.payer.name if h.payer and h.payer.name else "unknown")[:50]


def read_remit_file(content: bytes) -> RemitFile:
    """Every 835 payment in ``content``; what cannot be read is in ``problems`` (a set of a group
    of another version than 005010, a 4010 remittance, gives no payment: ``unsupported_version``)."""
    out = RemitFile()
    try:
        headers, findings = _headers(content)
    except X12Error as exc:
        out.problems.append(FileProblem("invalid_x12", str(exc)[:300]))
        return out
    # a group of another version is reported once, as the ``unsupported_version`` of its sets below
    out.problems.extend(
        _envelope_problem(f)
        for f in findings
        if not (f.kind is FindingKind.GROUP and f.code == GroupError.VERSION_NOT_SUPPORTED)
    )
    if not headers:
        out.problems.append(FileProblem("not_835", "no 835 transaction set in the file"))
        return out
    claims: dict[Slot, list[ClaimRemit]] = {h.slot: [] for h in headers}
    held: dict[Slot, list[HeldClaim]] = {h.slot: [] for h in headers}
    read: dict[Slot, int] = {}
    try:
        for slot, item in _claims(content, {h.slot: h.delimiters for h in headers}):
            read[slot] = read.get(slot, 0) + 1
            if isinstance(item, FileProblem):
                out.problems.append(item)
            elif isinstance(item, HeldClaim):
                held.setdefault(slot, []).append(item)
            elif slot in claims:
                claims[slot].append(item)
    except X12Error as exc:
        out.problems.append(FileProblem("invalid_x12", str(exc)[:300]))
        return out
    for h in headers:
        if not h.version.startswith("005010"):
            # a 4010 (X091A1) remittance is not read with the X221A1 rules: its claim statuses,
            # adjustment groups and loops differ, so nothing of it posts
            out.problems.append(
                FileProblem(
                    "unsupported_version",
                    f"835 group version {h.version[:12] or 'missing'} is not 005010X221A1",
                    h.key[1],
                    None,
                    h.key[0],
                )
            )
            continue
        out.problems.extend(h.problems)
        unplaced = h.claim_segments - read.get(h.slot, 0)
        if unplaced > 0:
            # a CLP the reader placed in no 2100 loop (an 835 without its LX header numbers, a
            # set cut short) is a claim payment nobody read: the payment must not post without it
            out.problems.append(
                FileProblem(
                    "invalid_claim",
                    f"{unplaced} claim payment(s) (CLP) outside a claim payment loop (2000 LX / 2100)",
                    h.key[1],
                    None,
                    h.key[0],
                )
            )
        if h.payment is None or h.trace is None:
            out.problems.append(
                FileProblem("invalid_payment", "BPR or TRN missing or unreadable", h.key[1], None, h.key[0])
            )
            continue
        if (problem := money_problem(h.payment.amount)) is not None:
            # BPR02 is the money itself: a set whose payment cannot be kept to the cent is not posted
            out.problems.append(
                FileProblem(
                    "invalid_amount",
                    f"BPR02 is a monetary amount with {problem}; nothing of the set is posted",
                    h.key[1],
                    None,
                    h.key[0],
                )
            )
            continue
        out.problems.extend(_payment_problems(h, h.payment))
        sign = Decimal(-1) if h.payment.credit_debit == "D" else Decimal(1)
        plb = tuple(
            ProviderAdjustment(
                provider_id=seg.provider_id,
                reason=pair.reason.code,
                reference=pair.reason.reference,
                amount=pair.amount,
                fiscal_period_end=seg.fiscal_period_end,
            )
            for seg in h.plb
            for pair in seg.adjustments
        )
        out.payments.append(
            Payment(
                trace_number=h.trace.reference,
                payer_ref=_payer_ref(h),
                amount=sign * h.payment.amount,
                method=h.payment.method,
                handling=h.payment.handling_code,
                payment_date=h.payment.payment_date,
                payer_name=h.payer.name if h.payer else None,
                control_number=h.key[1],
                interchange=h.key[0],
                payer_keys=remit_payer_keys(
                    h.trace.originator,
                    h.payer.identifier if h.payer else None,
                    [r.value for r in h.payer_refs if r.qualifier == "2U" and r.value],
                ),
                payee_ids=tuple(h.payee_ids),
                claims=tuple(claims[h.slot]),
                provider_adjustments=plb,
                held_claims=tuple(held[h.slot]),
            )
        )
    return out
