"""Each 835 transaction set of a file is its own payment, with its own claims, however the
file's control numbers repeat: ST02 is unique within its functional group only, and files that
hold several interchanges may repeat an ISA13. Synthetic data (made-up parties and amounts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rcm.remittance.remit_file import read_remit_file

pytestmark = pytest.mark.unit


def _isa(control: str) -> str:
    return f"ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*PROVSIM        *260105*0930*^*00501*{control}*0*P*:~"


def _set(trace: str, pcn: str, charge: str, paid: str) -> str:
    body = [
        "ST*835*0001",
        f"BPR*I*{paid}*C*CHK************20260105",
        f"TRN*1*{trace}*1999999999",
        "N1*PR*SAMPLE PLAN",
        "N3*1 TEST WAY",
        "N4*ANYTOWN*NY*10001",
        "PER*BL*EDI*TE*5555550100",
        "N1*PE*SAMPLE CLINIC*XX*1999999976",
        "LX*1",
        f"CLP*{pcn}*1*{charge}*{paid}**12*PAYER-{pcn}",
        "NM1*QC*1*PATIENT*TEST****MI*SIMMEMBER",
        f"CAS*CO*45*{Decimal(charge) - Decimal(paid)}",
    ]
    return "~".join([*body, f"SE*{len(body) + 1}*0001"]) + "~"


def _group(number: str, *sets: str) -> str:
    return f"GS*HP*PAYERSIM*PROVSIM*20260105*0930*{number}*X*005010X221A1~{''.join(sets)}GE*{len(sets)}*{number}~"


def _claims_by_trace(content: str) -> dict[str, list[str]]:
    read = read_remit_file(content.encode())
    assert read.problems == []
    return {p.trace_number: [c.patient_control_number for c in p.claims] for p in read.payments}


def test_two_groups_of_one_interchange_each_with_an_st02_0001() -> None:
    content = (
        _isa("000000900")
        + _group("901", _set("CHECK-A", "PCN-A", "100", "80"))
        + _group("902", _set("CHECK-B", "PCN-B", "60", "50"))
        + "IEA*2*000000900~"
    )
    assert _claims_by_trace(content) == {"CHECK-A": ["PCN-A"], "CHECK-B": ["PCN-B"]}


def test_concatenated_interchanges_that_repeat_an_isa13() -> None:
    one = _isa("000000001") + _group("1", _set("CHECK-C", "PCN-C", "100", "80")) + "IEA*1*000000001~"
    two = _isa("000000001") + _group("1", _set("CHECK-D", "PCN-D", "90", "90")) + "IEA*1*000000001~"
    read = read_remit_file((one + two).encode())
    assert {p.trace_number: [c.patient_control_number for c in p.claims] for p in read.payments} == {
        "CHECK-C": ["PCN-C"],
        "CHECK-D": ["PCN-D"],
    }
    assert [p.amount for p in read.payments] == [Decimal(80), Decimal(90)]


def test_claim_payments_outside_a_claim_loop_are_a_problem_not_silently_dropped() -> None:
    # without its LX header number a CLP opens no 2100 loop: an all-denied payment of 0 would
    # balance with no claims at all and post, the denials lost
    denied = (
        _set("NOPAY-1", "PCN-E", "100", "0")
        .replace("BPR*I*0*C*CHK", "BPR*H*0*C*NON")
        .replace("LX*1~", "")
        .replace("SE*13*", "SE*12*")
    )
    content = _isa("000000003") + _group("3", denied) + "IEA*1*000000003~"
    read = read_remit_file(content.encode())
    [payment] = read.payments
    assert payment.claims == ()
    assert [(p.kind, p.control_number, p.interchange) for p in read.problems] == [
        ("invalid_claim", "0001", "000000003")
    ]
    assert "1 claim payment(s)" in read.problems[0].message


def test_a_4010_remittance_is_not_read_with_the_5010_rules() -> None:
    old = _group("4", _set("CHECK-F", "PCN-F", "100", "80")).replace("*X*005010X221A1~", "*X*004010X091A1~")
    current = _group("5", _set("CHECK-G", "PCN-G", "100", "80"))
    content = _isa("000000004").replace("*00501*", "*00401*") + old + "IEA*1*000000004~"
    content += _isa("000000005") + current + "IEA*1*000000005~"
    read = read_remit_file(content.encode())
    assert [p.trace_number for p in read.payments] == ["CHECK-G"]
    assert [(p.kind, p.interchange) for p in read.problems] == [("unsupported_version", "000000004")]


@pytest.mark.parametrize(
    ("bpr", "kinds"),
    [
        # a date that does not read: the payment is kept without it
        ("BPR*I*80*C*CHK************2026010X", ["invalid_payment_date"]),
        # an amount that does not read, beside a good date: not a date problem
        ("BPR*I*8,0.00*C*CHK************20260105", ["invalid_segment"]),
    ],
)
def test_an_unreadable_bpr_element_is_reported_as_what_it_is(bpr: str, kinds: list[str]) -> None:
    one = _set("CHECK-H", "PCN-H", "100", "80").replace("BPR*I*80*C*CHK************20260105", bpr)
    read = read_remit_file((_isa("000000006") + _group("6", one) + "IEA*1*000000006~").encode())
    assert [p.kind for p in read.problems][: len(kinds)] == kinds
    assert "invalid_payment_date" not in [p.kind for p in read.problems][len(kinds) :]
