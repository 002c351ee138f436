"""What the 837P says of who bills and who pays is exactly what is on file: claims share a
billing provider level only when everything 2010AA says of them is the same, the payer is named
by the id the clearinghouse routes it by, a claim whose member or payer record is gone is not
written with made-up values, identifiers outside the X12 character set are refused, and the
submitter's telephone number is ten digits with its extension apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from test_837p_guide_rules import (
    BILLING,
    ENVELOPE,
    PATIENT,
    PAYER,
    SELF,
    assert_valid,
    between,
    draft,
    prior,
    prior_line,
    secondary,
    segments,
    text_of,
)

from rcm.claims.domain.cob import LineAdjustment
from rcm.claims.domain.coverage import CoveragePriority
from rcm.claims.domain.providers import Address
from rcm.claims.submission.x837 import ClaimForBatch, build_837p
from rcm.x12.errors import X12Error

pytestmark = pytest.mark.unit

CREATED = datetime(2025, 3, 21, 10, 5, tzinfo=UTC)


def test_two_entities_sharing_an_npi_each_get_their_own_billing_provider_level() -> None:
    other = BILLING.model_copy(
        update={
            "entity_id": "ent_nj",
            "tin": "98-7654321",
            "taxonomy_code": "101YM0800X",
            "address": Address(line1="9 Sample Road", city="Newark", state="NJ", postal_code="071021234"),
        }
    )
    ny = ClaimForBatch(draft(), PATIENT, SELF, PAYER)
    nj = ClaimForBatch(draft(claim_key="SYNTHKEY000000002", billing=other), PATIENT, SELF, PAYER)
    text = text_of(ny, nj)
    assert_valid(text)
    found = segments(text)
    assert [s for s in found if s[:2] == ["REF", "EI"]] == [
        ["REF", "EI", "123456789"],
        ["REF", "EI", "987654321"],
    ]
    # each claim sits under its own entity's level: the NJ claim after the NJ tax id
    nj_level = between(text, "REF*EI*987654321", "SE*")
    assert any(s[:2] == ["CLM", "SYNTHKEY000000002"] for s in nj_level)
    assert not any(s[:2] == ["CLM", "SYNTHKEY000000001"] for s in nj_level)
    assert sum(1 for s in found if s[:4] == ["HL", s[1], "", "20"]) == 2


def test_the_same_entity_keeps_one_billing_provider_level() -> None:
    text = text_of(
        ClaimForBatch(draft(), PATIENT, SELF, PAYER),
        ClaimForBatch(draft(claim_key="SYNTHKEY000000002"), PATIENT, SELF, PAYER),
    )
    assert sum(1 for s in segments(text) if s[:2] == ["REF", "EI"]) == 1


def test_the_payer_is_named_by_the_clearinghouse_s_own_id_for_it() -> None:
    payer = {**PAYER, "clearinghouse_payer_ids": {"synthetic-ch": "CH12345", "another": "ZZ999"}}
    medicare = {
        "name": "Synthetic Medicare",
        "payer_type": "medicare",
        "electronic_payer_id": "SYNMCR",
        "clearinghouse_payer_ids": {"synthetic-ch": "CHMCR01"},
    }
    item = ClaimForBatch(secondary(), PATIENT, SELF, payer, prior(prior_line(1)), medicare, SELF)
    envelope = replace(ENVELOPE, clearinghouse="synthetic-ch")
    text = build_837p([item], envelope=envelope, control=7, reference="bat-1", created=CREATED).decode()
    assert_valid(text)
    found = segments(text)
    assert ["NM1", "PR", "2", "SYNTHETIC HEALTH PLAN", "", "", "", "", "PI", "CH12345"] in found  # 2010BB
    assert ["NM1", "PR", "2", "SYNTHETIC MEDICARE", "", "", "", "", "PI", "CHMCR01"] in found  # 2330B
    assert any(s[:2] == ["SVD", "CHMCR01"] for s in found)  # 2430
    # a clearinghouse the payer has no id for gets the payer's electronic id
    plain = text_of(ClaimForBatch(draft(), PATIENT, SELF, payer))
    assert ["NM1", "PR", "2", "SYNTHETIC HEALTH PLAN", "", "", "", "", "PI", "SYNP0001"] in segments(plain)


@pytest.mark.parametrize(
    ("coverage", "payer", "missing"),
    [
        ({"group_number": "GRP1", "relationship": "self"}, PAYER, "member id"),
        (SELF, {}, "name of the payer"),
        (SELF, {"name": "Synthetic Health Plan", "payer_type": "commercial"}, "id of the payer"),
    ],
)
def test_a_claim_whose_member_or_payer_record_is_gone_is_not_written(
    coverage: dict[str, str], payer: dict[str, str], missing: str
) -> None:
    with pytest.raises(X12Error, match=missing):
        text_of(ClaimForBatch(draft(), PATIENT, coverage, payer))


@pytest.mark.parametrize(
    ("fields", "coverage"),
    [
        ({"prior_authorization_number": "AUTH\u2013123"}, SELF),  # an en dash pasted in
        ({}, {**SELF, "member_id": "M\u00c9M001"}),
        ({}, {**SELF, "group_number": "GRP\t1"}),
        ({}, {**SELF, "group_number": "GRP\n1"}),
    ],
)
def test_identifiers_outside_the_x12_character_set_are_refused_without_quoting_them(
    fields: dict[str, str], coverage: dict[str, str]
) -> None:
    with pytest.raises(X12Error, match="outside the X12 character set") as caught:
        text_of(ClaimForBatch(draft(**fields), PATIENT, coverage, PAYER))
    assert "MEM" not in str(caught.value) and "AUTH" not in str(caught.value)


@pytest.mark.parametrize(
    ("phone", "numbers"),
    [
        ("+1 (518) 555-0100 x12", ["TE", "5185550100", "EX", "12"]),
        ("518.555.0100 ext. 7", ["TE", "5185550100", "EX", "7"]),
        ("1-518-555-0100", ["TE", "5185550100"]),
        ("(518) 555-0100", ["TE", "5185550100"]),
    ],
)
def test_the_submitter_s_phone_is_ten_digits_with_the_extension_apart(phone: str, numbers: list[str]) -> None:
    envelope = replace(ENVELOPE, submitter_phone=phone)
    text = build_837p(
        [ClaimForBatch(draft(), PATIENT, SELF, PAYER)],
        envelope=envelope,
        control=7,
        reference="b",
        created=CREATED,
    ).decode()
    (per,) = [s for s in segments(text) if s[0] == "PER"]
    assert per[3:] == numbers


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"member_id": ""}, "member id"),
        ({"payer_name": ""}, "payer's name"),
        ({"electronic_payer_id": ""}, "payer's id"),
    ],
)
def test_a_prior_payer_whose_record_was_gone_is_not_named_with_made_up_values(
    fields: dict[str, str], missing: str
) -> None:
    # the prior adjudication keeps empty values when the prior payer's or coverage's record was
    # deleted before the next payer's claim was made; nothing on file names them now either
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1), **fields))
    with pytest.raises(X12Error, match=f"prior payer {missing}"):
        text_of(item)
    # the record restored since: the claim is written with what is on file now
    medicare = {"name": "Synthetic Medicare", "payer_type": "medicare", "electronic_payer_id": "SYNMCR"}
    restored = replace(item, prior_payer=medicare, prior_coverage={**SELF, "member_id": "MCR000001"})
    assert_valid(text_of(restored))


def test_a_tertiary_claim_names_both_payers_before_it_each_in_its_own_2320_and_2430() -> None:
    medicare = {"name": "Synthetic Medicare", "payer_type": "medicare", "electronic_payer_id": "SYNMCR"}
    medigap = {"name": "Synthetic Medigap", "payer_type": "commercial", "electronic_payer_id": "SYNGAP"}
    primary = prior(prior_line(1, paid="80.00"))
    # the secondary paid the primary's patient share less its own coinsurance
    secondary_paid = prior(
        prior_line(
            1,
            paid="15.00",
            adjustments=(
                LineAdjustment(group="CO", carc="45", amount=Decimal("100.00")),
                LineAdjustment(group="PR", carc="2", amount=Decimal("5.00")),
            ),
        ),
        payer_id="pay_gap",
        electronic_payer_id="SYNGAP",
        payer_name="Synthetic Medigap",
        member_id="GAP000001",
        payer_order=CoveragePriority.SECONDARY,
        payer_claim_number="ICN0002",
        coverage_id="cov_gap",
    ).following(primary)
    claim = draft(payer_order=CoveragePriority.TERTIARY)
    item = ClaimForBatch(
        claim,
        PATIENT,
        SELF,
        PAYER,
        secondary_paid,
        medigap,
        {**SELF, "member_id": "GAP000001", "group_number": "GAPGRP"},
        earlier_payers={"pay_0": medicare},
        earlier_coverages={},
    )
    text = text_of(item)
    assert_valid(text)
    found = segments(text)
    sbr = [s for s in found if s[0] == "SBR"]
    assert [s[1] for s in sbr] == ["T", "P", "S"]  # the claim's payer, then first payer first
    assert [s[9] for s in sbr[1:]] == ["MB", "CI"]
    assert ["NM1", "PR", "2", "SYNTHETIC MEDICARE", "", "", "", "", "PI", "SYNMCR"] in found
    assert ["NM1", "PR", "2", "SYNTHETIC MEDIGAP", "", "", "", "", "PI", "SYNGAP"] in found
    assert [s[:3] for s in found if s[0] == "AMT" and s[1] == "D"] == [
        ["AMT", "D", "80.00"],
        ["AMT", "D", "15.00"],
    ]
    # each payer's adjudication of the line, first payer first
    assert [s[1:3] for s in found if s[0] == "SVD"] == [["SYNMCR", "80.00"], ["SYNGAP", "15.00"]]


def test_a_tertiary_claim_made_from_the_secondary_s_claim_carries_the_primary_s_adjudication() -> None:
    primary = prior(prior_line(1))
    secondary_paid = prior(
        prior_line(1, paid="15.00"), payer_id="pay_gap", payer_order=CoveragePriority.SECONDARY
    )
    chained = secondary_paid.following(primary.following(None))
    assert [a.payer_id for a in chained.chain()] == ["pay_0", "pay_gap"]
    # a chain grows by one payer at a time, never nesting the earlier ones' own chains
    assert all(a.earlier == () for a in chained.earlier)
