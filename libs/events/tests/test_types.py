"""Value types: identifiers, codes, money and times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from rcm.events.testing import synthetic_npi
from rcm.events.types import (
    DiagnosisCode,
    Id,
    Modifier,
    Money,
    NonNegativeMoney,
    Npi,
    PlaceOfService,
    ProcedureCode,
    StateCode,
    TaxonomyCode,
    Timestamp,
    TimeZoneName,
    Tin,
    is_valid_npi,
    npi_check_digit,
)

pytestmark = pytest.mark.unit


def test_the_cms_example_npi_has_a_valid_check_digit() -> None:
    assert npi_check_digit("123456789") == 3
    assert is_valid_npi("1234567893")


@pytest.mark.parametrize("value", ["1234567890", "123456789", "12345678931", "12345678A3", ""])
def test_npis_with_a_wrong_check_digit_or_length_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Npi).validate_python(value)


@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_synthetic_npis_always_pass_the_luhn_check(n: int) -> None:
    npi = synthetic_npi(n)
    assert TypeAdapter(Npi).validate_python(npi) == npi


def test_a_single_digit_change_breaks_the_npi_check() -> None:
    npi = "1234567893"
    for position in range(10):
        for digit in "0123456789":
            changed = npi[:position] + digit + npi[position + 1 :]
            if changed != npi:
                assert not is_valid_npi(changed)


def test_tin_is_nine_digits_and_a_dashed_ein_is_normalised() -> None:
    adapter = TypeAdapter(Tin)
    assert adapter.validate_python("12-3456789") == "123456789"
    for bad in ["12345678", "1234567890", "12-345678X"]:
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


@pytest.mark.parametrize(("given_code", "stored"), [("F41.1", "F411"), ("f32.9", "F329"), ("F1020", "F1020")])
def test_icd10cm_codes_are_stored_without_the_dot(given_code: str, stored: str) -> None:
    assert TypeAdapter(DiagnosisCode).validate_python(given_code) == stored


@pytest.mark.parametrize("bad", ["F4", "41.1", "F41.12345", "F41-1", "90837"])
def test_malformed_icd10cm_codes_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(DiagnosisCode).validate_python(bad)


@pytest.mark.parametrize("code", ["90837", "90785", "H0004", "G2212", "0001F", "0591T"])
def test_cpt_and_hcpcs_codes_are_accepted(code: str) -> None:
    assert TypeAdapter(ProcedureCode).validate_python(code) == code


@pytest.mark.parametrize("bad", ["9083", "908370", "HH004", "90837-95"])
def test_malformed_procedure_codes_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(ProcedureCode).validate_python(bad)


def test_modifiers_are_two_characters_upper_cased() -> None:
    assert TypeAdapter(Modifier).validate_python("ho") == "HO"
    with pytest.raises(ValidationError):
        TypeAdapter(Modifier).validate_python("95X")


def test_place_of_service_is_two_digits() -> None:
    assert TypeAdapter(PlaceOfService).validate_python("02") == "02"
    with pytest.raises(ValidationError):
        TypeAdapter(PlaceOfService).validate_python("2")


def test_states_must_be_real_usps_codes() -> None:
    assert TypeAdapter(StateCode).validate_python("ny") == "NY"
    with pytest.raises(ValidationError):
        TypeAdapter(StateCode).validate_python("XX")


def test_taxonomy_codes_have_the_nucc_shape() -> None:
    assert TypeAdapter(TaxonomyCode).validate_python("1041C0700X") == "1041C0700X"
    with pytest.raises(ValidationError):
        TypeAdapter(TaxonomyCode).validate_python("1041C0700")


def test_ids_are_opaque_tokens_without_spaces() -> None:
    assert TypeAdapter(Id).validate_python("pat-0001") == "pat-0001"
    for bad in ["", "Test Patient", "a" * 65, "-leading-dash"]:
        with pytest.raises(ValidationError):
            TypeAdapter(Id).validate_python(bad)


class _Priced(BaseModel):
    amount: Money
    charge: NonNegativeMoney | None = None


def test_float_money_becomes_the_exact_decimal_it_was_written_as() -> None:
    assert _Priced(amount=19.99).amount == Decimal("19.99")
    assert _Priced(amount=0.1).amount == Decimal("0.10")
    assert _Priced.model_validate_json('{"amount": 170.1}').amount == Decimal("170.10")


def test_money_is_written_as_a_string_with_two_places() -> None:
    assert _Priced(amount=Decimal("10.1")).model_dump_json() == '{"amount":"10.10","charge":null}'
    assert _Priced(amount=Decimal("-5")).model_dump(mode="json")["amount"] == "-5.00"


def test_money_with_fractions_of_a_cent_is_rejected() -> None:
    for bad in ["1.005", 1.005, "NaN", "Infinity"]:
        with pytest.raises(ValidationError):
            _Priced(amount=bad)


def test_charges_cannot_be_negative() -> None:
    with pytest.raises(ValidationError):
        _Priced(amount=Decimal("1"), charge=Decimal("-1"))


@given(st.decimals(min_value=-(10**11), max_value=10**11, places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips_through_json_exactly(value: Decimal) -> None:
    priced = _Priced(amount=value)
    again = _Priced.model_validate_json(priced.model_dump_json())
    assert again.amount == value
    assert again.amount.as_tuple().exponent == -2


class _Stamped(BaseModel):
    at: Timestamp
    zone: TimeZoneName | None = None


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValidationError):
        _Stamped(at=datetime(2025, 3, 3, 10, 0))
    with pytest.raises(ValidationError):
        _Stamped.model_validate_json('{"at": "2025-03-03T10:00:00"}')


def test_aware_datetimes_keep_their_offset() -> None:
    stamped = _Stamped.model_validate_json('{"at": "2025-03-03T10:00:00-05:00", "zone": "America/New_York"}')
    assert stamped.at.utcoffset() is not None
    assert stamped.at.isoformat() == "2025-03-03T10:00:00-05:00"


def test_unknown_time_zones_are_rejected() -> None:
    with pytest.raises(ValidationError):
        _Stamped.model_validate_json('{"at": "2025-03-03T10:00:00Z", "zone": "Mars/Olympus"}')
