"""The 271 read against the 005010X279A1 rules: HSD visit counts per a number of periods, HSD
under the active coverage, and a very large 271, on synthetic 271s.

Every identifier, name and date here is invented.
"""

from __future__ import annotations

import time

import pytest

from .test_271_rules import PLAN, read

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ HSD05 with HSD06: periods


@pytest.mark.parametrize(
    "hsd",
    [
        "HSD*VS*20***34*12",  # twenty per 12 months
        "HSD*VS*20***35*52",  # twenty per 52 weeks
        "HSD*VS*20***7*365",  # twenty per 365 days
    ],
)
def test_visits_per_twelve_months_are_a_visit_limit(hsd: str) -> None:
    """HSD06 counts the HSD05 periods: twenty visits per 12 months is a (rolling) year's pool,
    not a monthly frequency rule."""
    summary = read(*PLAN, "EB*F*IND*MH", hsd, "EB*F*IND*MH***29***VS*7")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.remaining) == (20, 7)
    assert summary.visits_remaining == 7


@pytest.mark.parametrize(
    "hsd",
    [
        "HSD*VS*4***34*1",
        "HSD*VS*2***35*1",
        "HSD*VS*10***34*6",
        # over two years: not a year's pool (read as one, it would double the visits left)
        "HSD*VS*20***34*24",
        "HSD*VS*20***35*104",
        "HSD*VS*20***7*730",
    ],
)
def test_visits_per_fewer_or_more_periods_than_a_year_are_no_year_s_limit(hsd: str) -> None:
    assert read(*PLAN, "EB*F*IND*MH", hsd).visit_limit is None


def test_a_year_s_limit_still_wins_over_a_twelve_month_one() -> None:
    summary = read(*PLAN, "EB*F*IND*MH", "HSD*VS*20***34*12", "EB*F*IND*MH***23***VS*30")
    assert summary.visit_limit is not None and summary.visit_limit.allowed == 30


# ------------------------------------------------------------------ HSD under the active coverage


def test_visits_an_active_coverage_states_in_hsd_are_its_visit_limit() -> None:
    """EB*1 for MH with HSD*VS*30***22: thirty visits covered a service year."""
    summary = read(*PLAN, "EB*1*IND*MH", "HSD*VS*30***22", "EB*F*IND*MH***29***VS*12")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (30, 18, 12)


def test_an_active_coverage_s_days_or_inactive_coverage_s_visits_are_no_visit_limit() -> None:
    assert read(*PLAN, "EB*1*IND*MH", "HSD*DY*30***22").visit_limit is None
    assert read(*PLAN, "EB*6*IND*MH", "HSD*VS*30***22").visit_limit is None
    assert read(*PLAN, "EB*1*IND*MH***23***DY*30").visit_limit is None


def test_an_inpatient_coverage_s_visits_are_not_the_office_visit_s() -> None:
    assert read(*PLAN, "EB*1*IND*MH", "HSD*VS*30***22", "III*ZZ*21").visit_limit is None


# ------------------------------------------------------------------ very large 271s


def test_a_271_naming_thousands_of_providers_is_read_in_linear_time() -> None:
    """A payer listing a provider (2120C) under each of 4000 benefits: every entity kept once, in
    under a second here (comparing each with all those kept before took about 20 s)."""
    benefits = [
        segment
        for n in range(4000)
        for segment in (
            f"EB*N*IND*{n % 90 + 1}",
            "LS*2120",
            f"NM1*1P*2*SYNTHETIC PROVIDER {n}",
            "PER*IC**TE*8005550100",
            "LE*2120",
        )
    ]
    started = time.perf_counter()
    again = ("EB*N*IND*1", "LS*2120", "NM1*1P*2*SYNTHETIC PROVIDER 0", "PER*IC**TE*8005550100", "LE*2120")
    summary = read(*PLAN, *benefits, *again)
    assert time.perf_counter() - started < 5
    assert len(summary.related_entities) == 4000
    assert summary.related_entities[0].name == "SYNTHETIC PROVIDER 0"
