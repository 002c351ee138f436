"""Guide rules that inbound files exercise: content the guides allow reads without findings.

The files are synthetic (made-up parties, identifiers and amounts).
"""

from __future__ import annotations

import pytest

from rcm.x12 import Severity, read, validate
from rcm.x12.convert import read_interchanges
from rcm.x12.models.claim_status import ClaimAcknowledgment277CA

pytestmark = pytest.mark.unit

ISA = "ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*PROVSIM        *260105*0930*^*00501*000000311*0*P*:~"


def _interchange(group: str, version: str, body: list[str]) -> str:
    segments = [f"ST*{body[0]}", *body[1:]]
    control = body[0].split("*")[1]
    text = "~".join([*segments, f"SE*{len(segments) + 1}*{control}"]) + "~"
    return f"{ISA}GS*{group}*PAYERSIM*PROVSIM*20260105*0930*311*X*{version}~{text}GE*1*311~IEA*1*000000311~"


def _errors(text: str) -> list[tuple[str, str, str]]:
    return [(f.segment_id, f.loop_id, f.code) for f in validate(text) if f.severity is Severity.ERROR]


REMIT = [
    "835*0001",
    "BPR*I*80*C*CHK************20260105",
    "TRN*1*CHK0001*1999999999",
    "N1*PR*SAMPLE HEALTH PLAN",
    "N3*1 TEST WAY",
    "N4*ANYTOWN*NY*10001",
    "PER*BL*EDI DESK*TE*5555550100",
    "N1*PE*SAMPLE CLINIC*XX*1999999976",
    "LX*1",
    "CLP*PCN-1*1*100*80*20*12*PAYERCLAIM1",
    "NM1*QC*1*PATIENT*TEST****MI*SIMMEMBER",
    "SVC*HC:90837*100*80**1",
    "DTM*472*20251220",
    "CAS*PR*2*20",
    "REF*6R*LINE-1",
    "REF*0K*POLICY-7",
    "REF*0K*POLICY-8",
    "AMT*B6*100",
]


def test_835_service_line_healthcare_policy_references_are_in_the_guide() -> None:
    # 005010X221A1 2110 REF*0K (healthcare policy identification, up to five) names the
    # medical policy the line was adjudicated under
    text = _interchange("HP", "005010X221A1", REMIT)
    assert _errors(text) == []
    [(interchange, _)] = read_interchanges(text)
    [claim] = list(interchange.groups[0].transactions[0].claims())  # type: ignore[attr-defined]
    [line] = claim.services
    assert [r.value for r in line.references if r.qualifier == "0K"] == ["POLICY-7", "POLICY-8"]
    assert line.line_item_control_number == "LINE-1"


def test_835_service_line_policy_reference_over_its_maximum_use_is_reported() -> None:
    body = [*REMIT[:-1], *(f"REF*0K*POLICY-{n}" for n in range(6)), REMIT[-1]]
    assert ("REF", "2110", "5") in _errors(_interchange("HP", "005010X221A1", body))


ACK_277CA = [
    "277*0001*005010X214",
    "BHT*0085*08*ACKBATCH1*20260105*0930*TH",
    "HL*1**20*1",
    "NM1*PR*2*SAMPLE HEALTH PLAN*****PI*SIMPAYER",
    "TRN*1*RECEIPT1",
    "DTP*050*D8*20260104",
    "DTP*009*D8*20260105",
    "HL*2*1*21*1",
    "NM1*41*2*SAMPLE BILLING*****46*SIMSUBMIT",
    "TRN*2*BATCH-1",
    "STC*A1:19:PR*20260105*WQ*300",
    "QTY*90*1",
    "QTY*AA*1",
    "AMT*YU*100",
    "AMT*YY*200",
    "HL*3*2*19*1",
    "NM1*85*2*FIRST CLINIC*****XX*1999999976",
    "TRN*1*0",
    "STC*A1:19:PR**WQ*100",
    "HL*4*3*PT",
    "NM1*QC*1*PATIENT*TEST****MI*SIMMEMBER",
    "TRN*2*CLAIM-1",
    "STC*A2:20:PR*20260105*WQ*100",
    "REF*1K*PAYERCLAIM1",
    "DTP*472*D8*20251220",
    "HL*5*2*19*0",
    "NM1*85*2*SECOND CLINIC*****XX*1999999984",
    "TRN*1*0",
    "STC*A3:24:85**U*200",
    "QTY*QC*2",
    "AMT*YY*200",
]


def test_277ca_billing_provider_rejected_as_a_whole_ends_its_hierarchy() -> None:
    # 005010X214: a provider rejected outright gets HL04 0 and no patient level, as a rejected
    # receiver does at 2000B; the claims beneath it are taken down by the provider's status
    text = _interchange("HN", "005010X214", ACK_277CA)
    assert _errors(text) == []
    [(interchange, _)] = read_interchanges(text)
    [tx] = interchange.groups[0].transactions
    assert isinstance(tx, ClaimAcknowledgment277CA)
    [source] = tx.sources
    [receiver] = source.levels
    first, second = receiver.levels
    assert [lvl.hl_level_code for lvl in first.levels] == ["PT"]
    assert second.levels == []


def test_277ca_billing_provider_without_its_status_loop_reads_clean() -> None:
    # 005010X214 2200C is situational: the guide's business scenarios go from the billing
    # provider's name (2100C) straight to its patients when there is no provider-level status
    at = ACK_277CA.index("TRN*1*0")  # the first provider's TRN, then its STC
    assert ACK_277CA[at + 1].startswith("STC*") and ACK_277CA[at + 2] == "HL*4*3*PT"
    body = ACK_277CA[:at] + ACK_277CA[at + 2 :]
    text = _interchange("HN", "005010X214", body)
    assert _errors(text) == []
    [(interchange, _)] = read_interchanges(text)
    [source] = interchange.groups[0].transactions[0].sources  # type: ignore[attr-defined]
    [receiver] = source.levels
    first, _ = receiver.levels
    assert first.trackings == []
    [patient] = first.levels
    assert [t.trace.reference for t in patient.trackings] == ["CLAIM-1"]


def test_277ca_provider_hl04_saying_patients_follow_still_needs_them() -> None:
    body = [s.replace("HL*5*2*19*0", "HL*5*2*19*1") for s in ACK_277CA]
    findings = [f for f in read(_interchange("HN", "005010X214", body)).findings if f.segment_id == "HL"]
    assert [(f.loop_id, f.element, f.code) for f in findings] == [("2000C", 4, "I12")]


def test_a_misqualified_trace_stays_in_its_loop_rather_than_reopening_a_used_one() -> None:
    # 2200C TRN01 must be 1; a 2 (the receiver's code) once took the TRN back into the used-up
    # 2200B, and every claim beneath the provider was read as the receiver's status
    body = [s.replace("TRN*1*0", "TRN*2*PROV-1", 1) if s == "TRN*1*0" else s for s in ACK_277CA]
    assert body.count("TRN*2*PROV-1") == 2
    text = _interchange("HN", "005010X214", body)
    findings = [(f.segment_id, f.loop_id, f.element, f.code) for f in validate(text) if f.is_error]
    assert findings == [("TRN", "2200C", 1, "7"), ("TRN", "2200C", 1, "7")]
    [(interchange, _)] = read_interchanges(text)
    [source] = interchange.groups[0].transactions[0].sources  # type: ignore[attr-defined]
    [receiver] = source.levels
    assert [t.trace.reference for t in receiver.trackings] == ["BATCH-1"]
    first, second = receiver.levels
    assert [t.trace.reference for t in first.trackings] == ["PROV-1"]
    [patient] = first.levels
    assert [t.trace.reference for t in patient.trackings] == ["CLAIM-1"]
    assert second.levels == []


@pytest.mark.parametrize("entity", ["PRP", "SEP", "TTP", "QB", "QD", "TU", "85", "IL"])
def test_277ca_claim_status_entities_of_the_guide(entity: str) -> None:
    # 005010X214 2200D/2220D STC01-3: the entity a claim's status is about, the other payers
    # of a coordination of benefits among them
    body = [s.replace("STC*A2:20:PR*", f"STC*A7:562:{entity}*") for s in ACK_277CA]
    assert _errors(_interchange("HN", "005010X214", body)) == []


def test_277ca_claim_status_entity_outside_the_guide_is_reported() -> None:
    body = [s.replace("STC*A2:20:PR*", "STC*A7:562:ZZ*") for s in ACK_277CA]
    assert _errors(_interchange("HN", "005010X214", body)) == [("STC", "2200D", "7")]


@pytest.mark.parametrize("code", ["M", "W", "X"])
def test_999_group_rejected_for_security_reasons_is_a_code_of_the_guide(code: str) -> None:
    # 005010X231A1 AK901 (as IK501): M, W and X reject the group after a failed message
    # authentication, assurance or decryption
    body = ["999*0001*005010X231A1", "AK1*HC*77*005010X222A1", "AK2*837*0001*005010X222A1", f"IK5*{code}"]
    text = _interchange("FA", "005010X231A1", [*body, f"AK9*{code}*1*1*0"])
    assert _errors(text) == []


def test_837p_pay_to_address_name_carries_no_name_or_identifier() -> None:
    # X222A1 2010AB: NM101 87 and NM102 only; NM103-NM112 are not used (the loop is an address)
    from .conftest import DATA

    text = (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.cob.example3.A.837").read_text()
    assert not [f for f in validate(text) if f.loop_id == "2010AB" and f.severity is Severity.ERROR]
    named = text.replace("NM1*87*2~", "NM1*87*2*SAMPLE ASSOCIATES~", 1)
    [finding] = [f for f in validate(named) if f.loop_id == "2010AB" and f.severity is Severity.ERROR]
    assert (finding.segment_id, finding.element, finding.code) == ("NM1", 3, "I10")


def test_278_related_causes_and_level_of_service_are_guide_codes() -> None:
    from .conftest import DATA

    text = (DATA / "278" / "kputnam-stupidedi__X217_pass_referral-request-for-review.edi").read_text()
    assert not [f for f in validate(text) if f.segment_id == "UM" and f.severity is Severity.ERROR]
    wrong = text.replace("UM*SC*I*3*11:B*****Y~", "UM*SC*I*3*11:B*UN*3***Y~", 1)
    assert "UN*3" in wrong
    codes = {(f.element, f.component, f.code) for f in validate(wrong) if f.segment_id == "UM"}
    assert {(5, 1, "7"), (6, 0, "7")} <= codes


@pytest.mark.parametrize("version", ["005010X223A2", "004010X098A1"])
def test_an_837_of_another_guide_has_no_typed_model(version: str) -> None:
    # an institutional (X223) or 4010 claim is not the 837P model's, whatever its ST01 says
    from rcm.x12 import X12Error
    from rcm.x12.models.interchange import transaction_type

    with pytest.raises(X12Error, match=f"no typed model for transaction set 837 \\({version}\\)"):
        transaction_type("837", version)
    assert transaction_type("837", "005010X222A1").__name__ == "Claim837P"


def test_a_4010_set_without_st03_has_no_typed_model_by_its_groups_version() -> None:
    # a 4010 set has no ST03: its version is GS08's, and it is not the 5010 model's
    from rcm.x12 import X12Error

    from .conftest import DATA

    text = (DATA / "835" / "LinuxForHealth-x12__demo-file_demo.835").read_text()
    old = text.replace("005010X221A1", "004010X091A1")
    assert "ST*835*1234~" in old  # no ST03
    with pytest.raises(X12Error, match=r"no typed model for transaction set 835 \(004010X091A1\)"):
        read_interchanges(old)
    assert read_interchanges(text)


@pytest.mark.parametrize(
    ("sample", "before", "after", "element"),
    [
        (
            "835/LinuxForHealth-x12__demo-file_demo.835",
            "N4*TIMBUCKTU*AK*89111~",
            "N4*TIMBUCKTU*AK*89111**DP~",
            5,
        ),
        (
            "837P/LinuxForHealth-x12__837_005010X222A2_demo.example9.837",
            "REF*EI*756473826~",
            "REF*EI*756473826*TAX ID~",
            3,
        ),
    ],
)
def test_elements_the_claim_and_remittance_guides_never_use_are_reported(
    sample: str, before: str, after: str, element: int
) -> None:
    # N405-N406, REF03, NM110-NM112, PER09, AMT03, QTY04: not used anywhere in X221A1/X222A1/X212/X214
    from .conftest import DATA

    text = (DATA / sample).read_text()
    assert before in text
    segment = after.split("*")[0]
    errors = [
        f for f in validate(text.replace(before, after, 1)) if f.code == "I10" and f.segment_id == segment
    ]
    assert [(f.segment_id, f.element) for f in errors] == [(segment, element)]
    assert not [f for f in validate(text) if f.code == "I10" and f.segment_id == segment]
