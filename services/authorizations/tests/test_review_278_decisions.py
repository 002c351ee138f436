"""278 responses read by their decisions: which services are certified, for what, how many."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rcm.authorizations.review_278 import authorizations_from_response
from rcm.events.models import AuthorizationReceived, AuthorizationUnit
from rcm.x12.convert import read_interchange
from rcm.x12.models.auth_278 import ServiceReviewResponse278

pytestmark = pytest.mark.unit

RECEIVED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ISA = "ISA*00*          *00*          *ZZ*SYNBH1         *ZZ*SUBMITTER      *250301*1200*^*00501*000000001*0*T*:"


def _response(*body: str) -> ServiceReviewResponse278:
    """A synthetic 278 response: UMO, requester, subscriber, then ``body`` (2000E and 2000F)."""
    segments = [
        "ST*278*0001*005010X217",
        "BHT*0007*11*SYN0001*20250301*1200",
        "HL*1**20*1",
        "NM1*X3*2*SYNTHETIC BEHAVIORAL HEALTH*****PI*SYNBH1",
        "HL*2*1*21*1",
        "NM1*1P*2*TEST PRACTICE*****XX*1000000004",
        "HL*3*2*22*1",
        "NM1*IL*1*PATIENT*TEST****MI*SYN000001",
        *body,
    ]
    segments.append(f"SE*{len(segments) + 1}*0001")
    x12 = "~".join(
        [
            ISA,
            "GS*HI*SYNBH1*SUBMITTER*20250301*1200*1*X*005010X217",
            *segments,
            "GE*1*1",
            "IEA*1*000000001",
            "",
        ]
    )
    interchange, _ = read_interchange(x12.encode())
    [response] = interchange.groups[0].transactions
    assert isinstance(response, ServiceReviewResponse278)
    return response


def _read(response: ServiceReviewResponse278) -> list[AuthorizationReceived]:
    return authorizations_from_response(
        response, patient_id="pat-0001", coverage_id="cov-0001", payer_id="payer-0001", received_at=RECEIVED
    )


def _event(decision: str, *rest: str, children: bool = True) -> list[str]:
    return [
        f"HL*4*3*EV*{1 if children else 0}",
        "TRN*2*SYNTRACE1*1000000004",
        "UM*HS*I*MH*11:B",
        decision,
        *rest,
    ]


def _service(hl: int, decision: str | None, code: str, *rest: str) -> list[str]:
    return [
        f"HL*{hl}*4*SS*0",
        "UM*HS*I*MH*11:B",
        *([decision] if decision else []),
        "DTP*472*RD8*20250301-20250831",
        f"SV1*HC:{code}**UN*12",
        *rest,
    ]


def test_a_partial_certification_registers_the_certified_service_only() -> None:
    response = _response(
        *_event("HCR*A2*SYNAUTH100", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*12"),
        *_service(5, "HCR*A1*SYNAUTH100", "90837"),
        *_service(6, "HCR*A3**CT", "90785"),
    )
    [auth] = _read(response)
    assert (auth.auth_number, auth.unit, auth.authorized) == ("SYNAUTH100", AuthorizationUnit.VISITS, 12)
    assert auth.procedure_codes == ["90837"]
    assert (auth.valid.start, auth.valid.end) == (date(2025, 3, 1), date(2025, 8, 31))


def test_a_service_not_certified_under_a_certified_event_is_not_covered() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH101", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*8"),
        *_service(5, None, "90834"),
        *_service(6, "HCR*A3**CT", "90837"),
    )
    [auth] = _read(response)
    assert (auth.authorized, auth.procedure_codes) == (8, ["90834"])


@pytest.mark.parametrize("decision", ["HCR*A3**CT", "HCR*A4", "HCR*C", "HCR*CT", "HCR*NA"])
def test_decisions_that_certify_nothing_register_nothing(decision: str) -> None:
    response = _response(
        *_event(decision, "REF*BB*SYNAUTH102", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*12", children=False)
    )
    assert _read(response) == []


def test_a_rejected_request_registers_nothing() -> None:
    response = _response(
        "HL*4*3*EV*0",
        "TRN*2*SYNTRACE1*1000000004",
        "AAA*N**15*N",
        "UM*HS*I*MH*11:B",
        "HCR*A1*SYNAUTH103",
        "DTP*AAH*RD8*20250301-20250831",
        "HSD*VS*12",
    )
    assert _read(response) == []


def test_hsd_fl_certifies_units_not_the_units_asked_for() -> None:
    response = _response(
        *_event("HCR*A6*SYNAUTH104", "DTP*AAH*RD8*20250301-20250531"),
        *_service(5, "HCR*A6*SYNAUTH104", "H2019", "HSD*FL*48"),
    )
    [auth] = _read(response)
    assert (auth.unit, auth.authorized, auth.procedure_codes) == (AuthorizationUnit.UNITS, 48, ["H2019"])


def test_hsd_at_the_event_counts_units_for_the_whole_event() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH105", "DTP*AAH*RD8*20250301-20250531", "HSD*FL*48"),
        *_service(5, None, "H2019"),
    )
    [auth] = _read(response)
    assert (auth.unit, auth.authorized, auth.procedure_codes) == (AuthorizationUnit.UNITS, 48, ["H2019"])


def test_hsd_visits_with_a_frequency_counts_the_total() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH106", "DTP*AAH*RD8*20250301-20250531", "HSD*VS*12*WK*1*34*3", children=False)
    )
    [auth] = _read(response)
    assert (auth.unit, auth.authorized) == (AuthorizationUnit.VISITS, 12)


def test_service_levels_with_their_own_quantities_are_limits_per_code() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH107", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, "HCR*A1*SYNAUTH107", "90837", "HSD*VS*12"),
        *_service(6, "HCR*A1*SYNAUTH107", "90785", "HSD*VS*4"),
    )
    found = {a.procedure_codes[0]: a for a in _read(response)}
    assert {code: (a.auth_number, a.authorized) for code, a in found.items()} == {
        "90837": ("SYNAUTH107", 12),
        "90785": ("SYNAUTH107", 4),
    }
    assert len({a.authorization_id for a in found.values()}) == 2


def test_certification_expiration_date_ends_the_window() -> None:
    response = _response(
        *_event(
            "HCR*A1*SYNAUTH108", "DTP*007*D8*20250301", "DTP*036*D8*20250630", "HSD*VS*10", children=False
        )
    )
    [auth] = _read(response)
    assert (auth.valid.start, auth.valid.end) == (date(2025, 3, 1), date(2025, 6, 30))
