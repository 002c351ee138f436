"""The files the sandbox reads and writes go through ``rcm.x12``: what it writes validates cleanly
(our validator for every kind, pyx12 too where it has the guide), and an 837P built from a claim
reads back as that claim."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm.clearinghouse.x12sniff import transaction_kind
from rcm.sandbox import load_config
from rcm.sandbox.engine.model import Adjustment, Claim, PriorLineAdjudication
from rcm.sandbox.faults import Faults
from rcm.sandbox.payer_office import PayerOffice
from rcm.sandbox.testing import claim, line, recent
from rcm.sandbox.x12io import Interchange, build_270, build_276, build_837p, read_270, read_276, read_837p
from rcm.sandbox.x12io.envelope import write
from rcm.testing.validators import pyx12_errors
from rcm.x12 import read
from rcm.x12.convert import read_interchange
from rcm.x12.models.claim_837p import Claim837P

pytestmark = pytest.mark.unit

BOOK = load_config().book
PRACTICE = Interchange("PRACTICE01", "SANDBOXCH", 41)


def office(**faults: object) -> PayerOffice:
    return PayerOffice(BOOK, Faults(**faults), clearinghouse_id="SANDBOXCH", remit_delay=0)  # type: ignore[arg-type]


def secondary_claim() -> Claim:
    prior = PriorLineAdjudication(
        "MCAREX",
        Decimal("80"),
        (Adjustment("CO", "45", Decimal("20")), Adjustment("PR", "2", Decimal("20"))),
    )
    base = claim("SEC-1", "SLV300000001", "SUPPL1", [line(1, "90834", "120.00")], responsibility="S")
    return replace(base, lines=(replace(base.lines[0], prior=prior),), prior_paid=Decimal("80"))


def files_written() -> dict[str, list[str]]:
    """One of each file the payer writes, by kind: batch answers (accepted, denied, crossover, unknown
    member, unknown payer, secondary, reversal, recoupment) and real-time answers (271 with benefits,
    carve-out, member reject, unknown payer, unable to respond; 277 found and not found)."""
    o = office(reversal=True, recoupment=True)
    claims = [
        claim("PAID-1", "EVG100000001", "EVRGRN", [line(1, "90837", "180.00", modifiers=("95",), pos="10")]),
        claim("TERMED-1", "EVG100000003", "EVRGRN", [line(1, "90834", "120.00")]),
        claim("XOVER-1", "1EG4TE5MK72", "MCAREX", [line(1, "90834", "120.00")]),
        claim("NOMEMBER-1", "EVG000000000", "EVRGRN", [line(1, "90834", "120.00")]),
        claim("NOPAYER-1", "EVG100000001", "NOSUCHPAYER", [line(1, "90834", "120.00")]),
        secondary_claim(),
    ]
    contents = [d.content for d in o.receive_batch(build_837p(claims, interchange=PRACTICE))]

    def inquiry(member_id: str = "EVG100000001", payer_id: str = "EVRGRN", last: str = "SAMPLE") -> str:
        return build_270(
            payer_id=payer_id,
            member_id=member_id,
            first_name="AVERY",
            last_name=last,
            birth_date=date(1985, 4, 12),
            service_types=("MH", "A6", "30"),
            interchange=PRACTICE,
        )

    contents += [
        o.answer_270(inquiry()),
        o.answer_270(inquiry("EVG100000004", last="CARVEOUT")),
        o.answer_270(inquiry("EVG999999999")),
        o.answer_270(inquiry(payer_id="NOSUCHPAYER")),
    ]
    o.faults.aaa_unable_to_respond = 1
    contents.append(o.answer_270(inquiry()))
    for claim_id in ("PAID-1", "NEVER-SENT"):
        request = build_276(
            payer_id="EVRGRN",
            member_id="EVG100000001",
            claim_id=claim_id,
            charge=Decimal("180"),
            service_date=recent(),
            interchange=PRACTICE,
        )
        contents.append(o.answer_276(request))
    by_kind: dict[str, list[str]] = {}
    for content in contents:
        by_kind.setdefault(transaction_kind(content), []).append(content)
    return by_kind


FILES = files_written()


def test_the_payer_writes_every_kind_of_answer() -> None:
    assert {kind: len(files) for kind, files in FILES.items()} == {
        "999": 1,
        "277CA": 4,  # EVRGRN, MCAREX, SUPPL1 and the unknown payer
        "835": 9,  # per paying payer (EVRGRN, MCAREX, SUPPL1): the remit, the reversal, the recoupment
        "271": 5,
        "277": 2,
    }


@pytest.mark.parametrize("kind", ["999", "277CA", "835", "271", "277"])
def test_every_file_of_each_kind_validates_without_error_findings(kind: str) -> None:
    for content in FILES[kind]:
        result = read(content)
        assert [str(f) for f in result.errors] == []
        assert len(result.transactions) == 1


# pyx12 ships no 005010X279A1 or X212 maps, so the 271 and 277 are checked by our validator only.
@pytest.mark.parametrize("kind", ["835", "999", "277CA"])
def test_every_file_of_each_kind_passes_pyx12(kind: str) -> None:
    for content in FILES[kind]:
        assert pyx12_errors(content) == []


def test_the_837p_the_sandbox_is_sent_in_tests_passes_pyx12() -> None:
    assert (
        pyx12_errors(
            build_837p(
                [claim("C1", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])], interchange=PRACTICE
            )
        )
        == []
    )


def test_an_837p_built_from_a_claim_reads_back_as_the_same_claim() -> None:
    replacement = claim(
        "REPL-1",
        "EVG100000001",
        "EVRGRN",
        [line(1, "90791", "200.00"), line(2, "90834", "120.50", modifiers=("59", "HO"), pos="10", units="2")],
        frequency_code="7",
        original_icn="EG0000001",
        prior_auth="AUTH7001",
        billing_taxonomy="261QM0801X",
        diagnoses=("F411", "F329", "Z636"),
    )
    person_billing = claim(
        "SOLO-1",
        "EVG100000002",
        "EVRGRN",
        [line(1, "90837", "180.00")],
        billing_entity_type="1",
        rendering_npi=None,
        rendering_taxonomy=None,
    )
    claims = [replacement, person_billing, secondary_claim()]
    text = build_837p(claims, interchange=PRACTICE)
    result = read(text)
    accepted = {
        (tx.group.control_number if tx.group else "", tx.control_number) for tx in result.transactions
    }
    # each claim as read also knows the batch it came in (BHT03), for its 277CA
    batch_reference = f"B{PRACTICE.control_number}"
    assert read_837p(result, accepted=accepted, received=date.today()) == [
        replace(c, batch_reference=batch_reference) for c in claims
    ]


def test_only_the_sets_the_999_accepts_are_adjudicated() -> None:
    def transaction(claim_id: str, control: str) -> Claim837P:
        text = build_837p(
            [claim(claim_id, "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])], interchange=PRACTICE
        )
        (model,) = read_interchange(text)[0].groups[0].transactions
        assert isinstance(model, Claim837P)
        return model.model_copy(update={"control_number": control})

    batch = write([transaction("GOOD-1", "0001"), transaction("BROKEN-1", "0002")], PRACTICE)
    start = batch.index("CLM*BROKEN-1")
    broken = (
        batch[: batch.index("DTP*472", start)] + batch[batch.index("~", batch.index("DTP*472", start)) + 2 :]
    )
    o = office()
    deliveries = o.receive_batch(broken)
    ack = next(d.content for d in deliveries if d.name.startswith("999_"))
    assert "AK2*837*0001*005010X222A1~\nIK5*A~" in ack
    assert "AK2*837*0002*005010X222A1~" in ack and "IK5*R" in ack and "AK9*P*2*2*1~" in ack
    assert [a.claim.claim_id for a in o.adjudications.values()] == ["GOOD-1"]


def test_a_270_and_a_276_read_back_what_was_asked() -> None:
    eligibility = read_270(
        build_270(
            payer_id="EVRGRN",
            member_id="EVG100000001",
            first_name="AVERY",
            last_name="SAMPLE",
            birth_date=date(1985, 4, 12),
            service_types=("MH", "A6"),
            interchange=PRACTICE,
            trace="TRACE9",
        )
    )
    assert (eligibility.payer_id, eligibility.member_id, eligibility.last_name) == (
        "EVRGRN",
        "EVG100000001",
        "SAMPLE",
    )
    assert eligibility.birth_date == date(1985, 4, 12) and eligibility.service_types == ("MH", "A6")
    assert eligibility.trace == "TRACE9" and eligibility.service_date == PRACTICE.when.date()
    status = read_276(
        build_276(
            payer_id="EVRGRN",
            member_id="EVG100000001",
            claim_id="PCN-9",
            charge=Decimal("120"),
            service_date=recent(),
            interchange=PRACTICE,
        )
    )
    assert (status.payer_id, status.member_id, status.claim_id, status.icn) == (
        "EVRGRN",
        "EVG100000001",
        "PCN-9",
        None,
    )


def test_a_batch_rejected_at_the_envelope_gets_a_ta1_or_ak9_r_and_is_not_adjudicated() -> None:
    batch = build_837p(
        [claim("ENV-1", "EVG100000001", "EVRGRN", [line(1, "90834", "120.00")])], interchange=PRACTICE
    )
    o = office()
    (truncated,) = o.receive_batch(batch[: batch.index("SE*")])
    assert truncated.name.startswith("TA1_") and "TA1*000000041*" in truncated.content
    assert "*R*" in truncated.content and "GS*" not in truncated.content
    (bad_count,) = o.receive_batch(batch.replace("GE*1*41~", "GE*2*41~"))
    # AK902 repeats what GE01 says (2), AK903 counts the sets received (1), AK904 those accepted
    assert bad_count.name.startswith("999_") and "AK9*R*2*1*1*5~" in bad_count.content
    assert not o.adjudications


def test_the_835_echoes_each_line_item_control_number_of_the_837() -> None:
    o = office()
    lines = [
        replace(line(1, "90837", "180.00", modifiers=("95",), pos="10"), control_number="CLMKEY0000001L01"),
        replace(line(2, "90785", "25.00", modifiers=("95",), pos="10"), control_number="CLMKEY0000001L02"),
    ]
    sent = claim("CLMKEY0000001", "EVG100000001", "EVRGRN", lines)
    batch = build_837p([sent], interchange=PRACTICE)
    result = read(batch)
    accepted = {
        (tx.group.control_number if tx.group else "", tx.control_number) for tx in result.transactions
    }
    (read_back,) = read_837p(result, accepted=accepted, received=date.today())
    assert [ln.control_number for ln in read_back.lines] == ["CLMKEY0000001L01", "CLMKEY0000001L02"]
    deliveries = o.receive_batch(batch)
    remits = [d for d in deliveries if transaction_kind(d.content) == "835"]
    assert remits, "the payer answers with an 835"
    interchange, _ = read_interchange(remits[0].content)
    payment = next(interchange.groups[0].transactions[0].claims())
    assert [s.references[0].value for s in payment.services] == ["CLMKEY0000001L01", "CLMKEY0000001L02"]
