"""Underpayments against contracted rates, and the statistics by dimension."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rcm.denials.analytics import stats_events
from rcm.denials.domain.stats import Adjudication, DenialFact, aggregate
from rcm.denials.domain.underpayment import ContractRate, contracted_rate, underpayment

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 3)
RATES = [
    ContractRate("payer-1", "90837", Decimal("150.00"), date(2025, 1, 1), date(2025, 12, 31)),
    ContractRate("payer-1", "90837", Decimal("140.00"), date(2025, 1, 1), None, frozenset({"95"})),
    ContractRate("payer-1", "90834", Decimal("100.00"), date(2024, 1, 1), date(2024, 12, 31)),
]


def rate(code: str, modifiers: tuple[str, ...] = ()) -> ContractRate | None:
    return contracted_rate(
        RATES, payer_id="payer-1", procedure_code=code, modifiers=modifiers, service_date=DOS
    )


def test_allowed_below_the_contracted_rate_is_an_underpayment() -> None:
    short = underpayment(rate("90837"), allowed=Decimal("135.00"))
    assert short is not None and short.shortfall == Decimal("15.00")


def test_allowed_at_the_contracted_rate_is_not() -> None:
    assert underpayment(rate("90837"), allowed=Decimal("150.00")) is None


def test_the_rate_with_the_line_modifiers_is_the_one_that_counts() -> None:
    assert rate("90837", ("95",)) == RATES[1]
    assert underpayment(rate("90837", ("95",)), allowed=Decimal("140.00")) is None


def test_units_multiply_the_rate() -> None:
    short = underpayment(rate("90837"), allowed=Decimal("250.00"), units=2)
    assert short is not None and short.expected == Decimal("300.00")


def test_no_rate_in_force_or_no_allowed_amount_is_no_finding() -> None:
    assert rate("90834") is None  # expired schedule
    assert underpayment(rate("90837"), allowed=None) is None
    assert underpayment(None, allowed=Decimal("1.00")) is None


def fact(n: int, *, payer: str = "payer-1", carc: str = "197", resolved: date | None = None) -> DenialFact:
    return DenialFact(
        denial_id=f"den-{n}",
        claim_id=f"clm-{n}",
        payer_id=payer,
        opened_on=date(2025, 3, 10),
        amount=Decimal("100.00"),
        group="CO",
        carc=carc,
        procedure_code="90837",
        modifiers=("95",),
        provider_id="prov-1",
        state="NY",
        resolved_on=resolved,
        recovered=Decimal("80.00") if resolved else Decimal("0"),
    )


def test_stats_count_denials_and_resolutions_by_every_dimension() -> None:
    facts = [fact(1), fact(2, carc="4", resolved=date(2025, 3, 20)), fact(3, payer="payer-2")]
    adjudicated = [
        Adjudication(
            f"clm-{n}",
            "payer-1" if n != 3 else "payer-2",
            date(2025, 3, 10),
            "90837",
            ("95",),
            "prov-1",
            "NY",
        )
        for n in range(1, 11)
    ]
    tallies = aggregate(facts, adjudicated, start=date(2025, 3, 1), end=date(2025, 3, 31))
    everything = tallies[("all", "all")]
    assert (everything.claims_adjudicated, everything.claims_denied) == (10, 3)
    assert everything.denial_rate == Decimal("0.3000")
    assert everything.denied_amount == Decimal("300.00")
    assert (everything.resolved, everything.recovered) == (1, Decimal("80.00"))
    assert tallies[("payer", "payer-1")].claims_denied == 2
    assert tallies[("payer", "payer-2")].claims_adjudicated == 1
    assert tallies[("carc", "CO-197")].claims_denied == 2
    assert tallies[("procedure", "90837")].claims_denied == 3
    assert tallies[("modifier", "95")].claims_denied == 3
    assert tallies[("provider", "prov-1")].claims_denied == 3
    assert tallies[("state", "NY")].claims_denied == 3


def test_stats_outside_the_window_are_not_counted() -> None:
    tallies = aggregate([fact(1)], [], start=date(2025, 4, 1), end=date(2025, 4, 30))
    assert tallies == {}


def test_stats_become_one_event_per_scope() -> None:
    tallies = aggregate([fact(1), fact(2)], [], start=date(2025, 3, 1), end=date(2025, 3, 31))
    events = {
        e.scope_id: e
        for e in stats_events(
            tallies,
            start=date(2025, 3, 1),
            end=date(2025, 3, 31),
            computed_at=datetime(2025, 4, 1, tzinfo=UTC),
        )
    }
    assert {
        "all",
        "payer-1",
        "carc:CO-197",
        "procedure:90837",
        "modifier:95",
        "provider:prov-1",
        "state:NY",
    } <= set(events)
    assert events["all"].by_carc[0].claims == 2
    assert events["all"].claims_adjudicated == 2  # denied claims without their remit still count


def test_rejections_are_apart_from_payer_denials_and_a_carc_is_a_share_of_claims_adjudicated() -> None:
    day = date(2025, 3, 10)
    adjudications = [Adjudication(f"c{i}", "p1", day, "90837") for i in range(10)]
    facts = [
        DenialFact("d1", "c0", "p1", day, Decimal("170"), "CO", "197", "90837"),
        DenialFact("d2", "c1", "p1", day, Decimal("170"), "CO", "50", "90837"),
        DenialFact("d3", "rej1", "p1", day, Decimal("170"), source="acknowledgment"),  # a 277CA rejection
    ]
    t = aggregate(facts, adjudications, start=day, end=day)
    overall = t[("all", "all")]
    assert (overall.claims_denied, overall.claims_adjudicated, overall.denial_rate) == (2, 10, Decimal("0.2"))
    assert overall.denied_amount == Decimal("340")
    assert (overall.claims_rejected, overall.claims_submitted, overall.rejection_rate) == (
        1,
        11,
        Decimal("0.0909"),
    )
    carc = t[("carc", "CO-197")]
    assert (carc.claims_denied, carc.claims_adjudicated, carc.denial_rate) == (1, 10, Decimal("0.1"))


def test_the_denial_rate_by_dollars_counts_each_claims_charges_once() -> None:
    day = date(2025, 3, 10)
    adjudications = [
        # c0: two lines of one remit; a reprocessing of c0 (a second remit) is not counted again
        Adjudication("c0", "p1", day, "90837", remit_id="r0", charge=Decimal("170.00")),
        Adjudication("c0", "p1", day, "90785", remit_id="r0", charge=Decimal("30.00")),
        Adjudication("c0", "p1", day, "90837", remit_id="r0b", charge=Decimal("170.00")),
        Adjudication("c1", "p1", day, "90834", remit_id="r1", charge=Decimal("120.00")),
        Adjudication("c2", "p2", day, "90834", remit_id="r2", charge=Decimal("120.00")),
        Adjudication("c3", "p2", day, "90834", remit_id="r3"),  # written before charges were kept
    ]
    facts = [DenialFact("d1", "c1", "p1", day, Decimal("80.00"), "CO", "197", "90834")]
    t = aggregate(facts, adjudications, start=day, end=day)
    overall = t[("all", "all")]
    assert overall.charges_adjudicated == Decimal("440.00")
    assert overall.denial_rate_by_amount == Decimal("0.1818")
    assert t[("payer", "p1")].charges_adjudicated == Decimal("320.00")
    assert t[("payer", "p1")].denial_rate_by_amount == Decimal("0.2500")
    assert t[("payer", "p2")].denial_rate_by_amount == Decimal("0.0000")
    assert t[("procedure", "90785")].charges_adjudicated == Decimal("30.00")
    # a CARC's dollars are a share of every dollar adjudicated, like its count
    assert t[("carc", "CO-197")].denial_rate_by_amount == Decimal("0.1818")
    assert (
        aggregate([], [Adjudication("c9", "p1", day, remit_id="r9")], start=day, end=day)[
            ("all", "all")
        ].denial_rate_by_amount
        is None
    )


def test_the_stats_event_carries_rejections_and_dollars() -> None:
    day = date(2025, 3, 10)
    adjudications = [
        Adjudication(f"c{i}", "p1", day, "90837", remit_id=f"r{i}", charge=Decimal("100")) for i in range(4)
    ]
    facts = [
        DenialFact("d1", "c0", "p1", day, Decimal("100"), "CO", "197", "90837"),
        DenialFact("d2", "rej1", "p1", day, Decimal("170"), source="acknowledgment"),
    ]
    tallies = aggregate(facts, adjudications, start=day, end=day)
    event = next(
        e
        for e in stats_events(tallies, start=day, end=day, computed_at=datetime(2025, 3, 11, tzinfo=UTC))
        if e.scope_id == "all"
    )
    assert (event.claims_adjudicated, event.claims_denied, event.denial_rate) == (4, 1, Decimal("0.25"))
    assert (event.denied_amount, event.charges_adjudicated, event.denial_rate_by_amount) == (
        Decimal("100"),
        Decimal("400"),
        Decimal("0.25"),
    )
    assert (event.claims_submitted, event.claims_rejected, event.rejection_rate, event.rejected_amount) == (
        5,
        1,
        Decimal("0.2"),
        Decimal("170"),
    )
