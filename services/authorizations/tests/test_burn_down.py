"""The burn-down rules: which authorization a line uses, how much, and what is left."""

from __future__ import annotations

from datetime import date

import pytest

from rcm.authorizations.domain import (
    Authorization,
    AuthorizationUnit,
    Consumed,
    NotRequired,
    ServiceLine,
    Uncovered,
    authorization_to_reserve,
    burn_down,
)
from rcm.events.models import AlertKind

pytestmark = pytest.mark.unit


def auth(
    auth_id: str,
    *,
    authorized: int = 10,
    start: date = date(2025, 1, 1),
    end: date | None = date(2025, 6, 30),
    codes: tuple[str, ...] = ("90834", "90837"),
    provider: str | None = None,
    unit: AuthorizationUnit = AuthorizationUnit.VISITS,
    used: int = 0,
    reserved: int = 0,
    number: str | None = None,
) -> Authorization:
    return Authorization(
        authorization_id=auth_id,
        patient_id="pat-1",
        payer_id="payer-1",
        coverage_id="cov-1",
        auth_number=number or f"N-{auth_id}",
        unit=unit,
        authorized=authorized,
        start=start,
        end=end,
        procedure_codes=frozenset(codes),
        provider_id=provider,
        used=used,
        reserved=reserved,
    )


def line(
    n: int = 1,
    *,
    code: str = "90837",
    day: date = date(2025, 3, 3),
    provider: str = "prov-1",
    units: int = 1,
    session: str | None = None,
) -> ServiceLine:
    return ServiceLine(
        line_key=f"{session or f'ses-{n}'}:{code}",
        claim_id=f"clm-{n}",
        session_id=session or f"ses-{n}",
        patient_id="pat-1",
        payer_id="payer-1",
        coverage_id="cov-1",
        procedure_code=code,
        units=units,
        service_date=day,
        provider_id=provider,
    )


def ledger(*auths: Authorization) -> dict[str, Authorization]:
    return {a.authorization_id: a for a in auths}


def test_a_visit_burns_one_visit_and_leaves_the_rest() -> None:
    result = burn_down([line()], ledger(auth("a", authorized=12)), required={})
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed)
    assert outcome.quantity == 1
    assert outcome.remaining == 11
    assert result.authorizations["a"].used == 1


def test_overlapping_authorizations_burn_the_one_expiring_first() -> None:
    later = auth("later", end=date(2025, 12, 31))
    sooner = auth("sooner", end=date(2025, 4, 30))
    open_ended = auth("open", end=None)
    result = burn_down([line()], ledger(later, open_ended, sooner), required={})
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed)
    assert outcome.authorization.authorization_id == "sooner"


def test_when_the_first_to_expire_is_used_up_the_next_one_carries_the_visit() -> None:
    sooner = auth("sooner", end=date(2025, 4, 30), authorized=2, used=1)
    later = auth("later", end=date(2025, 12, 31))
    result = burn_down([line(1), line(2)], ledger(sooner, later), required={})
    chosen = [o.authorization.authorization_id for _, o in result.outcomes if isinstance(o, Consumed)]
    assert chosen == ["sooner", "later"]
    assert result.authorizations["sooner"].remaining == 0
    assert result.authorizations["later"].remaining == 9


def test_the_authorization_number_on_the_claim_wins_over_expiry() -> None:
    sooner = auth("sooner", end=date(2025, 4, 30))
    named = auth("named", end=date(2025, 12, 31), number="G1-NAMED")
    result = burn_down([line()], ledger(sooner, named), required={}, preferred_number="G1-NAMED")
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed)
    assert outcome.authorization.authorization_id == "named"


def test_a_provider_restricted_authorization_does_not_cover_another_clinician() -> None:
    theirs = auth("theirs", provider="prov-2")
    result = burn_down([line(provider="prov-1")], ledger(theirs), required={"ses-1:90837": True})
    [(_, outcome)] = result.outcomes
    assert outcome == Uncovered(AlertKind.MISSING)
    assert result.authorizations["theirs"].used == 0


def test_a_provider_restricted_authorization_covers_its_own_clinician() -> None:
    mine = auth("mine", provider="prov-1", end=date(2025, 12, 31))
    other = auth("other", provider="prov-2", end=date(2025, 3, 31))
    result = burn_down([line(provider="prov-1")], ledger(mine, other), required={})
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed)
    assert outcome.authorization.authorization_id == "mine"


def test_a_code_not_on_the_authorization_is_not_covered() -> None:
    therapy_only = auth("therapy", codes=("90834", "90837"))
    result = burn_down([line(code="96130")], ledger(therapy_only), required={"ses-1:96130": True})
    [(_, outcome)] = result.outcomes
    assert outcome == Uncovered(AlertKind.MISSING)


def test_an_authorization_without_codes_covers_any_code() -> None:
    result = burn_down([line(code="90847")], ledger(auth("any", codes=())), required={})
    assert isinstance(result.outcomes[0][1], Consumed)


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2024, 12, 31), False),
        (date(2025, 1, 1), True),
        (date(2025, 6, 30), True),
        (date(2025, 7, 1), False),
    ],
)
def test_the_date_window_is_inclusive(day: date, covered: bool) -> None:
    result = burn_down([line(day=day)], ledger(auth("a")), required={"ses-1:90837": True})
    assert isinstance(result.outcomes[0][1], Consumed) is covered


def test_a_line_needing_no_authorization_and_finding_none_is_not_counted() -> None:
    result = burn_down([line(code="90791")], ledger(auth("a")), required={"ses-1:90791": False})
    assert result.outcomes[0][1] == NotRequired()


def test_a_required_line_on_a_used_up_authorization_is_exhausted() -> None:
    full = auth("full", authorized=4, used=4)
    result = burn_down([line()], ledger(full), required={"ses-1:90837": True})
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Uncovered)
    assert outcome.kind is AlertKind.EXHAUSTED
    assert outcome.authorization is not None and outcome.authorization.authorization_id == "full"


def test_a_session_counts_one_visit_however_many_lines_it_has() -> None:
    therapy = line(session="ses-9", code="90837")
    add_on = line(session="ses-9", code="90785")
    result = burn_down([therapy, add_on], ledger(auth("a", codes=())), required={})
    quantities = [o.quantity for _, o in result.outcomes if isinstance(o, Consumed)]
    assert quantities == [1, 0]
    assert result.authorizations["a"].used == 1


def test_a_session_already_counted_uses_no_further_visit() -> None:
    result = burn_down(
        [line(session="ses-9", code="90785")],
        ledger(auth("a", codes=(), used=1)),
        required={},
        counted_sessions=[("a", "ses-9")],
    )
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed) and outcome.quantity == 0


def test_unit_authorizations_burn_the_units_of_the_line() -> None:
    units = auth("u", unit=AuthorizationUnit.UNITS, authorized=40, codes=("H2019",))
    result = burn_down([line(code="H2019", units=6)], ledger(units), required={})
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed)
    assert (outcome.quantity, outcome.remaining) == (6, 34)


def test_a_unit_authorization_short_of_a_required_line_carries_what_it_has_left() -> None:
    units = auth("u", unit=AuthorizationUnit.UNITS, authorized=8, used=6, codes=("H0004",))
    result = burn_down(
        [line(1, code="H0004", units=4), line(2, code="H0004", units=2)],
        ledger(units),
        required={"ses-1:H0004": True, "ses-2:H0004": True},
    )
    [(_, first), (_, second)] = result.outcomes
    # the payer pays the 2 units authorized and denies the other 2
    assert isinstance(first, Consumed) and (first.quantity, first.excess, first.remaining) == (2, 2, 0)
    # the next line finds nothing left: the first did not leave the units for it
    assert isinstance(second, Uncovered) and second.kind is AlertKind.EXHAUSTED
    assert result.authorizations["u"].used == 8


def test_a_line_is_carried_whole_by_another_authorization_before_in_part() -> None:
    short = auth("short", unit=AuthorizationUnit.UNITS, authorized=8, used=6, end=date(2025, 3, 31))
    roomy = auth("roomy", unit=AuthorizationUnit.UNITS, authorized=20, end=date(2025, 12, 31))
    result = burn_down([line(units=4)], ledger(short, roomy), required={"ses-1:90837": True})
    [(_, outcome)] = result.outcomes
    assert isinstance(outcome, Consumed)
    assert (outcome.authorization.authorization_id, outcome.quantity, outcome.excess) == ("roomy", 4, 0)


def test_a_line_needing_no_authorization_is_not_carried_in_part() -> None:
    units = auth("u", unit=AuthorizationUnit.UNITS, authorized=40, used=38, codes=("H2019",))
    result = burn_down([line(code="H2019", units=4)], ledger(units), required={"ses-1:H2019": False})
    assert result.outcomes[0][1] == NotRequired()
    assert result.authorizations["u"].used == 38


def test_a_voided_claim_gives_its_visit_back() -> None:
    result = burn_down([line()], ledger(auth("a", authorized=3)), required={})
    used = result.authorizations["a"]
    assert used.remaining == 2
    restored = used.give_back(1)
    assert restored.remaining == 3
    again = burn_down([line(2)], ledger(restored), required={})
    assert again.authorizations["a"].remaining == 2


def test_another_patients_authorization_is_never_used() -> None:
    theirs = Authorization(
        authorization_id="x",
        patient_id="pat-2",
        payer_id="payer-1",
        coverage_id="cov-2",
        auth_number="N",
        unit=AuthorizationUnit.VISITS,
        authorized=5,
        start=date(2025, 1, 1),
    )
    result = burn_down([line()], ledger(theirs), required={"ses-1:90837": True})
    assert result.outcomes[0][1] == Uncovered(AlertKind.MISSING)


def test_an_appointment_books_a_visit_on_the_authorization_expiring_first() -> None:
    sooner = auth("sooner", end=date(2025, 4, 30))
    later = auth("later", end=date(2025, 12, 31))
    full = auth("full", end=date(2025, 3, 31), authorized=2, used=1, reserved=1)
    chosen = authorization_to_reserve(
        [later, full, sooner],
        patient_id="pat-1",
        day=date(2025, 3, 10),
        provider_id="p",
        expected_codes=["90837"],
    )
    assert chosen is not None and chosen.authorization_id == "sooner"


def test_unit_authorizations_are_not_booked_by_appointments() -> None:
    units = auth("u", unit=AuthorizationUnit.UNITS, codes=())
    chosen = authorization_to_reserve(
        [units], patient_id="pat-1", day=date(2025, 3, 10), provider_id="p", expected_codes=[]
    )
    assert chosen is None
