"""Claim keys, line keys and the choice of billing entity."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcm.claims.domain.billing_entity import NoBillingEntity, NoBillingEntityReason, choose_billing_entity
from rcm.claims.domain.common import Period
from rcm.claims.domain.identifiers import CLAIM_KEY_LENGTH, claim_key, is_claim_key, line_key
from rcm.claims.domain.npi import is_valid_npi, is_valid_taxonomy, npi_check_digit
from rcm.claims.domain.providers import Address, BillingEntity

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 4)


def test_a_redelivered_session_gets_the_same_claim_key() -> None:
    assert claim_key("ses_123") == claim_key("ses_123")


def test_claim_keys_fit_clm01_and_are_url_safe_upper_case() -> None:
    key = claim_key("3f2b9c4e-8a1d-4f7e-9c55-0b8d2a6e1f10")
    assert len(key) == CLAIM_KEY_LENGTH <= 20
    assert re.fullmatch(r"[A-Z2-7]+", key)
    assert is_claim_key(key)
    assert not is_claim_key("3f2b9c4e-8a1d-4f7e")


def test_secondary_claims_and_new_revisions_get_their_own_keys() -> None:
    keys = {claim_key("ses_1"), claim_key("ses_1", payer_order=2), claim_key("ses_1", revision=1)}
    assert len(keys) == 3


def test_line_keys_are_unique_and_fit_ref_6r() -> None:
    key = claim_key("ses_1")
    lines = [line_key(key, n) for n in range(1, 51)]
    assert len(set(lines)) == 50
    assert all(len(k) <= 30 and k.startswith(key) for k in lines)
    with pytest.raises(ValueError, match="1 to 50"):
        line_key(key, 51)


@given(st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=64))
def test_different_sessions_get_different_keys(one: str, other: str) -> None:
    if one != other:
        assert claim_key(one) != claim_key(other)


def test_npi_check_digit_uses_the_80840_prefix() -> None:
    assert npi_check_digit("123456789") == 3
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")
    assert not is_valid_npi("123456789")
    assert is_valid_taxonomy("1041C0700X")
    assert not is_valid_taxonomy("1041C0700Y")


ADDRESS = Address(line1="1 Example Way", city="Albany", state="NY", postal_code="12207")


def entity(
    entity_id: str, states: tuple[str, ...], payers: tuple[str, ...] = (), **valid: date
) -> BillingEntity:
    return BillingEntity(
        entity_id=entity_id,
        name=f"Synthetic group {entity_id}",
        npi="1234567893",
        tin="123456789",
        taxonomy_code="261QM0801X",
        address=ADDRESS,
        states=states,
        payer_ids=payers,
        valid=Period(start=valid.get("start", date(2020, 1, 1)), end=valid.get("end")),
    )


NY = entity("ent_ny", ("NY",))
NJ = entity("ent_nj", ("NJ",))
NY_MEDICAID = entity("ent_ny_medicaid", ("NY",), ("pay_medicaid",))
OLD_NY = entity("ent_ny_old", ("NY",), ("pay_old",), end=date(2024, 12, 31))


def test_the_billing_entity_follows_the_state() -> None:
    assert choose_billing_entity([NY, NJ], state="NJ", payer_id="pay_x", date_of_service=DOS) == NJ


def test_a_payer_specific_entity_beats_the_general_one() -> None:
    entities = [NY, NY_MEDICAID, NJ]
    assert (
        choose_billing_entity(entities, state="NY", payer_id="pay_medicaid", date_of_service=DOS)
        == NY_MEDICAID
    )
    assert choose_billing_entity(entities, state="NY", payer_id="pay_other", date_of_service=DOS) == NY


def test_an_entity_outside_its_dates_is_not_chosen() -> None:
    result = choose_billing_entity([OLD_NY], state="NY", payer_id="pay_old", date_of_service=DOS)
    assert isinstance(result, NoBillingEntity)
    assert result.reason is NoBillingEntityReason.NONE_MATCHES


def test_two_equally_specific_entities_are_ambiguous_not_guessed() -> None:
    twin = entity("ent_ny_2", ("NY",))
    result = choose_billing_entity([NY, twin], state="NY", payer_id="pay_x", date_of_service=DOS)
    assert isinstance(result, NoBillingEntity)
    assert result.reason is NoBillingEntityReason.AMBIGUOUS
    assert set(result.candidates) == {"ent_ny", "ent_ny_2"}
