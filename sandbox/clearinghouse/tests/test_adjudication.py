"""Adjudication rules, one per denial behaviour, on the example payer book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rcm.clearinghouse.x12sniff import segments_of
from rcm.sandbox import load_config
from rcm.sandbox.engine.adjudication import Accumulators, adjudicate, adjudicate_secondary
from rcm.sandbox.engine.model import Adjustment, PriorLineAdjudication
from rcm.sandbox.faults import Faults
from rcm.sandbox.payer_office import PayerOffice
from rcm.sandbox.payers import EarlierClaim
from rcm.sandbox.testing import claim, line, recent
from rcm.sandbox.x12io import Interchange, build_837p

pytestmark = pytest.mark.unit

BOOK = load_config().book
EVRGRN = BOOK.payer("EVRGRN")
STMCD = BOOK.payer("STMCD")
SUPPL1 = BOOK.payer("SUPPL1")
assert EVRGRN and STMCD and SUPPL1


def cas(result, index: int = 0) -> list[tuple[str, str, Decimal]]:
    return [(a.group, a.reason, a.amount) for a in result.lines[index].adjustments]


def run(c, payer=EVRGRN, **kw):
    result, _ = adjudicate(c, payer, icn="ICN1", **kw)
    return result


def test_a_paid_line_is_cut_to_the_contracted_rate_less_the_copay() -> None:
    result = run(claim("C1", "EVG100000001", "EVRGRN", [line(1, "90837", "180.00")]))
    assert cas(result) == [("CO", "45", Decimal("50.00")), ("PR", "3", Decimal("25.00"))]
    assert result.lines[0].paid == Decimal("105.00") and result.status == "1"
    assert all(ln.balanced() for ln in result.lines)


def test_deductible_then_coinsurance_are_the_patients_share() -> None:
    result = run(claim("C2", "EVG100000002", "EVRGRN", [line(1, "90837", "500.00")]))
    # 130 allowed; 350 of the 500 deductible is left, so all 130 goes to PR-1
    assert cas(result) == [("CO", "45", Decimal("370.00")), ("PR", "1", Decimal("130.00"))]
    second, _ = adjudicate(
        claim("C3", "EVG100000002", "EVRGRN", [line(1, "90834", "95.00")]),
        EVRGRN,
        icn="I",
        accumulators=adjudicate(
            claim("C2", "EVG100000002", "EVRGRN", [line(1, "90837", "500.00")]), EVRGRN, icn="I"
        )[1].__class__(Decimal("500"), 0),
    )
    assert cas(second) == [("PR", "2", Decimal("19.00"))] and second.lines[0].paid == Decimal("76.00")


def test_testing_without_an_auth_on_file_is_co_197() -> None:
    lines = [line(1, "96130", "200.00")]
    assert cas(run(claim("C4", "EVG100000002", "EVRGRN", lines)))[0][:2] == ("CO", "197")
    with_auth = run(claim("C5", "EVG100000001", "EVRGRN", lines, prior_auth="AUTH7001"))
    assert with_auth.lines[0].paid > 0


def test_telehealth_without_modifier_95_is_co_4() -> None:
    denied = run(claim("C6", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00", pos="10")]))
    assert cas(denied) == [("CO", "4", Decimal("120.00"))]
    audio = run(
        claim("C7", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00", pos="02", modifiers=("93",))])
    )
    assert audio.lines[0].paid > 0


def test_a_missing_licensure_modifier_is_co_4() -> None:
    c = claim("C8", "MCD200000001", "STMCD", [line(1, "90834", "90.00")], rendering_taxonomy="101YP2500X")
    assert cas(run(c, STMCD)) == [("CO", "4", Decimal("90.00"))]
    ok = claim(
        "C9",
        "MCD200000001",
        "STMCD",
        [line(1, "90834", "90.00", modifiers=("HO",))],
        rendering_taxonomy="101YP2500X",
    )
    assert run(ok, STMCD).lines[0].paid == Decimal("72.00")


def test_missing_information_is_co_16_with_its_rarc() -> None:
    no_rendering = run(
        claim("C10", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")], rendering_npi=None)
    )
    assert cas(no_rendering)[0][:2] == ("CO", "16") and no_rendering.claim_remarks == ["N290"]
    unlisted = run(claim("C11", "EVG100000001", "EVRGRN", [line(1, "99999", "50.00")]))
    assert cas(unlisted)[0][:2] == ("CO", "16") and unlisted.lines[0].remarks == ["M51"]


def test_the_column_two_code_of_a_bundled_pair_is_co_97_unless_modifier_59() -> None:
    lines = [line(1, "90791", "200.00"), line(2, "90834", "120.00")]
    result = run(claim("C12", "EVG100000001", "EVRGRN", lines))
    assert cas(result, 1) == [("CO", "97", Decimal("120.00"))] and result.lines[0].paid > 0
    distinct = [line(1, "90791", "200.00"), line(2, "90834", "120.00", modifiers=("59",))]
    assert run(claim("C13", "EVG100000001", "EVRGRN", distinct)).lines[1].paid > 0


def test_a_late_claim_is_co_29_and_after_termination_co_27() -> None:
    late = run(claim("C14", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00", on=recent(120))]))
    assert cas(late)[0][:2] == ("CO", "29")
    termed = run(claim("C15", "EVG100000003", "EVRGRN", [line(1, "90834", "120.00")]))
    assert cas(termed)[0][:2] == ("CO", "27") and termed.status == "4"


def test_the_same_claim_again_is_oa_18() -> None:
    c = claim("C16", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])
    assert cas(run(c, duplicate=True)) == [("OA", "18", Decimal("120.00"))]


def test_a_service_the_payer_paid_on_an_earlier_claim_from_another_system_is_oa_18() -> None:
    c = claim("C16b", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])
    member = EVRGRN.member("EVG100000001")
    assert member is not None
    billed = member.model_copy(
        update={"earlier_claims": [EarlierClaim(service_date=c.lines[0].service_date, code="90834")]}
    )
    payer = EVRGRN.model_copy(update={"members": [billed]})
    result = run(c, payer)
    assert cas(result) == [("OA", "18", Decimal("120.00"))] and result.status == "4"
    other_code = claim("C16c", "EVG100000001", "EVRGRN", [line(1, "90837", "180.00")])
    assert run(other_code, payer).lines[0].paid > 0


def test_past_the_visit_limit_is_co_119() -> None:
    c = claim("C17", "MCD200000001", "STMCD", [line(1, "90834", "90.00", modifiers=("AJ",))])
    result, _ = adjudicate(c, STMCD, icn="I", accumulators=Accumulators(visits_used=20))
    assert cas(result)[0][:2] == ("CO", "119")


def test_a_secondary_pays_the_primarys_patient_share_up_to_its_allowed() -> None:
    prior = PriorLineAdjudication(
        "MCAREX",
        Decimal("80.00"),
        (Adjustment("CO", "45", Decimal("20.00")), Adjustment("PR", "2", Decimal("20.00"))),
    )
    c = claim("C18", "SLV300000001", "SUPPL1", [line(1, "90834", "120.00")], responsibility="S")
    c = c.__class__(
        **{
            **{f: getattr(c, f) for f in c.__dataclass_fields__},
            "lines": (
                line(1, "90834", "120.00").__class__(
                    **{**{f: getattr(c.lines[0], f) for f in c.lines[0].__dataclass_fields__}, "prior": prior}
                ),
            ),
        }
    )
    result = adjudicate_secondary(c, SUPPL1, icn="I2")
    assert result.status == "2" and result.paid == Decimal("20.00")
    assert cas(result) == [("OA", "23", Decimal("100.00"))]
    assert result.lines[0].balanced()


def office(**faults) -> PayerOffice:
    return PayerOffice(BOOK, Faults(**faults), clearinghouse_id="SANDBOXCH", remit_delay=0)


def remits(deliveries) -> list[list[list[str]]]:
    return [
        [s.elements for s in segments_of(d.content) if s.id in ("CLP", "PLB", "BPR", "NM1", "MOA")]
        for d in deliveries
        if d.name.startswith("835_")
    ]


def send(o: PayerOffice, claims, control=1):
    return o.receive_batch(build_837p(claims, interchange=Interchange("PRACTICE01", "SANDBOXCH", control)))


def test_a_corrected_claim_reverses_the_original_and_a_void_reverses_the_replacement() -> None:
    o = office()
    send(o, [claim("C20", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])])
    (icn,) = o.adjudications
    corrected = claim(
        "C20",
        "EVG100000001",
        "EVRGRN",
        [line(1, "90837", "180.00", modifiers=())],
        frequency_code="7",
        original_icn=icn,
    )
    (remit,) = remits(send(o, [corrected], 2))
    clps = [e for e in remit if e[0] == "C20"]
    assert [c[1] for c in clps] == ["22", "1"] and clps[0][6] == icn and Decimal(clps[0][3]) == Decimal("-70")
    (new_icn,) = o.adjudications
    void = claim(
        "C20",
        "EVG100000001",
        "EVRGRN",
        [line(1, "90837", "180.00")],
        frequency_code="8",
        original_icn=new_icn,
    )
    (remit,) = remits(send(o, [void], 3))
    assert [e[1] for e in remit if e[0] == "C20"] == ["22"] and not o.adjudications


def test_medicare_crosses_the_claim_over_to_the_supplemental_payer() -> None:
    (remit,) = remits(send(office(), [claim("C21", "1EG4TE5MK72", "MCAREX", [line(1, "90834", "120.00")])]))
    clp = next(e for e in remit if e[0] == "C21")
    assert clp[1] == "19"
    assert ["TT", "2", "Silverline Supplemental", "", "", "", "", "PI", "SUPPL1"] in remit
    assert ["", "", "MA18"] in remit


def test_reversal_and_recoupment_faults_produce_their_835s() -> None:
    deliveries = send(
        office(reversal=True, recoupment=True),
        [claim("C22", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])],
    )
    _first, reversal, recoupment = remits(deliveries)
    assert [e[1] for e in reversal if e[0] == "C22"] == ["22", "1"]
    # the reversal nets below zero: BPR02 zero, the rest carried forward with a negative FB
    assert next(e for e in reversal if e[0] == "H")[1] == "0"
    (forward,) = [e for e in reversal if e[0] == "1234567893"]
    assert forward[2].startswith("FB:") and Decimal(forward[3]) < 0
    (plb,) = [e for e in recoupment if e[0] == "1234567893"]
    assert plb[2].startswith("WO:") and Decimal(plb[3]) == Decimal("70")
    assert plb[4].startswith("FB:") and Decimal(plb[5]) == Decimal("-70")
    assert next(e for e in recoupment if e[0] == "H")[1] == "0"


def test_unknown_members_are_rejected_in_the_277ca() -> None:
    deliveries = send(office(), [claim("C23", "EVG000000000", "EVRGRN", [line(1, "90834", "120.00")])])
    ca = next(d for d in deliveries if d.name.startswith("277CA_"))
    assert any(s.id == "STC" and s.get(1).startswith("A3:33") for s in segments_of(ca.content))
    assert not remits(deliveries)


def test_a_claim_whose_charge_is_not_the_sum_of_its_lines_is_rejected_out_of_balance() -> None:
    lines = [line(1, "90834", "120.00"), line(2, "90785", "15.00")]
    unbalanced = claim("C24", "EVG100000001", "EVRGRN", lines, total_charge=Decimal("150.00"))
    deliveries = send(office(), [unbalanced])
    ca = next(d for d in deliveries if d.name.startswith("277CA_"))
    assert any(s.id == "STC" and s.get(1).startswith("A7:400") for s in segments_of(ca.content))
    assert not remits(deliveries)
    balanced = send(office(), [claim("C25", "EVG100000001", "EVRGRN", lines)])
    assert remits(balanced)


def test_every_file_the_payer_writes_has_a_clean_x12_envelope() -> None:
    from rcm.x12.envelope import check_envelope

    claims = [
        claim("C30", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")]),
        claim("C31", "EVG100000003", "EVRGRN", [line(1, "90834", "120.00")]),
    ]
    deliveries = send(office(reversal=True, recoupment=True), claims)
    assert {d.name.split("_")[0] for d in deliveries} == {"999", "277CA", "835"}
    for delivery in deliveries:
        errors = [f for f in check_envelope(delivery.content) if f.severity == "error"]
        assert errors == [], delivery.name


def test_the_277ca_returns_the_batch_s_bht03_in_2200b_trn02() -> None:
    content = build_837p(
        [claim("C24", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])],
        interchange=Interchange("PRACTICE01", "SANDBOXCH", 7),
    ).replace("BHT*0019*00*B7*", "BHT*0019*00*bat-0123456789abcdef*")
    assert "bat-0123456789abcdef" in content
    ca = next(d for d in office().receive_batch(content) if d.name.startswith("277CA_"))
    traces = [s.elements for s in segments_of(ca.content) if s.id == "TRN"]
    # 2200A (the payer's own), 2200B (the batch), 2200C (the provider), 2200D (the claim)
    assert traces[1] == ["2", "bat-0123456789abcdef"]
    assert ["2", "C24"] in traces
