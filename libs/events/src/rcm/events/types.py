"""Constrained value types shared by every event model.

Each type is an ``Annotated`` alias, so it validates on input, documents itself in the
JSON schema and stays a plain ``str``, ``Decimal``, ``date`` or ``datetime`` in Python.

Decisions:

* Identifiers are opaque strings (``Id``): producers own their ids (UUIDs, EHR keys),
  and an id must never encode PHI. Ids are what partition keys and ``ce_subject`` carry.
* Money is ``Decimal`` with at most two decimal places, normalised to exactly two, and is
  written as a JSON string (``"125.00"``) so no consumer ever parses it as a float.
* Times are timezone-aware; a naive ``datetime`` is rejected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

__all__ = [
    "US_STATES",
    "CarcCode",
    "DiagnosisCode",
    "Id",
    "Minutes",
    "Modifier",
    "Money",
    "NonNegativeMoney",
    "Npi",
    "Percent",
    "PlaceOfService",
    "PostalCode",
    "ProcedureCode",
    "RarcCode",
    "StateCode",
    "TaxonomyCode",
    "TimeZoneName",
    "Timestamp",
    "Tin",
    "is_valid_npi",
    "npi_check_digit",
]

_STATE_LIST = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
    "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP"
)
US_STATES: frozenset[str] = frozenset(_STATE_LIST.split(" "))
"""USPS codes of the states, DC, territories and military 'states'."""

_CENT = Decimal("0.01")

# The NPI check digit is a Luhn digit over the 9 leading digits prefixed with 80840
# (the ISO issuer prefix for US health identifiers).
_NPI_PREFIX = "80840"


def npi_check_digit(first_nine: str) -> int:
    """Return the check digit that completes the 9 leading NPI digits ``first_nine``."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NPI stem is 9 digits")
    total = 0
    for position, char in enumerate(reversed(_NPI_PREFIX + first_nine)):
        digit = int(char)
        if position % 2 == 0:  # the rightmost payload digit is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(value: str) -> bool:
    """True when ``value`` is 10 digits whose last digit is the Luhn check digit."""
    return len(value) == 10 and value.isdigit() and npi_check_digit(value[:9]) == int(value[9])


def _check_npi(value: str) -> str:
    if not is_valid_npi(value):
        raise ValueError("NPI must be 10 digits with a valid Luhn check digit (prefix 80840)")
    return value


def _strip_tin(value: object) -> object:
    return value.replace("-", "") if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _diagnosis(value: object) -> object:
    # Canonical form is the X12 one: upper case, no dot ("F41.1" -> "F411").
    return value.strip().upper().replace(".", "") if isinstance(value, str) else value


def _check_state(value: str) -> str:
    if value not in US_STATES:
        raise ValueError(f"unknown US state or territory code {value!r}")
    return value


def _money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("money must be a finite amount")
    return value.quantize(_CENT)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$"),
    Field(examples=["pat_01HZX3", "3f2b9c4e-8a1d-4f7e-9c55-0b8d2a6e1f10"]),
]
"""An opaque identifier (letters, digits, ``. _ : -``); never a name, member id or other PHI."""

Npi = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{10}$"),
    AfterValidator(_check_npi),
    Field(examples=["1234567893"]),
]
"""National Provider Identifier: 10 digits, Luhn check digit computed with prefix 80840."""

Tin = Annotated[
    str,
    BeforeValidator(_strip_tin),
    StringConstraints(pattern=r"^[0-9]{9}$"),
    Field(examples=["123456789"]),
]
"""Taxpayer identification number (EIN or SSN), 9 digits; a ``12-3456789`` input is normalised."""

TaxonomyCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^[0-9]{3}[0-9A-Z]{6}X$"),
    Field(examples=["1041C0700X"]),
]
"""NUCC health-care provider taxonomy code, 10 characters ending in X."""

DiagnosisCode = Annotated[
    str,
    BeforeValidator(_diagnosis),
    StringConstraints(pattern=r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$"),
    Field(examples=["F411", "F329", "F1020"]),
]
"""ICD-10-CM code, 3 to 7 characters; stored without the dot as on X12 claims."""

ProcedureCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^([0-9]{4}[0-9FTU]|[A-Z][0-9]{4})$"),
    Field(examples=["90837", "H0004", "G2212"]),
]
"""CPT (5 digits, or 4 digits + F/T/U) or HCPCS Level II (letter + 4 digits) code."""

Modifier = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^[0-9A-Z]{2}$"),
    Field(examples=["95", "HO", "59"]),
]
"""A CPT/HCPCS modifier, 2 characters."""

PlaceOfService = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$"), Field(examples=["11", "02", "10"])]
"""CMS place-of-service code, 2 digits."""

StateCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(_check_state),
    Field(examples=["NY", "CA"]),
]
"""USPS two-letter state or territory code."""

PostalCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}([0-9]{4})?$"), Field(examples=["10001"])]
"""US ZIP code, 5 or 9 digits without a dash."""

CarcCode = Annotated[
    str, BeforeValidator(_upper), StringConstraints(pattern=r"^[0-9A-Z]{1,3}$"), Field(examples=["45", "197"])
]
"""Claim adjustment reason code (X12 code list 139)."""

RarcCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^[A-Z]{1,2}[0-9]{1,4}$"),
    Field(examples=["N211", "MA18"]),
]
"""Remittance advice remark code (X12 code list 411)."""

Money = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, examples=["125.00"]),
    AfterValidator(_money),
]
"""An amount in US dollars: at most 2 decimal places, written as a JSON string with 2 places."""

NonNegativeMoney = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2, examples=["125.00"]),
    AfterValidator(_money),
]
"""A money amount that cannot be negative (charges, payments)."""

Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2, examples=["20"])]
"""A percentage between 0 and 100 (coinsurance)."""

Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
"""A count of minutes within one day."""

Timestamp = AwareDatetime
"""A timezone-aware datetime; naive datetimes are rejected."""

TimeZoneName = Annotated[str, AfterValidator(_check_zone), Field(examples=["America/New_York"])]
"""An IANA time-zone name."""
