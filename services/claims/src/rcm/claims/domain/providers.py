"""Clinicians and billing entities: who renders, who supervises, who bills.

Identifiers (NPI, taxonomy) are kept as given; the claim edits judge them, so a bad NPI
holds a claim with a reason rather than failing to load.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import Field

from rcm.claims.domain.common import Credential, DomainModel, Period

__all__ = [
    "Address",
    "BillingEntity",
    "License",
    "NetworkStatus",
    "PayerEnrollment",
    "Provider",
    "Supervision",
]


class Address(DomainModel):
    """A US postal address."""

    line1: str = Field(min_length=1, max_length=55)
    line2: str | None = None
    city: str = Field(min_length=1, max_length=30)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    postal_code: str = Field(pattern=r"^[0-9]{5}([0-9]{4})?$")

    def same_place(self, other: Address) -> bool:
        """Whether both name the same place: the street lines, city and state compared without
        case, punctuation or extra spaces, and the 5-digit ZIP (a ZIP+4 on one side only is no
        difference). The guide leaves "different" to the payer (X12 RFI 2810); this is the
        conservative reading: a typo makes the places differ."""
        return (
            _plain(self.line1) == _plain(other.line1)
            and _plain(self.line2) == _plain(other.line2)
            and _plain(self.city) == _plain(other.city)
            and self.state == other.state
            and self.postal_code[:5] == other.postal_code[:5]
        )


def _plain(text: str | None) -> str:
    return " ".join(re.sub(r"[^0-9A-Z ]", " ", (text or "").upper()).split())


class License(DomainModel):
    """A state licence held by a clinician."""

    state: str = Field(pattern=r"^[A-Z]{2}$")
    license_type: str = Field(min_length=1, max_length=20)
    valid: Period


class Supervision(DomainModel):
    """A supervising relationship, for pre-licensed clinicians."""

    supervisor_provider_id: str
    valid: Period


class NetworkStatus(StrEnum):
    """Whether a clinician is contracted with a payer."""

    IN_NETWORK = "in_network"
    OUT_OF_NETWORK = "out_of_network"


class PayerEnrollment(DomainModel):
    """A credentialing span: this clinician may bill this payer in this state on these dates."""

    payer_id: str
    state: str | None = Field(default=None, description="State of the enrollment; none = any state.")
    network_status: NetworkStatus = NetworkStatus.IN_NETWORK
    organization_id: str | None = None
    valid: Period


class Provider(DomainModel):
    """A rendering or supervising clinician."""

    provider_id: str
    npi: str
    taxonomy_code: str
    credential: Credential
    last_name: str | None = None
    first_name: str | None = None
    licenses: tuple[License, ...] = ()
    supervisors: tuple[Supervision, ...] = ()
    enrollments: tuple[PayerEnrollment, ...] = ()

    def licensed_in(self, state: str, day: date) -> License | None:
        """The licence valid in ``state`` on ``day``, if any."""
        return next((lic for lic in self.licenses if lic.state == state and lic.valid.contains(day)), None)

    def enrollment(self, payer_id: str, state: str, day: date) -> PayerEnrollment | None:
        """The credentialing span with ``payer_id`` covering ``state`` on ``day``, if any."""
        return next(
            (
                span
                for span in self.enrollments
                if span.payer_id == payer_id and span.state in (None, state) and span.valid.contains(day)
            ),
            None,
        )

    def supervisor_on(self, day: date) -> str | None:
        """The id of the clinician supervising this one on ``day``, if any."""
        return next((s.supervisor_provider_id for s in self.supervisors if s.valid.contains(day)), None)


class BillingEntity(DomainModel):
    """A group (or solo) billing identity: NPI, TIN, taxonomy and addresses, for some states and payers."""

    entity_id: str
    organization_id: str | None = None
    name: str = Field(min_length=1, max_length=60)
    npi: str
    tin: str
    taxonomy_code: str
    address: Address
    pay_to_address: Address | None = None
    states: tuple[str, ...] = Field(min_length=1, description="States whose services it bills.")
    payer_ids: tuple[str, ...] = Field(default=(), description="Payers it bills; empty = any payer.")
    valid: Period
