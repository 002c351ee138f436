"""Segment-level X12 reading and writing for the sandbox (837P, 270 and 276 in; 999, 277CA,
835, 271 and 277 out).

Tokenizing and envelope validation use ``rcm.x12`` (``tokenize``, ``check_envelope``).
The transaction readers and writers here are deliberately minimal, working on
``Segment`` lists; they are meant to be replaced by the typed models and builders of
``rcm.x12.models`` / ``rcm.x12.build`` once those cover every transaction the sandbox
speaks. The ``build_837p`` and ``build_270`` / ``build_276`` helpers produce test input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from rcm.sandbox.engine.model import (
    Adjustment,
    Benefit,
    Claim,
    ClaimAdjudication,
    PriorLineAdjudication,
    ServiceLine,
)
from rcm.x12.envelope import check_envelope
from rcm.x12.findings import Finding, FindingKind
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import tokenize

__all__ = [
    "BatchHeader",
    "EligibilityInquiry",
    "Interchange",
    "StatusInquiry",
    "build_270",
    "build_276",
    "build_837p",
    "read_270",
    "read_276",
    "read_837p",
    "write_271",
    "write_277",
    "write_277ca",
    "write_835",
    "write_999",
]

DELIMITERS = Delimiters(element="*", component=":", repetition="^", segment="~")


def _seg(sid: str, *elements: object) -> Segment:
    return Segment(sid, ["" if e is None else str(e) for e in elements])


def _amount(value: Decimal) -> str:
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def _d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def _parse_d8(value: str) -> date:
    return datetime.strptime(value[:8], "%Y%m%d").date()


# ---------------------------------------------------------------------- envelopes


@dataclass(frozen=True, slots=True)
class Interchange:
    """Who sends and receives an interchange, and its control numbers."""

    sender_id: str
    receiver_id: str
    control_number: int
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: str = "P"
    when: datetime = field(default_factory=datetime.now)


def envelope(
    interchange: Interchange, functional_id: str, version: str, sets: Sequence[list[Segment]]
) -> str:
    """ISA/GS ... GE/IEA around transaction sets whose ST/SE are already present."""
    when = interchange.when
    isa = _seg(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        interchange.sender_qualifier,
        interchange.sender_id.ljust(15)[:15],
        interchange.receiver_qualifier,
        interchange.receiver_id.ljust(15)[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        DELIMITERS.repetition,
        "00501",
        f"{interchange.control_number:09d}",
        "0",
        interchange.usage,
        DELIMITERS.component,
    )
    gs = _seg(
        "GS",
        functional_id,
        interchange.sender_id,
        interchange.receiver_id,
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        interchange.control_number,
        "X",
        version,
    )
    body = [isa, gs, *(seg for st in sets for seg in st)]
    body += [
        _seg("GE", len(sets), interchange.control_number),
        _seg("IEA", 1, f"{interchange.control_number:09d}"),
    ]
    return "\n".join(seg.to_x12(DELIMITERS) for seg in body) + "\n"


def _transaction(set_id: str, control: int, version: str, segments: list[Segment]) -> list[Segment]:
    st = _seg("ST", set_id, f"{control:04d}", version)
    return [st, *segments, _seg("SE", len(segments) + 2, f"{control:04d}")]


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class BatchHeader:
    """The envelope of a received batch, for the 999 and 277CA that answer it."""

    sender_id: str
    receiver_id: str
    isa_control: str
    group_control: str
    set_controls: tuple[str, ...]
    version: str


def _sets(segments: list[Segment]) -> list[list[Segment]]:
    sets: list[list[Segment]] = []
    current: list[Segment] | None = None
    for seg in segments:
        if seg.id == "ST":
            current = [seg]
        elif current is not None:
            current.append(seg)
            if seg.id == "SE":
                sets.append(current)
                current = None
    return sets


def batch_header(segments: list[Segment]) -> BatchHeader:
    isa = next(s for s in segments if s.id == "ISA")
    gs = next((s for s in segments if s.id == "GS"), _seg("GS"))
    return BatchHeader(
        sender_id=isa.get(6).strip(),
        receiver_id=isa.get(8).strip(),
        isa_control=isa.get(13),
        group_control=gs.get(6),
        set_controls=tuple(s.get(2) for s in segments if s.id == "ST"),
        version=gs.get(8),
    )


def read_837p(text: str, *, received: date) -> tuple[BatchHeader, list[Finding], list[tuple[str, Claim]]]:
    """Envelope findings and the claims of an 837P, each with the ST02 of its transaction set."""
    findings = [f for f in check_envelope(text) if f.severity == "error"]
    segments = tokenize(text)
    header = batch_header(segments)
    claims: list[tuple[str, Claim]] = []
    for st in _sets(segments):
        claims += [(st[0].get(2), claim) for claim in _claims_of(st, received)]
    return header, findings, claims


def _claims_of(st: list[Segment], received: date) -> list[Claim]:
    claims: list[Claim] = []
    billing: dict[str, str] = {}
    subscriber: dict[str, str] = {}
    claim: dict[str, object] | None = None
    lines: list[dict[str, object]] = []
    current_line: dict[str, object] | None = None
    hl_level = ""
    in_2320 = False
    entity = ""

    def flush() -> None:
        nonlocal claim, lines
        if claim is not None:
            claims.append(_make_claim(claim, lines, billing, subscriber, received))
        claim, lines = None, []

    for seg in st:
        sid = seg.id
        if sid == "HL":
            flush()
            hl_level = seg.get(3)
            if hl_level == "22":
                subscriber = {}
            in_2320 = False
            current_line = None
        elif sid == "PRV" and hl_level == "20":
            billing["taxonomy"] = seg.get(3)
        elif sid == "PRV" and seg.get(1) == "PE" and claim is not None:
            claim["rendering_taxonomy"] = seg.get(3)
        elif sid == "SBR" and claim is None:
            subscriber["responsibility"] = seg.get(1)
        elif sid == "SBR" and claim is not None:
            in_2320 = True
        elif sid == "NM1":
            entity = seg.get(1)
            if entity == "85":
                billing.update(npi=seg.get(9), entity_type=seg.get(2), name=seg.get(3))
            elif entity == "IL" and not in_2320 and claim is None:
                subscriber.update(member_id=seg.get(9), last=seg.get(3), first=seg.get(4))
            elif entity == "QC" and claim is None:
                subscriber.update(patient_last=seg.get(3), patient_first=seg.get(4))
            elif entity == "PR" and not in_2320 and claim is None:
                subscriber["payer_id"] = seg.get(9)
            elif entity == "82" and claim is not None and current_line is None:
                claim["rendering_npi"] = seg.get(9)
        elif sid == "CLM":
            flush()
            pos = seg.get(5, 1)
            claim = {
                "claim_id": seg.get(1),
                "charge": seg.get(2),
                "pos": pos,
                "frequency": seg.get(5, 3) or "1",
            }
            in_2320 = False
        elif sid == "REF" and claim is not None and current_line is None:
            if seg.get(1) == "G1":
                claim["prior_auth"] = seg.get(2)
            elif seg.get(1) == "F8":
                claim["original_icn"] = seg.get(2)
        elif sid == "HI" and claim is not None:
            claim["diagnoses"] = tuple(e.split(":")[1] for e in seg.elements if ":" in e)
        elif sid == "AMT" and seg.get(1) == "D" and claim is not None and in_2320:
            claim["prior_paid"] = seg.get(2)
        elif sid == "LX":
            current_line = {"number": int(seg.get(1) or len(lines) + 1), "cas": []}
            lines.append(current_line)
        elif sid == "SV1" and current_line is not None:
            composite = seg.get(1).split(":")
            current_line.update(
                code=composite[1] if len(composite) > 1 else "",
                modifiers=tuple(m for m in composite[2:6] if m),
                charge=seg.get(2),
                units=seg.get(4) or "1",
                pos=seg.get(5),
            )
        elif sid == "DTP" and seg.get(1) == "472" and current_line is not None:
            current_line["date"] = seg.get(3)
        elif sid == "SVD" and current_line is not None:
            current_line.update(prior_payer=seg.get(1), prior_paid=seg.get(2))
        elif sid == "CAS" and current_line is not None and "prior_payer" in current_line:
            cas = current_line["cas"]
            assert isinstance(cas, list)
            elements = seg.elements
            for i in range(1, len(elements), 3):
                if elements[i] and i + 1 < len(elements):
                    cas.append(Adjustment(seg.get(1), elements[i], Decimal(elements[i + 1])))
    flush()
    return claims


def _make_claim(
    claim: dict[str, object],
    lines: list[dict[str, object]],
    billing: dict[str, str],
    subscriber: dict[str, str],
    received: date,
) -> Claim:
    pos = str(claim["pos"])
    service_lines = []
    for line in lines:
        prior = None
        if "prior_payer" in line:
            cas = line["cas"]
            assert isinstance(cas, list)
            prior = PriorLineAdjudication(
                str(line["prior_payer"]), Decimal(str(line["prior_paid"])), tuple(cas)
            )
        raw_date = str(line.get("date", ""))
        service_lines.append(
            ServiceLine(
                number=int(str(line["number"])),
                code=str(line.get("code", "")),
                modifiers=tuple(line.get("modifiers", ())),  # type: ignore[arg-type]
                charge=Decimal(str(line.get("charge", "0"))),
                units=Decimal(str(line.get("units", "1"))),
                service_date=_parse_d8(raw_date.split("-")[0]) if raw_date else received,
                place_of_service=str(line.get("pos") or pos),
                prior=prior,
            )
        )
    prior_paid = claim.get("prior_paid")
    return Claim(
        claim_id=str(claim["claim_id"]),
        payer_id=subscriber.get("payer_id", ""),
        member_id=subscriber.get("member_id", ""),
        patient_first_name=subscriber.get("patient_first", subscriber.get("first", "")),
        patient_last_name=subscriber.get("patient_last", subscriber.get("last", "")),
        total_charge=Decimal(str(claim["charge"])),
        place_of_service=pos,
        frequency_code=str(claim["frequency"]),
        billing_npi=billing.get("npi", ""),
        billing_entity_type=billing.get("entity_type", "2"),
        billing_name=billing.get("name", ""),
        billing_taxonomy=billing.get("taxonomy"),
        lines=tuple(service_lines),
        received=received,
        rendering_npi=_opt(claim.get("rendering_npi")),
        rendering_taxonomy=_opt(claim.get("rendering_taxonomy")),
        prior_auth=_opt(claim.get("prior_auth")),
        original_icn=_opt(claim.get("original_icn")),
        diagnoses=tuple(claim.get("diagnoses", ())),  # type: ignore[arg-type]
        responsibility=subscriber.get("responsibility", "P"),
        prior_paid=Decimal(str(prior_paid)) if prior_paid else None,
    )


def _opt(value: object) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True, slots=True)
class EligibilityInquiry:
    payer_id: str
    provider_npi: str
    provider_name: str
    member_id: str
    first_name: str
    last_name: str
    birth_date: date | None
    service_types: tuple[str, ...]
    trace: str
    service_date: date | None


def read_270(text: str) -> EligibilityInquiry:
    segments = tokenize(text)
    values: dict[str, str] = {}
    service_types: list[str] = []
    for seg in segments:
        if seg.id == "NM1" and seg.get(1) == "PR":
            values["payer_id"] = seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "1P":
            values.update(npi=seg.get(9), provider=seg.get(3))
        elif seg.id == "NM1" and seg.get(1) == "IL":
            values.update(member_id=seg.get(9), last=seg.get(3), first=seg.get(4))
        elif seg.id == "DMG":
            values["dob"] = seg.get(2)
        elif seg.id == "TRN" and "trace" not in values:
            values["trace"] = seg.get(2)
        elif seg.id == "DTP" and seg.get(1) == "291":
            values["dos"] = seg.get(3)
        elif seg.id == "EQ":
            service_types += [t for t in seg.get(1).split(DELIMITERS.repetition) if t]
    return EligibilityInquiry(
        payer_id=values.get("payer_id", ""),
        provider_npi=values.get("npi", ""),
        provider_name=values.get("provider", ""),
        member_id=values.get("member_id", ""),
        first_name=values.get("first", ""),
        last_name=values.get("last", ""),
        birth_date=_parse_d8(values["dob"]) if values.get("dob") else None,
        service_types=tuple(service_types) or ("30",),
        trace=values.get("trace", ""),
        service_date=_parse_d8(values["dos"].split("-")[0]) if values.get("dos") else None,
    )


@dataclass(frozen=True, slots=True)
class StatusInquiry:
    payer_id: str
    member_id: str
    claim_id: str
    icn: str | None
    trace: str


def read_276(text: str) -> StatusInquiry:
    values: dict[str, str] = {}
    for seg in tokenize(text):
        if seg.id == "NM1" and seg.get(1) == "PR":
            values["payer_id"] = seg.get(9)
        elif seg.id == "NM1" and seg.get(1) == "IL":
            values["member_id"] = seg.get(9)
        elif seg.id == "TRN":
            values["trace"] = seg.get(2)
        elif seg.id == "REF" and seg.get(1) == "EJ":
            values["claim_id"] = seg.get(2)
        elif seg.id == "REF" and seg.get(1) == "1K":
            values["icn"] = seg.get(2)
    return StatusInquiry(
        payer_id=values.get("payer_id", ""),
        member_id=values.get("member_id", ""),
        claim_id=values.get("claim_id", ""),
        icn=values.get("icn"),
        trace=values.get("trace", ""),
    )


# ---------------------------------------------------------------------- writing: acknowledgements


def write_999(header: BatchHeader, findings: Iterable[Finding], interchange: Interchange) -> str:
    """A 999 for one received functional group: each set accepted or rejected by its findings."""
    findings = list(findings)
    body: list[Segment] = [_seg("AK1", "HC", header.group_control, header.version)]
    accepted = 0
    for control in header.set_controls:
        body.append(_seg("AK2", "837", control, header.version))
        own = [f for f in findings if f.transaction == control]
        for finding in own:
            if finding.kind == FindingKind.SEGMENT:
                body.append(
                    _seg("IK3", finding.segment_id, finding.set_position, finding.loop_id, finding.code)
                )
        set_codes = [f.code for f in own if f.kind == FindingKind.TRANSACTION]
        if own:
            body.append(_seg("IK5", "R", *(set_codes[:5] or ["5"])))
        else:
            body.append(_seg("IK5", "A"))
            accepted += 1
    group_codes = [f.code for f in findings if f.kind == FindingKind.GROUP]
    total = len(header.set_controls)
    status = "A" if accepted == total and not group_codes else ("P" if accepted else "R")
    body.append(_seg("AK9", status, total, total, accepted, *group_codes[:5]))
    st = _transaction("999", 1, "005010X231A1", body)
    return envelope(interchange, "FA", "005010X231A1", [st])


@dataclass(frozen=True, slots=True)
class ClaimAck:
    claim: Claim
    accepted: bool
    icn: str | None = None
    #: STC01 category:status (A2:20 accepted for processing; A3:... rejected).
    status: str = "A2:20"


def write_277ca(
    acks: Sequence[ClaimAck], *, payer_id: str, payer_name: str, submitter_id: str, interchange: Interchange
) -> str:
    """A 277CA for the claims of one batch and payer (information source / receiver / provider / patient)."""
    today = _d8(interchange.when.date())
    accepted = [a for a in acks if a.accepted]
    rejected = [a for a in acks if not a.accepted]
    body: list[Segment] = [
        _seg(
            "BHT",
            "0085",
            "08",
            f"CA{interchange.control_number}",
            today,
            interchange.when.strftime("%H%M"),
            "TH",
        ),
        _seg("HL", 1, "", 20, 1),
        _seg("NM1", "PR", 2, payer_name, "", "", "", "", "PI", payer_id),
        _seg("TRN", 1, f"CA{interchange.control_number}"),
        _seg("DTP", "050", "D8", today),
        _seg("DTP", "009", "D8", today),
        _seg("HL", 2, 1, 21, 1),
        _seg("NM1", "41", 2, "SUBMITTER", "", "", "", "", "46", submitter_id),
        _seg("TRN", 2, f"B{interchange.control_number}"),
        _seg("STC", "A1:19:PR", today, "WQ", _amount(sum((a.claim.total_charge for a in acks), Decimal(0)))),
        _seg("QTY", "90", len(accepted)),
        _seg("QTY", "AA", len(rejected)),
        _seg("AMT", "YU", _amount(sum((a.claim.total_charge for a in accepted), Decimal(0)))),
        _seg("AMT", "YY", _amount(sum((a.claim.total_charge for a in rejected), Decimal(0)))),
    ]
    hl = 2
    by_provider: dict[str, list[ClaimAck]] = {}
    for ack in acks:
        by_provider.setdefault(ack.claim.billing_npi, []).append(ack)
    for npi, provider_acks in by_provider.items():
        hl += 1
        provider_hl = hl
        body += [
            _seg("HL", provider_hl, 2, 19, 1),
            _seg(
                "NM1", "85", 2, provider_acks[0].claim.billing_name or "PROVIDER", "", "", "", "", "XX", npi
            ),
            _seg("TRN", 1, f"P{interchange.control_number}{provider_hl}"),
        ]
        for ack in provider_acks:
            hl += 1
            claim = ack.claim
            body += [
                _seg("HL", hl, provider_hl, "PT"),
                _seg(
                    "NM1",
                    "QC",
                    1,
                    claim.patient_last_name,
                    claim.patient_first_name,
                    "",
                    "",
                    "",
                    "MI",
                    claim.member_id,
                ),
                _seg("TRN", 2, claim.claim_id),
                _seg(
                    "STC",
                    ack.status + (":PR" if ack.accepted else ""),
                    today,
                    "WQ" if ack.accepted else "U",
                    _amount(claim.total_charge),
                ),
            ]
            if ack.icn:
                body.append(_seg("REF", "1K", ack.icn))
            body.append(
                _seg("DTP", "472", "RD8", f"{_d8(claim.first_service_date)}-{_d8(claim.last_service_date)}")
            )
    st = _transaction("277", 1, "005010X214", body)
    return envelope(interchange, "HN", "005010X214", [st])


# ---------------------------------------------------------------------- writing: 835


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment: reason (WO overpayment recovery, FB forwarding balance...), reference, amount.

    A positive amount reduces the payment, a negative one increases it.
    """

    reason: str
    reference: str
    amount: Decimal


def write_835(
    claims: Sequence[ClaimAdjudication],
    *,
    payer_id: str,
    payer_name: str,
    payee_npi: str,
    payee_name: str,
    claim_id_max_length: int | None,
    interchange: Interchange,
    check_number: str,
    adjustments: Sequence[ProviderAdjustment] = (),
) -> str:
    """An 835 paying ``claims`` to one payee; BPR02 = claim payments less PLB adjustments."""
    today = interchange.when.date()
    total = sum((c.paid for c in claims), Decimal(0)) - sum((a.amount for a in adjustments), Decimal(0))
    if total > 0:
        bpr = _seg(
            "BPR",
            "I",
            _amount(total),
            "C",
            "ACH",
            "CCP",
            "01",
            "999999999",
            "DA",
            "123456",
            "1" + payer_id[:9].rjust(9, "0"),
            "",
            "01",
            "999999999",
            "DA",
            "654321",
            _d8(today),
        )
    else:
        bpr = _seg(
            "BPR", "H", _amount(total), "C", "NON", "", "", "", "", "", "", "", "", "", "", "", _d8(today)
        )
    body: list[Segment] = [
        bpr,
        _seg("TRN", 1, check_number, "1" + payer_id[:9].rjust(9, "0")),
        _seg("DTM", "405", _d8(today)),
        _seg("N1", "PR", payer_name),
        _seg("N3", "100 SANDBOX WAY"),
        _seg("N4", "TESTVILLE", "CA", "90001"),
        _seg("PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"),
        _seg("N1", "PE", payee_name or "PAYEE", "XX", payee_npi),
    ]
    if claims:
        body.append(_seg("LX", 1))
    for adj in claims:
        claim = adj.claim
        clp01 = claim.claim_id[:claim_id_max_length] if claim_id_max_length else claim.claim_id
        body.append(
            _seg(
                "CLP",
                clp01,
                adj.status,
                _amount(adj.charge),
                _amount(adj.paid),
                _amount(adj.patient_responsibility) if adj.patient_responsibility else "",
                "12",
                adj.icn,
                claim.place_of_service,
                claim.frequency_code if adj.status != "22" else "1",
            )
        )
        for cas in adj.claim_adjustments:
            body.append(_seg("CAS", cas.group, cas.reason, _amount(cas.amount)))
        body.append(
            _seg(
                "NM1",
                "QC",
                1,
                claim.patient_last_name,
                claim.patient_first_name,
                "",
                "",
                "",
                "MI",
                claim.member_id,
            )
        )
        if adj.crossover_payer:
            body.append(
                _seg("NM1", "TT", 2, adj.crossover_payer[1], "", "", "", "", "PI", adj.crossover_payer[0])
            )
        if claim.rendering_npi:
            body.append(_seg("NM1", "82", 1, "RENDERING", "", "", "", "", "XX", claim.rendering_npi))
        if adj.claim_remarks:
            body.append(_seg("MOA", "", "", *adj.claim_remarks[:5]))
        if claim_id_max_length and len(claim.claim_id) > claim_id_max_length:
            body.append(_seg("REF", "EA", claim.claim_id))
        body.append(_seg("DTM", "232", _d8(claim.first_service_date)))
        body.append(_seg("DTM", "233", _d8(claim.last_service_date)))
        for line in adj.lines:
            svc = ":".join(["HC", line.line.code, *line.line.modifiers])
            body.append(
                _seg("SVC", svc, _amount(line.line.charge), _amount(line.paid), "", _amount(line.line.units))
            )
            body.append(_seg("DTM", "472", _d8(line.line.service_date)))
            for group in dict.fromkeys(a.group for a in line.adjustments):
                elements: list[object] = [group]
                for cas in [a for a in line.adjustments if a.group == group][:6]:
                    elements += [cas.reason, _amount(cas.amount), ""]
                body.append(_seg("CAS", *elements))
            body.append(_seg("REF", "6R", str(line.line.number)))
            if line.allowed:
                body.append(_seg("AMT", "B6", _amount(line.allowed)))
            for remark in line.remarks:
                body.append(_seg("LQ", "HE", remark))
    if adjustments:
        plb: list[object] = [payee_npi, f"{today.year}1231"]
        for padj in adjustments[:6]:
            plb += [f"{padj.reason}:{padj.reference}", _amount(padj.amount)]
        body.append(_seg("PLB", *plb))
    st = _transaction("835", 1, "005010X221A1", body)
    return envelope(interchange, "HP", "005010X221A1", [st])


# ---------------------------------------------------------------------- writing: 271 and 277


def write_271(
    inquiry: EligibilityInquiry,
    *,
    payer_name: str,
    interchange: Interchange,
    benefits: Sequence[Benefit] = (),
    rejects: Sequence[tuple[str, str, str]] = (),
    source_rejects: Sequence[tuple[str, str]] = (),
    member: tuple[str, str, date | None, str] | None = None,
    plan_dates: tuple[date, date | None] | None = None,
    group_number: str | None = None,
) -> str:
    """A 271 answering one 270. ``rejects`` are (reason, follow-up, loop) AAA entries at 2100C;
    ``source_rejects`` (reason, follow-up) at 2100A (the payer could not answer)."""
    now = interchange.when
    body: list[Segment] = [
        _seg("BHT", "0022", "11", inquiry.trace or "0", _d8(now.date()), now.strftime("%H%M")),
        _seg("HL", 1, "", 20, 1),
        _seg("NM1", "PR", 2, payer_name, "", "", "", "", "PI", inquiry.payer_id),
    ]
    for reason, follow_up in source_rejects:
        body.append(_seg("AAA", "N", "", reason, follow_up))
    body += [
        _seg("HL", 2, 1, 21, 1),
        _seg("NM1", "1P", 2, inquiry.provider_name or "PROVIDER", "", "", "", "", "XX", inquiry.provider_npi),
        _seg("HL", 3, 2, 22, 0),
        _seg("TRN", 2, inquiry.trace or "0", "9SANDBOXCH"),
    ]
    if member is not None:
        last, first, dob, gender = member
        body.append(_seg("NM1", "IL", 1, last, first, "", "", "", "MI", inquiry.member_id))
    else:
        body.append(
            _seg("NM1", "IL", 1, inquiry.last_name, inquiry.first_name, "", "", "", "MI", inquiry.member_id)
        )
    if group_number:
        body.append(_seg("REF", "6P", group_number))
    for reason, follow_up, _loop in rejects:
        body.append(_seg("AAA", "N", "", reason, follow_up))
    if member is not None:
        _, _, dob, gender = member
        if dob:
            body.append(_seg("DMG", "D8", _d8(dob), gender))
    if plan_dates is not None:
        start, end = plan_dates
        value = f"{_d8(start)}-{_d8(end)}" if end else _d8(start)
        body.append(_seg("DTP", "346" if end is None else "291", "RD8" if end else "D8", value))
    for benefit in benefits:
        eb: list[object] = [
            benefit.code,
            "IND",
            benefit.service_type,
            benefit.insurance_type,
            benefit.plan_name,
            benefit.period,
            _amount(benefit.amount) if benefit.amount is not None else "",
            str(benefit.percent.normalize()) if benefit.percent is not None else "",
            benefit.quantity_qualifier,
            benefit.quantity if benefit.quantity is not None else "",
            "Y" if benefit.auth_required else ("N" if benefit.auth_required is False else ""),
        ]
        body.append(_seg("EB", *eb))
        if benefit.other_payer is not None:
            other_id, other_name = benefit.other_payer
            body += [
                _seg("LS", "2120"),
                _seg("NM1", "PR", 2, other_name, "", "", "", "", "PI", other_id),
                _seg("LE", "2120"),
            ]
    st = _transaction("271", 1, "005010X279A1", body)
    return envelope(interchange, "HB", "005010X279A1", [st])


def write_277(
    inquiry: StatusInquiry,
    *,
    payer_name: str,
    interchange: Interchange,
    status: str,
    charge: Decimal | None,
    paid: Decimal | None,
    icn: str | None,
    service_date: date | None,
) -> str:
    """A 277 (005010X212) answering one 276 with one claim status (STC01 like F1:65)."""
    today = _d8(interchange.when.date())
    body: list[Segment] = [
        _seg("BHT", "0010", "08", inquiry.trace or "0", today, interchange.when.strftime("%H%M"), "DG"),
        _seg("HL", 1, "", 20, 1),
        _seg("NM1", "PR", 2, payer_name, "", "", "", "", "PI", inquiry.payer_id),
        _seg("HL", 2, 1, 21, 1),
        _seg("NM1", "41", 2, "SUBMITTER", "", "", "", "", "46", "SANDBOX"),
        _seg("HL", 3, 2, 19, 1),
        _seg("NM1", "1P", 2, "PROVIDER", "", "", "", "", "XX", "0000000000"),
        _seg("HL", 4, 3, 22, 0),
        _seg("NM1", "IL", 1, "MEMBER", "", "", "", "", "MI", inquiry.member_id),
        _seg("TRN", 2, inquiry.trace or "0"),
        _seg(
            "STC",
            status,
            today,
            "",
            _amount(charge) if charge is not None else "",
            _amount(paid) if paid is not None else "",
        ),
    ]
    if icn:
        body.append(_seg("REF", "1K", icn))
    if inquiry.claim_id:
        body.append(_seg("REF", "EJ", inquiry.claim_id))
    if service_date is not None:
        body.append(_seg("DTP", "472", "D8", _d8(service_date)))
    st = _transaction("277", 1, "005010X212", body)
    return envelope(interchange, "HN", "005010X212", [st])


# ---------------------------------------------------------------------- test input builders


def build_837p(
    claims: Sequence[Claim],
    *,
    interchange: Interchange,
    submitter_name: str = "SANDBOX SUBMITTER",
    payer_name: str = "PAYER",
) -> str:
    """An 837P (005010X222A1) carrying ``claims``: one billing provider and subscriber HL per claim."""
    body: list[Segment] = [
        _seg(
            "BHT",
            "0019",
            "00",
            f"B{interchange.control_number}",
            _d8(interchange.when.date()),
            interchange.when.strftime("%H%M"),
            "CH",
        ),
        _seg("NM1", "41", 2, submitter_name, "", "", "", "", "46", interchange.sender_id),
        _seg("PER", "IC", "BILLING OFFICE", "TE", "8005550199"),
        _seg("NM1", "40", 2, "SANDBOX CLEARINGHOUSE", "", "", "", "", "46", interchange.receiver_id),
    ]
    hl = 0
    for claim in claims:
        hl += 1
        billing_hl = hl
        body += [_seg("HL", billing_hl, "", 20, 1)]
        if claim.billing_taxonomy:
            body.append(_seg("PRV", "BI", "PXC", claim.billing_taxonomy))
        body += [
            _seg(
                "NM1",
                "85",
                claim.billing_entity_type,
                claim.billing_name or "BILLING PRACTICE",
                "" if claim.billing_entity_type == "2" else "PROVIDER",
                "",
                "",
                "",
                "XX",
                claim.billing_npi,
            ),
            _seg("N3", "1 MAIN ST"),
            _seg("N4", "TESTVILLE", "CA", "900010000"),
            _seg("REF", "EI", "123456789"),
        ]
        hl += 1
        body += [
            _seg("HL", hl, billing_hl, 22, 0),
            _seg("SBR", claim.responsibility, 18, "", "", "", "", "", "", "CI"),
            _seg(
                "NM1",
                "IL",
                1,
                claim.patient_last_name,
                claim.patient_first_name,
                "",
                "",
                "",
                "MI",
                claim.member_id,
            ),
            _seg("N3", "2 ELM ST"),
            _seg("N4", "TESTVILLE", "CA", "900010000"),
            _seg("DMG", "D8", "19800101", "U"),
            _seg("NM1", "PR", 2, payer_name, "", "", "", "", "PI", claim.payer_id),
        ]
        clm05 = f"{claim.place_of_service}:B:{claim.frequency_code}"
        body.append(
            _seg("CLM", claim.claim_id, _amount(claim.total_charge), "", "", clm05, "Y", "A", "Y", "Y")
        )
        if claim.original_icn:
            body.append(_seg("REF", "F8", claim.original_icn))
        if claim.prior_auth:
            body.append(_seg("REF", "G1", claim.prior_auth))
        diagnoses = claim.diagnoses or ("F329",)
        body.append(_seg("HI", *[f"{'ABK' if i == 0 else 'ABF'}:{dx}" for i, dx in enumerate(diagnoses)]))
        if claim.rendering_npi:
            body.append(_seg("NM1", "82", 1, "CLINICIAN", "RENDERING", "", "", "", "XX", claim.rendering_npi))
            if claim.rendering_taxonomy:
                body.append(_seg("PRV", "PE", "PXC", claim.rendering_taxonomy))
        priors = {line.prior.payer_id for line in claim.lines if line.prior is not None}
        for prior_payer in sorted(priors):
            body += [
                _seg("SBR", "P", 18, "", "", "", "", "", "", "CI"),
                _seg(
                    "AMT",
                    "D",
                    _amount(
                        claim.prior_paid
                        or sum((ln.prior.paid for ln in claim.lines if ln.prior is not None), Decimal(0))
                    ),
                ),
                _seg("OI", "", "", "Y", "", "", "Y"),
                _seg(
                    "NM1",
                    "IL",
                    1,
                    claim.patient_last_name,
                    claim.patient_first_name,
                    "",
                    "",
                    "",
                    "MI",
                    claim.member_id,
                ),
                _seg("NM1", "PR", 2, "PRIMARY PAYER", "", "", "", "", "PI", prior_payer),
            ]
        for line in claim.lines:
            composite = ":".join(["HC", line.code, *line.modifiers])
            body += [
                _seg("LX", line.number),
                _seg(
                    "SV1",
                    composite,
                    _amount(line.charge),
                    "UN",
                    _amount(line.units),
                    line.place_of_service,
                    "",
                    "1",
                ),
                _seg("DTP", "472", "D8", _d8(line.service_date)),
            ]
            if line.prior is not None:
                body.append(
                    _seg(
                        "SVD",
                        line.prior.payer_id,
                        _amount(line.prior.paid),
                        composite,
                        "",
                        _amount(line.units),
                    )
                )
                for group in dict.fromkeys(a.group for a in line.prior.adjustments):
                    elements: list[object] = [group]
                    for cas in [a for a in line.prior.adjustments if a.group == group]:
                        elements += [cas.reason, _amount(cas.amount), ""]
                    body.append(_seg("CAS", *elements))
                body.append(_seg("DTP", "573", "D8", _d8(line.service_date)))
    st = _transaction("837", 1, "005010X222A1", body)
    return envelope(interchange, "HC", "005010X222A1", [st])


def build_270(
    *,
    payer_id: str,
    member_id: str,
    first_name: str,
    last_name: str,
    birth_date: date,
    service_types: Sequence[str],
    interchange: Interchange,
    provider_npi: str = "1234567893",
    trace: str = "TRACE1",
) -> str:
    body = [
        _seg("BHT", "0022", "13", trace, _d8(interchange.when.date()), interchange.when.strftime("%H%M")),
        _seg("HL", 1, "", 20, 1),
        _seg("NM1", "PR", 2, "PAYER", "", "", "", "", "PI", payer_id),
        _seg("HL", 2, 1, 21, 1),
        _seg("NM1", "1P", 2, "SANDBOX PRACTICE", "", "", "", "", "XX", provider_npi),
        _seg("HL", 3, 2, 22, 0),
        _seg("TRN", 1, trace, "9SANDBOXPR"),
        _seg("NM1", "IL", 1, last_name, first_name, "", "", "", "MI", member_id),
        _seg("DMG", "D8", _d8(birth_date)),
        _seg("DTP", "291", "D8", _d8(interchange.when.date())),
        _seg("EQ", DELIMITERS.repetition.join(service_types)),
    ]
    st = _transaction("270", 1, "005010X279A1", body)
    return envelope(interchange, "HS", "005010X279A1", [st])


def build_276(
    *,
    payer_id: str,
    member_id: str,
    claim_id: str,
    charge: Decimal,
    service_date: date,
    interchange: Interchange,
) -> str:
    body = [
        _seg("BHT", "0010", "13", "STATUS1", _d8(interchange.when.date()), interchange.when.strftime("%H%M")),
        _seg("HL", 1, "", 20, 1),
        _seg("NM1", "PR", 2, "PAYER", "", "", "", "", "PI", payer_id),
        _seg("HL", 2, 1, 21, 1),
        _seg("NM1", "41", 2, "SANDBOX PRACTICE", "", "", "", "", "46", interchange.sender_id),
        _seg("HL", 3, 2, 19, 1),
        _seg("NM1", "1P", 2, "SANDBOX PRACTICE", "", "", "", "", "XX", "1234567893"),
        _seg("HL", 4, 3, 22, 0),
        _seg("DMG", "D8", "19800101"),
        _seg("NM1", "IL", 1, "MEMBER", "", "", "", "", "MI", member_id),
        _seg("TRN", 1, f"T{claim_id}"),
        _seg("REF", "EJ", claim_id),
        _seg("AMT", "T3", _amount(charge)),
        _seg("DTP", "472", "RD8", f"{_d8(service_date)}-{_d8(service_date)}"),
    ]
    st = _transaction("276", 1, "005010X212", body)
    return envelope(interchange, "HR", "005010X212", [st])
