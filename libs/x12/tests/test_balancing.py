"""Balancing (SNIP type 3): the amounts of an 837P claim and an 835 that must add up."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from rcm.x12 import imbalances, read
from rcm.x12.cli import app

from .conftest import DATA, sample_files

pytestmark = pytest.mark.unit

REMIT = (DATA / "835" / "LinuxForHealth-x12__demo-file_demo.835").read_text()
CLAIM = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example9.837").read_text()

# reviewed: the imsweb 837P test files bill CLM02 500 over one SV102 of 12.25; the tertiary-payment
# 835 has SVC*HC*24599.00*1766.50*187.50 (a "*" where its SVC01 composite wanted ":")
UNBALANCED = {
    "835/LinuxForHealth-x12__835_005010X221A1_tertiary-payment.835": {"SVC02 - CAS = SVC03": 1},
}


def rules(text: str) -> Counter[str]:
    return Counter(i.rule for tx in read(text).transactions for i in imbalances(tx))


def test_every_other_sample_balances() -> None:
    found = {}
    for path in sample_files():
        key = str(path.relative_to(DATA))
        counted = rules(path.read_bytes().decode("latin-1"))
        if counted and not key.startswith("837P/imsweb-x12-parser__"):
            found[key] = dict(counted)
        if key.startswith("837P/imsweb-x12-parser__") and counted:
            assert set(counted) == {"CLM02 = sum of SV102"}, key
    assert found == UNBALANCED


def test_a_balanced_835_and_837p() -> None:
    assert rules(REMIT) == Counter()
    assert rules(CLAIM) == Counter()


def test_a_service_line_whose_payment_is_not_its_charge_less_its_adjustments() -> None:
    # a notification (BPR01 H, nothing paid): lines, claims and the payment balance
    text = (DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_text()
    assert rules(text) == Counter()
    broken = rules(text.replace("CAS*CO*16*500.04", "CAS*CO*16*500.00", 1))
    assert broken == Counter({"SVC02 - CAS = SVC03": 1, "CLP03 - CAS = CLP04": 1})


def test_a_claim_whose_payment_is_not_its_charge_less_its_adjustments() -> None:
    text = REMIT.replace("CAS*CO*45*73348.57", "CAS*CO*45*73348.00", 1)
    [tx] = read(text).transactions
    [imbalance] = imbalances(tx)
    assert imbalance.rule == "CLP03 - CAS = CLP04"
    assert (imbalance.expected, imbalance.found) == (Decimal("138018.97"), Decimal("138018.40"))
    assert imbalance.loop_id == "2100" and imbalance.segment_id == "CLP"


def test_a_claim_payment_that_does_not_add_up_also_unbalances_the_payment() -> None:
    text = REMIT.replace("CLP*666123*1*211366.97*138018.40*", "CLP*666123*1*211366.97*138018.00*", 1)
    assert rules(text) == Counter({"CLP03 - CAS = CLP04": 1, "BPR02 = sum of CLP04 - sum of PLB": 1})


def test_the_payment_is_the_claims_less_the_provider_adjustments() -> None:
    assert rules(REMIT.replace("BPR*C*150000.00*", "BPR*C*149998.73*", 1)) == Counter(
        {"BPR02 = sum of CLP04 - sum of PLB": 1}
    )
    # a debit (BPR03 D) is a negative payment; a notification (BPR01 H) moves no money, so claims
    # that say paid do not balance it
    assert rules(REMIT.replace("BPR*C*150000.00*C*", "BPR*C*150000.00*D*", 1)) == Counter(
        {"BPR02 = sum of CLP04 - sum of PLB": 1}
    )
    assert rules(REMIT.replace("BPR*C*150000.00*C*", "BPR*H*0*C*", 1)) == Counter(
        {"BPR02 = sum of CLP04 - sum of PLB": 1}
    )


def test_an_837p_claim_charge_is_the_sum_of_its_lines() -> None:
    text = CLAIM.replace("CLM*153829140*827.00*", "CLM*153829140*872.00*", 1)
    [tx] = read(text).transactions
    [imbalance] = imbalances(tx)
    assert (imbalance.rule, imbalance.expected, imbalance.found) == (
        "CLM02 = sum of SV102",
        Decimal("827.00"),
        Decimal("872.00"),
    )
    assert "827.00" in str(imbalance) and "872.00" in str(imbalance)


def test_validate_reports_balancing_and_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "unbalanced.837"
    path.write_text(CLAIM.replace("CLM*153829140*827.00*", "CLM*153829140*872.00*", 1))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "balancing: CLM@2300" in result.stdout
    report = CliRunner().invoke(app, ["validate", "--json", str(path)])
    [file_report] = __import__("json").loads(report.stdout)
    [tx] = file_report["transactions"]
    assert tx["balancing"][0]["expected"] == "827.00"
    assert (file_report["valid"], tx["valid"]) == (False, False)


def test_interest_paid_in_the_claim_payment_balances_it() -> None:
    # AMT*I: interest a payer pays in CLP04 (one paying it through PLB L6 reports it as information)
    with_interest = "CAS*CO*45*3019.67~AMT*I*5.00~"
    paid_with_interest = REMIT.replace(
        "CLP*777777*1*15000.00*11980.33**", "CLP*777777*1*15000.00*11985.33**", 1
    ).replace("CAS*CO*45*3019.67~", with_interest, 1)
    assert rules(paid_with_interest) == Counter({"BPR02 = sum of CLP04 - sum of PLB": 1})
    informational = REMIT.replace("CAS*CO*45*3019.67~", with_interest, 1)
    assert rules(informational) == Counter()
    wrong = REMIT.replace("CLP*777777*1*15000.00*11980.33**", "CLP*777777*1*15000.00*11990.33**", 1).replace(
        "CAS*CO*45*3019.67~", with_interest, 1
    )
    assert rules(wrong)["CLP03 - CAS = CLP04"] == 1
