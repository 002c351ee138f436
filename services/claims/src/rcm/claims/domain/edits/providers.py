"""Edits on who bills, renders and supervises."""

from __future__ import annotations

import re

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits.findings import Finding, ScrubContext, Severity
from rcm.claims.domain.npi import is_valid_npi, is_valid_taxonomy
from rcm.claims.domain.payer_rules import SupervisingProviderPolicy
from rcm.claims.domain.providers import NetworkStatus

__all__ = [
    "billing_address",
    "billing_tin",
    "npi_check_digits",
    "rendering_enrolled_with_payer",
    "rendering_licensed_in_state",
    "service_facility_address",
    "supervising_provider_present",
    "taxonomy_codes",
]


def _named_npis(claim: ClaimDraft) -> list[tuple[str, str]]:
    named = [("billing.npi", claim.billing.npi)]
    named += [(f"{where}.npi", clinician.npi) for where, clinician in claim.renderers]
    if claim.supervising is not None:
        named.append(("supervising.npi", claim.supervising.npi))
    site = claim.service_facility
    if site is not None and site.npi:
        named.append(("service_location.npi", site.npi))
    return named


def npi_check_digits(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Every NPI on the claim is 10 digits with a valid Luhn check digit."""
    return [
        Finding(
            edit="npi_check_digits",
            code="npi.check_digit",
            severity=Severity.HOLD,
            message=f"{field} {npi!r} is not a valid NPI (10 digits, Luhn check digit with prefix 80840)",
            field=field,
            fix="correct the NPI from NPPES in the provider or billing-entity record",
        )
        for field, npi in _named_npis(claim)
        if not is_valid_npi(npi)
    ]


def taxonomy_codes(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Billing and rendering taxonomy codes have the NUCC shape (e.g. 1041C0700X)."""
    named = [("billing.taxonomy_code", claim.billing.taxonomy_code)]
    named.append(("rendering.taxonomy_code", claim.rendering.taxonomy_code))
    return [
        Finding(
            edit="taxonomy_codes",
            code="taxonomy.format",
            severity=Severity.HOLD,
            message=f"{field} {code!r} is not a NUCC taxonomy code (10 characters ending in X)",
            field=field,
            fix="set the taxonomy the provider is enrolled under with the payer",
        )
        for field, code in named
        if not is_valid_taxonomy(code)
    ]


def billing_tin(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The billing TIN is 9 digits."""
    tin = claim.billing.tin.replace("-", "")
    if len(tin) == 9 and tin.isdigit():
        return []
    return [
        Finding(
            edit="billing_tin",
            code="billing.tin",
            severity=Severity.HOLD,
            message="the billing entity's TIN is not 9 digits",
            field="billing.tin",
            fix="correct the billing entity's EIN",
        )
    ]


_POST_OFFICE_BOX = re.compile(r"\b(P\.?\s*O\.?\s*BOX|POST\s+OFFICE\s+BOX|LOCK\s*BOX)\b", re.IGNORECASE)


def billing_address(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The billing provider's address (837P 2010AA N3/N4) is a street address with a 9-digit ZIP.

    The 837P guide asks for ZIP+4 on the billing provider and a physical address there: a P.O.
    box or lock box goes in the pay-to address (2010AB). Clearinghouses reject the file otherwise.
    """
    address = claim.billing.address
    findings = []
    if len(address.postal_code) != 9:
        findings.append(
            Finding(
                edit="billing_address",
                code="billing.zip_plus_4",
                severity=Severity.HOLD,
                message="the billing provider's ZIP code has 5 digits; the 837P needs all 9 (ZIP+4)",
                field="billing.address.postal_code",
                fix="add the ZIP+4 to the billing entity's address",
            )
        )
    if any(_POST_OFFICE_BOX.search(line or "") for line in (address.line1, address.line2)):
        findings.append(
            Finding(
                edit="billing_address",
                code="billing.po_box",
                severity=Severity.HOLD,
                message="the billing provider's address is a P.O. box; the 837P needs a street address",
                field="billing.address.line1",
                fix="use the street address as the billing address and the P.O. box as the pay-to address",
            )
        )
    return findings


def service_facility_address(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """The service facility location (837P 2310C N3/N4), when the claim names one, is a street
    address with a 9-digit ZIP: the guide wants where the service was physically rendered."""
    site = claim.service_facility
    if site is None:
        return []
    findings = []
    if len(site.address.postal_code) != 9:
        findings.append(
            Finding(
                edit="service_facility_address",
                code="service_location.zip_plus_4",
                severity=Severity.HOLD,
                message="the service location's ZIP code has 5 digits; the 837P 2310C needs all 9 (ZIP+4)",
                field="service_location.address.postal_code",
                fix="add the ZIP+4 to the session's service location",
            )
        )
    if any(_POST_OFFICE_BOX.search(line or "") for line in (site.address.line1, site.address.line2)):
        findings.append(
            Finding(
                edit="service_facility_address",
                code="service_location.po_box",
                severity=Severity.HOLD,
                message="the service location is a P.O. box; the 837P 2310C needs the street address",
                field="service_location.address.line1",
                fix="report the street address where the service was rendered",
            )
        )
    return findings


def rendering_enrolled_with_payer(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Each rendering provider (the claim's, a line's own) has a credentialing span with the payer
    in the patient's state on the DOS."""
    return [
        finding
        for where, clinician in claim.renderers
        for finding in _enrolled(claim, context, clinician.provider_id, where)
    ]


def _enrolled(claim: ClaimDraft, context: ScrubContext, provider_id: str, where: str) -> list[Finding]:
    provider = context.provider(provider_id)
    span = (
        provider.enrollment(claim.payer_id, claim.patient_state, claim.date_of_service) if provider else None
    )
    if span is None:
        return [
            Finding(
                edit="rendering_enrolled_with_payer",
                code="rendering.not_enrolled",
                severity=Severity.HOLD,
                message=(
                    f"the rendering provider is not enrolled with payer {claim.payer_id} in "
                    f"{claim.patient_state} on {claim.date_of_service.isoformat()} (CARC 185/B7 risk)"
                ),
                field=where,
                fix="route to credentialing: add or extend the enrollment span, or bill another clinician",
            )
        ]
    if span.network_status is NetworkStatus.OUT_OF_NETWORK:
        return [
            Finding(
                edit="rendering_enrolled_with_payer",
                code="rendering.out_of_network",
                severity=Severity.WARN,
                message=f"the rendering provider is out of network with payer {claim.payer_id}",
                field=where,
                fix="confirm the patient's out-of-network benefits",
            )
        ]
    return []


def rendering_licensed_in_state(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """Each rendering provider (the claim's, a line's own) holds a licence in the patient's state
    valid on the DOS."""
    return [
        _unlicensed(claim, where)
        for where, clinician in claim.renderers
        if not (
            (provider := context.provider(clinician.provider_id)) is not None
            and provider.licensed_in(claim.patient_state, claim.date_of_service)
        )
    ]


def _unlicensed(claim: ClaimDraft, where: str) -> Finding:
    return Finding(
        edit="rendering_licensed_in_state",
        code="rendering.not_licensed",
        severity=Severity.HOLD,
        message=(
            f"the rendering provider has no licence in {claim.patient_state} valid on "
            f"{claim.date_of_service.isoformat()} (licensure follows the patient's location)"
        ),
        field=where,
        fix="record the state licence, or confirm where the patient was",
    )


def supervising_provider_present(claim: ClaimDraft, context: ScrubContext) -> list[Finding]:
    """A supervising provider is named where the payer requires one (e.g. pre-licensed clinicians)."""
    policy = context.rules.supervising_provider
    provider = context.provider(claim.rendering.provider_id)
    supervised = claim.rendering.credential is Credential.ASSOCIATE or (
        provider is not None and provider.supervisor_on(claim.date_of_service) is not None
    )
    if policy is SupervisingProviderPolicy.BILL_AS_SUPERVISOR and supervised:
        return [
            Finding(
                edit="supervising_provider_present",
                code="supervising.bill_as_supervisor",
                severity=Severity.HOLD,
                message="this payer pays a pre-licensed clinician's services only under the supervisor's NPI",
                field="rendering",
                fix="record the supervisor for the date of service so the claim renders under them",
            )
        ]
    required = policy is SupervisingProviderPolicy.ALWAYS or (
        policy is SupervisingProviderPolicy.WHEN_SUPERVISED and supervised
    )
    if not required or claim.supervising is not None:
        return []
    return [
        Finding(
            edit="supervising_provider_present",
            code="supervising.missing",
            severity=Severity.HOLD,
            message="the payer requires a supervising provider (2310D) for this rendering clinician",
            field="supervising",
            fix="record the supervisor valid on the date of service",
        )
    ]
