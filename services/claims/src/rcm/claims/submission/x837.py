"""Stored claims as an 837P (005010X222A1) built with the typed models of ``rcm.x12``.

CLM01 is the claim key (17 characters); every line carries REF*6R with its line key;
replacements and voids carry REF*F8 with the payer's claim number; COB claims carry the
prior payer's adjudication in 2320/2330A/2330B and 2430 per line (2320 MOA when the prior payer
reported outpatient adjudication; 2330B REF*G1 and REF*F8 with its prior authorization and claim
control number). A service rendered away from
the billing address names its site in 2310C; an inpatient visit carries its admission date
(DTP*435); SBR09 is the payer's claim filing indicator setting, else its type's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from rcm.claims.domain import ClaimDraft, CoveragePriority
from rcm.claims.domain.claim import ClaimProvider
from rcm.claims.domain.cob import (
    LineAdjustment,
    OutpatientAdjudication,
    PriorAdjudication,
    PriorLine,
    prior_line_of_each,
)
from rcm.claims.domain.coverage import patient_is_the_subscriber
from rcm.claims.domain.payer_rules import CLAIM_FILING_INDICATORS
from rcm.x12.build import build
from rcm.x12.errors import X12Error
from rcm.x12.models.claim_837p import (
    BeginningOfTransaction,
    BillingProvider,
    BillingProviderLevel,
    Claim,
    Claim837P,
    ClaimFacility,
    ClaimInformation,
    LineAdjudication,
    LineAdjudicationInfo,
    LineRenderingProvider,
    OtherInsurance,
    OtherPayer,
    OtherSubscriber,
    OtherSubscriberName,
    PatientInformation,
    PatientLevel,
    PatientName,
    Payer,
    PaymentAdvice,
    PayToAddress,
    ProfessionalService,
    Receiver,
    RenderingProvider,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
    SubscriberInformation,
    SubscriberLevel,
    SupervisingProvider,
)
from rcm.x12.models.common import (
    Address,
    Adjustment,
    AdjustmentGroup,
    Amount,
    Communication,
    Contact,
    DatePeriod,
    Demographics,
    EntityName,
    GeoLocation,
    HealthCode,
    HealthCodes,
    ProcedureCode,
    ProviderTaxonomy,
    Reference,
)
from rcm.x12.text import x12_text

__all__ = ["ClaimForBatch", "Envelope", "build_837p", "claim_837p", "payer_key_for"]

_RESPONSIBILITY = {
    CoveragePriority.PRIMARY: "P",
    CoveragePriority.SECONDARY: "S",
    CoveragePriority.TERTIARY: "T",
}
_RELATIONSHIP = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
_FILING = {
    "commercial": "CI",
    "medicare": "MB",
    "medicare_advantage": "16",
    "medicaid": "MC",
    "medicaid_mco": "HM",
    "tricare": "CH",
    "eap": "CI",
    "other": "ZZ",
}
_MEDICARE = frozenset({"MA", "MB"})
"""Claim filing indicators of Medicare Part A and B (not Medicare Advantage, 16)."""
_MAX_DIAGNOSES = 12
Body = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimForBatch:
    """A claim with the projections its 837P needs (patient, coverage and payer bodies; the prior
    payer's body for a COB claim, whose type gives the 2320 SBR09, and the coverage it adjudicated)."""

    draft: ClaimDraft
    patient: Body
    coverage: Body
    payer: Body
    prior: PriorAdjudication | None = None
    prior_payer: Body | None = None
    prior_coverage: Body | None = None
    """The coverage the prior payer adjudicated (its subscriber is the 2330A other subscriber)."""
    earlier_payers: Mapping[str, Body] = field(default_factory=dict)
    """The payers before the prior one (the prior adjudication's ``earlier``), by payer id."""
    earlier_coverages: Mapping[str, Body] = field(default_factory=dict)
    """The coverages those payers adjudicated, by coverage id."""

    def payers_before(self) -> list[tuple[PriorAdjudication, Body | None, Body | None]]:
        """Each payer before the claim's, first payer first: its adjudication, payer and coverage."""
        if self.prior is None:
            return []
        found: list[tuple[PriorAdjudication, Body | None, Body | None]] = [
            (
                adjudication,
                self.earlier_payers.get(adjudication.payer_id),
                self.earlier_coverages.get(adjudication.coverage_id or ""),
            )
            for adjudication in self.prior.earlier
        ]
        return [*found, (self.prior, self.prior_payer, self.prior_coverage)]


@dataclass(frozen=True, slots=True)
class Envelope:
    submitter_id: str
    submitter_name: str
    submitter_phone: str
    receiver_id: str
    receiver_name: str
    usage: str = "P"
    clearinghouse: str | None = None
    """The clearinghouse's name: a payer known to it under another id (the payer's
    ``clearinghouse_payer_ids``) is named by that id in 2010BB, 2330B and 2430."""


def payer_key_for(payer: Body | None, clearinghouse: str | None) -> str | None:
    """The id the clearinghouse routes a payer by: its own for this clearinghouse, else the payer's
    electronic payer id (None when the payer's record has neither)."""
    body = payer or {}
    own = (body.get("clearinghouse_payer_ids") or {}).get(clearinghouse) if clearinghouse else None
    return own or body.get("electronic_payer_id") or None


# Maximum lengths of the 005010X222A1 elements written from free text.
_NM103, _NM104, _NM105, _NM107, _N301, _N401, _PER02 = 60, 35, 25, 10, 55, 30, 60


def _org(code: str, name: str, qualifier: str, identifier: str) -> EntityName:
    return EntityName(
        entity_code=code,
        entity_type="2",
        last_or_organization=x12_text(name, _NM103),
        id_qualifier=qualifier,
        identifier=identifier,
    )


def _person(code: str, name: Body, qualifier: str | None = None, identifier: str | None = None) -> EntityName:
    """NM1 of a person (NM102 1): last, first, middle and suffix as X12 text."""
    last = x12_text(name.get("last"), _NM103)
    if last is None and (name.get("last") or "").strip():
        raise X12Error(f"NM1*{code}: the last name has no character X12 can carry")
    return EntityName(
        entity_code=code,
        entity_type="1",
        last_or_organization=last,
        first=x12_text(name.get("first"), _NM104),
        middle=x12_text(name.get("middle"), _NM105),
        suffix=x12_text(name.get("suffix"), _NM107),
        id_qualifier=qualifier,
        identifier=identifier,
    )


def _address(value: Body | None) -> tuple[Address | None, GeoLocation | None]:
    if not value:
        return None, None
    return (
        Address(line1=x12_text(value["line1"], _N301) or "", line2=x12_text(value.get("line2"), _N301)),
        GeoLocation(
            city=x12_text(value["city"], _N401), state=value["state"], postal_code=value["postal_code"]
        ),
    )


def _cas(adjustments: Sequence[LineAdjustment]) -> list[AdjustmentGroup]:
    groups: dict[str, list[Adjustment]] = defaultdict(list)
    for a in adjustments:
        groups[a.group].append(
            Adjustment(
                reason=a.carc,
                amount=a.amount,
                quantity=Decimal(a.quantity) if a.quantity is not None else None,
            )
        )
    out = []
    for group, items in groups.items():
        for start in range(0, len(items), 6):
            out.append(AdjustmentGroup(group=group, adjustments=items[start : start + 6]))
    return out


def _filing_indicator(payer: Body | None) -> str:
    """SBR09 of a payer (the claim's or a prior one): the claim filing indicator its rules set
    (a Medicaid managed-care plan may want HM or MC), else its type's (CI when unknown)."""
    body = payer or {}
    setting = (body.get("rules") or {}).get("claim_filing_indicator")
    if setting is not None:
        if setting not in CLAIM_FILING_INDICATORS:
            raise X12Error(
                f"payer {body.get('payer_id')}: {setting!r} is not an SBR09 claim filing indicator"
            )
        return str(setting)
    payer_type = body.get("payer_type")
    return _FILING.get(payer_type, "CI") if payer_type else "CI"


def _other_subscriber(
    prior: PriorAdjudication,
    item: ClaimForBatch,
    payer: Body | None,
    coverage: Body | None,
    *,
    lines_adjudicated: bool,
    clearinghouse: str | None,
) -> OtherSubscriber:
    """2320/2330A/2330B of the prior payer. Its remaining patient liability (AMT*EAF) is
    reported here only when no line carries the prior payer's line adjudication (2430):
    the guide wants it at one level, the line level when the payer reported lines.

    The other subscriber (2330A) is the subscriber of the coverage the prior payer adjudicated,
    and SBR02 the patient's relationship to them: a child on a parent's primary plan is 19 with
    the parent's name, not the patient as 18; a child that plan identifies by a member id of their
    own is its subscriber (18, the child's name: ``patient_is_the_subscriber``). 2330B DTP*573
    (claim check or remittance date) is required when no line carries its own (2430 DTP*573). SBR03 is the other plan's group
    number when its card has one. 2320 MOA repeats the prior payer's outpatient adjudication when
    its remittance reported one (``_payment_advice``); 2330B names the prior payer's references
    (``_other_payer_references``)."""
    payer_key = _prior_payer_key(prior, payer, clearinghouse)
    coverage = coverage or {}
    # as the adjudication recorded them, else as the records on file now say (restored since)
    member_id = prior.member_id or coverage.get("member_id") or ""
    payer_name = prior.payer_name or (payer or {}).get("name") or ""
    missing = [
        what
        for what, value in (
            ("member id (2330A NM109)", member_id),
            ("payer's name (2330B NM103)", payer_name),
            ("payer's id (2330B NM109)", payer_key),
        )
        if not value
    ]
    if missing:
        raise X12Error(f"claim {item.draft.claim_key}: no prior payer {' or '.join(missing)} on file")
    relationship = coverage.get("relationship", "self")
    subscriber = (coverage.get("subscriber") or {}) if not _patient_subscribes(coverage) else {}
    if subscriber:
        name, address = subscriber.get("name") or {}, subscriber.get("address")
    else:
        relationship = "self"
        name, address = item.patient.get("name") or {}, item.patient.get("address")
    street, city = _address(address)
    amounts = [Amount(qualifier="D", amount=prior.paid)]
    if not lines_adjudicated:
        amounts.append(Amount(qualifier="EAF", amount=prior.patient_responsibility))
    dates = []
    if not lines_adjudicated:
        adjudicated = prior.adjudicated_on or max((p.adjudicated_on for p in prior.lines), default=None)
        if adjudicated is None:
            raise X12Error(
                f"claim {item.draft.claim_key}: the prior payer's adjudication has no date; 2330B "
                "DTP*573 is required when no line carries the prior payer's adjudication"
            )
        dates.append(DatePeriod(qualifier="573", start=adjudicated))
    return OtherSubscriber(
        coverage=SubscriberInformation(
            payer_responsibility=_RESPONSIBILITY[prior.payer_order],
            relationship=_RELATIONSHIP.get(relationship, "G8"),
            group_number=coverage.get("group_number") or None,
            claim_filing_indicator=_filing_indicator(payer),
        ),
        adjustments=_cas(prior.claim_adjustments),
        amounts=amounts,
        # OI04, like CLM10, is sent only as P (the provider signed because the patient was not
        # physically present); the claim sends no CLM10, so no OI04 either
        other_insurance=OtherInsurance(benefits_assigned="Y", release_of_information="Y"),
        payment_advice=_payment_advice(prior.outpatient),
        subscriber=OtherSubscriberName(
            name=_person("IL", name, "MI", member_id), address=street, location=city
        ),
        payer=OtherPayer(
            name=_org("PR", payer_name, "PI", payer_key),
            dates=dates,
            references=_other_payer_references(prior),
        ),
    )


def _payment_advice(outpatient: OutpatientAdjudication | None) -> PaymentAdvice | None:
    """2320 MOA: the prior payer's outpatient adjudication information, as its 835 MOA reported it
    (005010X222A1: required when the prior payer reported it; not sent otherwise)."""
    if outpatient is None or not outpatient.reported:
        return None
    return PaymentAdvice(
        reimbursement_rate=outpatient.reimbursement_rate,
        hcpcs_payable=outpatient.hcpcs_payable,
        remark_codes=list(outpatient.remark_codes[:5]),
        esrd_payment=outpatient.esrd_payment,
        nonpayable_professional=outpatient.nonpayable_professional,
    )


def _other_payer_references(prior: PriorAdjudication) -> list[Reference]:
    """2330B REF, in the guide's order: G1, the prior authorization number the prior payer gave
    for the claim (it authorized the service: situational, sent when known); F8, the prior
    payer's claim control number (835 CLP07) for the claim it adjudicated, which the next payer
    quotes to the prior payer in coordinating benefits. No referral number is on file (9F)."""
    references = []
    if prior.prior_authorization_number:
        references.append(Reference(qualifier="G1", value=prior.prior_authorization_number))
    if prior.payer_claim_number:
        references.append(Reference(qualifier="F8", value=prior.payer_claim_number))
    return references


def _prior_payer_key(prior: PriorAdjudication, payer: Body | None, clearinghouse: str | None) -> str:
    """2330B NM109 and 2430 SVD01: the prior payer as the clearinghouse knows it."""
    return payer_key_for(payer, clearinghouse) or prior.electronic_payer_id


def _line_adjudication(prior: PriorAdjudication, prior_line: PriorLine, payer_key: str) -> LineAdjudication:
    """2430: SVD, CAS, DTP*573 and the remaining patient liability (AMT*EAF: its PR adjustments)."""
    remaining = sum((a.amount for a in prior_line.adjustments if a.group == "PR"), Decimal("0.00"))
    return LineAdjudication(
        adjudication=LineAdjudicationInfo(
            payer_id=payer_key,
            paid=prior_line.paid,
            procedure=ProcedureCode(
                qualifier="HC", code=prior_line.procedure_code, modifiers=list(prior_line.modifiers)
            ),
            units=Decimal(prior_line.units),
        ),
        adjustments=_cas(prior_line.adjustments),
        dates=[DatePeriod(qualifier="573", start=prior_line.adjudicated_on)],
        amounts=[Amount(qualifier="EAF", amount=remaining)],
    )


def _line(
    item: ClaimForBatch,
    index: int,
    before: Sequence[tuple[PriorAdjudication, Body | None, PriorLine | None]],
    clearinghouse: str | None,
) -> ServiceLine:
    """2400 and a 2430 for each payer before the claim's that adjudicated the line."""
    draft = item.draft
    line = draft.lines[index]
    adjudications = [
        _line_adjudication(prior, prior_line, _prior_payer_key(prior, payer, clearinghouse))
        for prior, payer, prior_line in before
        if prior_line is not None
    ]
    return ServiceLine(
        service=ProfessionalService(
            procedure=ProcedureCode(qualifier="HC", code=line.code, modifiers=list(line.modifiers)),
            charge=line.charge or Decimal("0.00"),
            units=Decimal(line.units),
            place_of_service=line.place_of_service
            if line.place_of_service != draft.place_of_service
            else None,
            diagnosis_pointers=[str(p) for p in line.diagnosis_pointers],
        ),
        dates=[DatePeriod(qualifier="472", start=line.date_of_service)],
        references=[Reference(qualifier="6R", value=line.line_key)],
        rendering_provider=LineRenderingProvider(
            name=_clinician(line.rendering),
            taxonomy=ProviderTaxonomy(
                provider_code="PE", qualifier="PXC", taxonomy=line.rendering.taxonomy_code
            ),
        )
        if line.rendering is not None and line.rendering.npi != draft.rendering.npi
        else None,
        adjudications=adjudications,
    )


def _clinician(provider: ClaimProvider) -> EntityName:
    """NM1*82 of a rendering clinician (2310B, 2420A)."""
    return _person(
        "82", {"last": provider.last_name or "PROVIDER", "first": provider.first_name}, "XX", provider.npi
    )


def _service_facility(draft: ClaimDraft) -> ServiceFacility | None:
    """2310C: the site where the service was rendered, when the draft names one (see
    :attr:`ClaimDraft.service_facility`). NM109 carries the site's NPI only when it has its own
    (a site sharing the billing NPI is a part of the biller, X12 RFI 1210); REF*LU, the payer's
    location number, goes only where no NPI does."""
    site = draft.service_facility
    if site is None:
        return None
    npi = site.npi if site.npi and site.npi != draft.billing.npi else None
    street, city = _address(site.address.model_dump())
    return ServiceFacility(
        name=EntityName(
            entity_code="77",
            entity_type="2",
            last_or_organization=x12_text(site.name, _NM103),
            id_qualifier="XX" if npi else None,
            identifier=npi,
        ),
        address=street,
        location=city,
        references=[Reference(qualifier="LU", value=site.location_number)]
        if site.location_number and not npi
        else [],
    )


def _diagnosis(code: str) -> str:
    """An ICD-10-CM code as HI carries it: upper case, without the decimal point (the guide: the
    decimal point is implied and must not be sent)."""
    return code.replace(".", "").strip().upper()


def _claim(item: ClaimForBatch, clearinghouse: str | None) -> Claim:
    draft = item.draft
    references = []
    if draft.payer_claim_number:
        references.append(Reference(qualifier="F8", value=draft.payer_claim_number))
    if draft.prior_authorization_number:
        references.append(Reference(qualifier="G1", value=draft.prior_authorization_number))
    if len(draft.diagnoses) > _MAX_DIAGNOSES:
        raise X12Error(
            f"claim {draft.claim_key}: {len(draft.diagnoses)} diagnoses; an 837P claim carries at most "
            f"{_MAX_DIAGNOSES} (one HI segment)"
        )
    codes = [
        HealthCode(qualifier="ABK" if i == 0 else "ABF", code=_diagnosis(code))
        for i, code in enumerate(draft.diagnoses)
    ]
    rendering = None
    if draft.rendering.npi != draft.billing.npi:
        rendering = RenderingProvider(
            name=_clinician(draft.rendering),
            taxonomy=ProviderTaxonomy(
                provider_code="PE", qualifier="PXC", taxonomy=draft.rendering.taxonomy_code
            ),
        )
    supervising = None
    if draft.supervising is not None:
        supervising = SupervisingProvider(
            name=_person(
                "DQ",
                {"last": draft.supervising.last_name or "SUPERVISOR", "first": draft.supervising.first_name},
                "XX",
                draft.supervising.npi,
            )
        )
    # each payer before the claim's, with its adjudication of each line (2430) in line order
    before = [
        (prior, payer, coverage, prior_line_of_each(draft, prior))
        for prior, payer, coverage in item.payers_before()
    ]
    # the guide dates inpatient visits with the admission and says not to send it otherwise
    dates = (
        [DatePeriod(qualifier="435", start=draft.admission_date)]
        if draft.inpatient and draft.admission_date is not None
        else []
    )
    return Claim(
        claim=ClaimInformation(
            claim_id=draft.claim_key,
            total_charge=draft.total_charge,
            facility=ClaimFacility(
                place_of_service=draft.place_of_service, frequency_code=draft.frequency_code.value
            ),
            patient_signature_source=None,
        ),
        dates=dates,
        references=references,
        health_codes=[HealthCodes(codes=codes)] if codes else [],
        rendering_provider=rendering,
        service_facility=_service_facility(draft),
        supervising_provider=supervising,
        other_subscribers=[
            _other_subscriber(
                prior,
                item,
                payer,
                coverage,
                lines_adjudicated=any(p is not None for p in lines),
                clearinghouse=clearinghouse,
            )
            for prior, payer, coverage, lines in before
        ],
        service_lines=[
            _line(item, i, [(prior, payer, lines[i]) for prior, payer, _, lines in before], clearinghouse)
            for i in range(len(draft.lines))
        ],
    )


def _patient_subscribes(coverage: Body) -> bool:
    """The patient is reported as the coverage's subscriber (``patient_is_the_subscriber``)."""
    return patient_is_the_subscriber(
        coverage.get("relationship"), member_id_is_patients=bool(coverage.get("member_id_is_patients"))
    )


def _subscriber_level(item: ClaimForBatch, clearinghouse: str | None) -> SubscriberLevel:
    """2000B and below. The member id, the payer's name and the id the clearinghouse routes it by
    come from the coverage and payer on file: a claim whose record is gone (deleted between its
    edits and the batch) cannot be written, and is held rather than sent with made-up values.

    The patient is the subscriber (SBR02 18, the patient in 2010BA with N3/N4 and DMG, no 2000C)
    when the coverage is their own or its member id is theirs (``patient_is_the_subscriber``: a
    dependent with a unique member id); otherwise 2010BA names the subscriber and 2000C/2010CA
    the patient (PAT01 the relationship)."""
    coverage, patient = item.coverage, item.patient
    relationship = coverage.get("relationship", "self")
    as_subscriber = _patient_subscribes(coverage)
    member = coverage.get("member_id")
    payer_key = payer_key_for(item.payer, clearinghouse)
    missing = [
        what
        for what, value in (
            ("member id of the coverage (2010BA NM109)", member),
            ("name of the payer (2010BB NM103)", item.payer.get("name")),
            ("id of the payer (2010BB NM109)", payer_key),
        )
        if not value
    ]
    if missing or member is None or payer_key is None:
        raise X12Error(f"claim {item.draft.claim_key}: no {' or '.join(missing)} on file")
    payer = Payer(name=_org("PR", item.payer["name"], "PI", payer_key))
    filing = _filing_indicator({"payer_type": "other", **item.payer})
    later = _RESPONSIBILITY[item.draft.payer_order] != "P"
    info = SubscriberInformation(
        payer_responsibility=_RESPONSIBILITY[item.draft.payer_order],
        relationship="18" if as_subscriber else None,
        group_number=coverage.get("group_number"),
        # the guide wants the Medicare Secondary Payer type when Medicare is not the first payer
        insurance_type=coverage.get("medicare_secondary_type") if later and filing in _MEDICARE else None,
        claim_filing_indicator=filing,
    )
    patient_street, patient_city = _address(patient.get("address"))
    if patient_street is None:
        # 2010CA N3/N4 are required, and 2010BA N3/N4 when the patient is the subscriber:
        # the patient's address is always sent, so a claim without one cannot be written
        raise X12Error(
            f"claim {item.draft.claim_key}: the patient has no address on file (837P "
            f"{'2010BA' if as_subscriber else '2010CA'} N3/N4 require it)"
        )
    patient_dmg = Demographics(
        date_format="D8", birth_date=patient.get("birth_date"), gender=patient.get("sex")
    )
    if as_subscriber:
        return SubscriberLevel(
            coverage=info,
            subscriber=Subscriber(
                name=_person("IL", patient.get("name") or {}, "MI", member),
                address=patient_street,
                location=patient_city,
                demographics=patient_dmg,
            ),
            payer=payer,
            claims=[_claim(item, clearinghouse)],
        )
    # The subscriber's address and demographics (2010BA N3/N4/DMG) are sent only when the
    # subscriber is the patient; a dependent's go in 2010CA, and the guide says not to send these.
    sub = coverage.get("subscriber") or {}
    return SubscriberLevel(
        coverage=info,
        subscriber=Subscriber(name=_person("IL", sub.get("name") or {}, "MI", member)),
        payer=payer,
        patients=[
            PatientLevel(
                patient_information=PatientInformation(relationship=_RELATIONSHIP.get(relationship, "G8")),
                patient=PatientName(
                    name=_person("QC", patient.get("name") or {}),
                    address=patient_street,
                    location=patient_city,
                    demographics=patient_dmg,
                ),
                claims=[_claim(item, clearinghouse)],
            )
        ],
    )


def _billing_name(group: Sequence[ClaimForBatch]) -> EntityName:
    """NM1*85: the organization, or the clinician when the billing NPI is a clinician's own
    (an individual, type 1, NPI: a sole proprietor bills as a person, NM102 1)."""
    billing = group[0].draft.billing
    clinicians = [p for item in group for p in (item.draft.rendering, item.draft.supervising) if p]
    person = next((p for p in clinicians if p.npi == billing.npi and p.last_name), None)
    if person is None:
        return _org("85", billing.name, "XX", billing.npi)
    return _person("85", {"last": person.last_name, "first": person.first_name}, "XX", billing.npi)


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _phone(value: str) -> list[Communication]:
    """PER03-06 of a telephone number written as people write it ("+1 (518) 555-0100 x12"): TE
    with the ten digits of a North American number (the country code 1 dropped), and EX with its
    extension. A number of any other length is sent as its digits."""
    number, _, extension = value.lower().replace("ext.", "x").replace("ext", "x").partition("x")
    digits = _digits(number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    found = [Communication(qualifier="TE", number=digits)]
    if _digits(extension):
        found.append(Communication(qualifier="EX", number=_digits(extension)))
    return found


def claim_837p(
    items: Sequence[ClaimForBatch],
    *,
    envelope: Envelope,
    control_number: str,
    reference: str,
    created: datetime,
) -> Claim837P:
    """One 837P transaction set: a billing-provider level per billing entity, a subscriber level per
    claim. Claims share a 2010AA only when everything it says of them is the same (NPI, tax id,
    taxonomy, name, address, pay-to address): two entities sharing a group NPI, or one whose address
    changed between claims, each get their own, so no claim is filed under another's tax id."""
    by_billing: dict[str, list[ClaimForBatch]] = defaultdict(list)
    for item in items:
        by_billing[item.draft.billing.model_dump_json()].append(item)
    levels = []
    for group in by_billing.values():
        billing = group[0].draft.billing
        street, city = _address(billing.address.model_dump())
        pay_street, pay_city = _address(
            billing.pay_to_address.model_dump() if billing.pay_to_address else None
        )
        if (pay_street, pay_city) == (street, city):
            # 2010AB is sent only when payment goes to an address other than the billing provider's
            pay_street, pay_city = None, None
        levels.append(
            BillingProviderLevel(
                taxonomy=ProviderTaxonomy(
                    provider_code="BI", qualifier="PXC", taxonomy=billing.taxonomy_code
                ),
                provider=BillingProvider(
                    name=_billing_name(group),
                    address=street,
                    location=city,
                    references=[Reference(qualifier="EI", value=_digits(billing.tin))],
                ),
                pay_to=PayToAddress(
                    name=EntityName(entity_code="87", entity_type="2"), address=pay_street, location=pay_city
                )
                if pay_street
                else None,
                subscribers=[_subscriber_level(item, envelope.clearinghouse) for item in group],
            )
        )
    return Claim837P(
        control_number=control_number,
        header=BeginningOfTransaction(
            reference=reference[:50],
            created_on=created.date(),
            created_at=created.strftime("%H%M"),
            transaction_type="CH",
        ),
        submitter=Submitter(
            name=_org("41", envelope.submitter_name, "46", envelope.submitter_id),
            contacts=[
                Contact(
                    function="IC",
                    name=x12_text(envelope.submitter_name, _PER02),
                    numbers=_phone(envelope.submitter_phone),
                )
            ],
        ),
        receiver=Receiver(name=_org("40", envelope.receiver_name, "46", envelope.receiver_id)),
        billing_providers=levels,
    )


def build_837p(
    items: Sequence[ClaimForBatch], *, envelope: Envelope, control: int, reference: str, created: datetime
) -> bytes:
    """The interchange bytes: ISA13 and GS06 = ``control``, one transaction set (ST02 0001)."""
    transaction = claim_837p(
        items, envelope=envelope, control_number="0001", reference=reference, created=created
    )
    return build(
        [transaction],
        sender_id=envelope.submitter_id,
        receiver_id=envelope.receiver_id,
        interchange_control_number=control,
        group_control_number=control,
        created=created,
        usage=envelope.usage,
    )
