"""278 responses read for what they say: open-ended certifications, quantities the ledger
cannot count, and a cancelled service that is not the whole authorization."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rcm.authorizations.domain import Authorization, AuthorizationUnit
from rcm.authorizations.review_278 import (
    NotCancelled,
    Refusal,
    Refused,
    cancellations_from_response,
    cancelled_services,
    read_response,
    service_cancellations_from_response,
    unmatched_cancellations_from_response,
)
from rcm.x12.models.auth_278 import ServiceReviewResponse278

from .test_review_278_decisions import _event, _read, _response

pytestmark = pytest.mark.unit

RECEIVED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _service(hl: int, decision: str | None, sv1: str, *rest: str) -> list[str]:
    return [
        f"HL*{hl}*4*SS*0",
        "UM*HS*I*MH*11:B",
        *([decision] if decision else []),
        "DTP*472*RD8*20250301-20250831",
        sv1,
        *rest,
    ]


def _refused(response: ServiceReviewResponse278) -> list[Refused]:
    return read_response(
        response, patient_id="pat-0001", coverage_id="cov-0001", payer_id="payer-0001", received_at=RECEIVED
    ).refused


def _on_file(auth_id: str, codes: frozenset[str]) -> Authorization:
    return Authorization(
        authorization_id=auth_id,
        patient_id="pat-0001",
        payer_id="payer-0001",
        coverage_id="cov-0001",
        auth_number="SYNAUTH300",
        unit=AuthorizationUnit.VISITS,
        authorized=12,
        start=date(2025, 3, 1),
        end=date(2025, 8, 31),
        procedure_codes=codes,
    )


# ---------------------------------------------------------------- the window


def test_a_certification_effective_date_alone_is_open_ended() -> None:
    response = _response(*_event("HCR*A1*SYNAUTH301", "DTP*AAH*D8*20250301", "HSD*VS*12", children=False))
    [auth] = _read(response)
    assert (auth.valid.start, auth.valid.end) == (date(2025, 3, 1), None)


def test_an_effective_date_with_an_expiration_ends_on_the_expiration() -> None:
    response = _response(
        *_event(
            "HCR*A1*SYNAUTH302", "DTP*AAH*D8*20250301", "DTP*036*D8*20250831", "HSD*VS*12", children=False
        )
    )
    [auth] = _read(response)
    assert (auth.valid.start, auth.valid.end) == (date(2025, 3, 1), date(2025, 8, 31))


def test_a_single_date_of_service_is_that_one_day() -> None:
    response = _response(*_event("HCR*A1*SYNAUTH303", "DTP*472*D8*20250301", "HSD*VS*1", children=False))
    [auth] = _read(response)
    assert (auth.valid.start, auth.valid.end) == (date(2025, 3, 1), date(2025, 3, 1))


# ---------------------------------------------------------------- quantities


def test_hours_certified_are_refused_not_replaced_by_the_units_asked_for() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH304", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, None, "SV1*HC:H2019**UN*120", "HSD*HS*20"),
    )
    assert _read(response) == []
    assert _refused(response) == [Refused("SYNAUTH304", ("H2019",), Refusal.UNCOUNTED_QUANTITY, "HSD01 HS")]


def test_a_counted_quantity_beside_an_uncounted_one_is_registered() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH305", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, None, "SV1*HC:H2019**UN*120", "HSD*HS*20", "HSD*FL*80"),
    )
    [auth] = _read(response)
    assert (auth.unit, auth.authorized, auth.procedure_codes) == (AuthorizationUnit.UNITS, 80, ["H2019"])
    assert _refused(response) == []


def test_months_at_the_event_are_refused_for_the_services_sharing_them() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH306", "DTP*AAH*RD8*20250301-20250831", "HSD*MN*6"),
        *_service(5, None, "SV1*HC:H0004**UN*24"),
        *_service(6, None, "SV1*HC:H2019**UN*48"),
    )
    assert _read(response) == []
    assert _refused(response) == [
        Refused("SYNAUTH306", ("H0004", "H2019"), Refusal.UNCOUNTED_QUANTITY, "HSD01 MN")
    ]


def test_minutes_asked_for_are_not_taken_as_units() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH307", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, None, "SV1*HC:H2019**MJ*600"),
    )
    assert _read(response) == []
    [refused] = _refused(response)
    assert (refused.reason, refused.detail) == (Refusal.UNCOUNTED_QUANTITY, "SV unit basis MJ")


def test_units_asked_for_are_still_what_a_response_without_hsd_certifies() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH308", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, None, "SV1*HC:H2019**UN*48"),
    )
    [auth] = _read(response)
    assert (auth.unit, auth.authorized) == (AuthorizationUnit.UNITS, 48)


def test_a_certification_without_any_quantity_is_refused_with_its_reason() -> None:
    response = _response(*_event("HCR*A1*SYNAUTH309", "DTP*AAH*RD8*20250301-20250831", children=False))
    assert _refused(response) == [Refused("SYNAUTH309", (), Refusal.NO_QUANTITY)]


def test_an_hsd_that_only_paces_leaves_the_certified_units_to_the_service_line() -> None:
    # HSD05/06: seven per week, no HSD01/HSD02 quantity; SV1 on the certified level says 120
    response = _response(
        *_event("HCR*A1*SYNAUTH310", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, None, "SV1*HC:H2019**UN*120", "HSD*****7*1"),
    )
    [auth] = _read(response)
    assert (auth.unit, auth.authorized, auth.procedure_codes) == (AuthorizationUnit.UNITS, 120, ["H2019"])


def test_zero_visits_certified_is_refused_as_no_quantity() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH311", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*0", children=False)
    )
    assert _refused(response) == [Refused("SYNAUTH311", (), Refusal.NO_QUANTITY)]


# ---------------------------------------------------------------- a cancelled service


def _one_service_cancelled() -> ServiceReviewResponse278:
    return _response(
        *_event("HCR*A1*SYNAUTH300", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*12"),
        *_service(5, "HCR*C*SYNAUTH300", "SV1*HC:90837**UN*12"),
        *_service(6, "HCR*A1*SYNAUTH300", "SV1*HC:90834**UN*12"),
    )


def test_a_service_level_cancellation_cancels_that_service_not_the_number() -> None:
    response = _one_service_cancelled()
    assert cancellations_from_response(response) == {}
    assert service_cancellations_from_response(response) == {("SYNAUTH300", "90837"): date(2025, 3, 1)}
    [auth] = _read(response)  # what is still certified is registered
    assert auth.procedure_codes == ["90834"]


def test_a_per_code_authorization_of_the_cancelled_service_is_cancelled() -> None:
    therapy = _on_file("auth-278-SYNAUTH300:90837", frozenset({"90837"}))
    other = _on_file("auth-278-SYNAUTH300:90834", frozenset({"90834"}))
    events, left = cancelled_services(
        [therapy, other],
        service_cancellations_from_response(_one_service_cancelled()),
        payer_id="payer-0001",
        received_at=RECEIVED,
    )
    assert [(e.authorization_id, e.cancelled_on) for e in events] == [
        ("auth-278-SYNAUTH300:90837", date(2025, 3, 1))
    ]
    assert left == []


def test_a_shared_authorization_is_left_and_reported_not_cancelled_whole() -> None:
    pooled = _on_file("auth-278-SYNAUTH300", frozenset({"90834", "90837"}))
    events, left = cancelled_services(
        [pooled],
        service_cancellations_from_response(_one_service_cancelled()),
        payer_id="payer-0001",
        received_at=RECEIVED,
    )
    assert events == []
    assert left == [NotCancelled("SYNAUTH300", "90837", "shared")]


def test_an_event_level_cancellation_still_cancels_the_number() -> None:
    response = _response(
        *_event("HCR*C*SYNAUTH300", "DTP*AAH*RD8*20250301-20250831"),
        *_service(5, "HCR*C*SYNAUTH300", "SV1*HC:90837**UN*12"),
    )
    assert cancellations_from_response(response) == {"SYNAUTH300": date(2025, 3, 1)}
    assert service_cancellations_from_response(response) == {}


def test_a_cancelled_revenue_code_alone_among_services_cancels_nothing_and_is_reported() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH300", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*12"),
        *_service(5, "HCR*C", "SV2*0900**100*UN*10"),
        *_service(6, None, "SV1*HC:90837**UN*12"),
    )
    assert cancellations_from_response(response) == {}
    assert service_cancellations_from_response(response) == {}
    assert unmatched_cancellations_from_response(response) == ["SYNAUTH300"]


def test_the_only_service_cancelled_with_a_revenue_code_alone_cancels_the_number() -> None:
    response = _response(
        *_event("HCR*A1*SYNAUTH300", "DTP*AAH*RD8*20250301-20250831", "HSD*VS*12"),
        *_service(5, "HCR*C", "SV2*0900**100*UN*10"),
    )
    assert cancellations_from_response(response) == {"SYNAUTH300": date(2025, 3, 1)}
    assert unmatched_cancellations_from_response(response) == []
