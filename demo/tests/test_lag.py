"""The sustained benchmark's lag verdict: a flat lag is bounded, a growing one is not."""

from __future__ import annotations

import pytest

from rcm.demo.lag import GroupLag, LagSample, fit, group_lag, lag_bounded, lag_trends, slope, topics_read

pytestmark = pytest.mark.unit

OFFERED = 100.0  # sessions offered per second


def _series(lag_at: list[int], *, every_s: float = 5.0, arrival_per_s: float = 400.0) -> list[LagSample]:
    return [
        LagSample(
            at_s=i * every_s, groups={"claims": GroupLag(lag=lag, end=int(i * every_s * arrival_per_s))}
        )
        for i, lag in enumerate(lag_at)
    ]


def test_slope_is_least_squares() -> None:
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(0, 7)]) == 0.0
    assert slope([(3, 1), (3, 9)]) == 0.0
    assert fit([(0, 1), (1, 3), (2, 5), (3, 7)]) == (pytest.approx(2.0), pytest.approx(0.0))


def test_a_flat_sawtooth_lag_is_bounded() -> None:
    # a batched consumer: lag jumps and drains, but does not drift
    samples = _series([0, 300, 40, 350, 10, 320, 30, 340, 20, 310, 25, 330, 15])
    trends = lag_trends(samples, offered_per_s=OFFERED)
    claims = trends["claims"]
    assert claims.arrival_per_s == pytest.approx(400.0)
    assert claims.max == 350
    assert claims.end == 15
    assert abs(claims.slope_per_s) < claims.growth_limit_per_s == pytest.approx(4.0)
    assert claims.bounded
    assert lag_bounded(trends)


def test_a_lag_growing_at_a_tenth_of_the_arrivals_is_not_bounded() -> None:
    # 40 events/s behind (10% of the arrivals), under a batched consumer's sawtooth
    samples = _series([40 * 5 * i + (300 if i % 2 else 0) for i in range(13)])
    trends = lag_trends(samples, offered_per_s=OFFERED)
    assert trends["claims"].slope_per_s == pytest.approx(40.0, abs=15)
    assert trends["claims"].growing
    assert not lag_bounded(trends)


def test_one_late_spike_of_a_quiet_group_is_not_a_trend() -> None:
    # a few events arrive together just before the window ends: the fitted slope is above
    # 1% of the arrivals, but well inside its own wobble
    samples = _series([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 12, 0], every_s=2.0, arrival_per_s=12.5)
    claims = lag_trends(samples, offered_per_s=2.0)["claims"]
    assert claims.slope_per_s > claims.growth_limit_per_s
    assert not claims.growing
    assert claims.bounded


def test_a_lag_that_grew_early_and_levelled_off_is_judged_on_the_last_half() -> None:
    samples = _series([0, 800, 1600, 2400, 3000, 3000, 3010, 2990, 3000, 3005, 2995, 3000, 3000])
    claims = lag_trends(samples, offered_per_s=OFFERED)["claims"]
    assert not claims.growing
    # flat at 3,000 behind: within 10 s of arrivals (4,000 events)
    assert claims.bound == pytest.approx(4000.0)
    assert claims.bounded


def test_a_flat_but_large_end_lag_is_not_bounded() -> None:
    samples = _series([9000] * 13)
    claims = lag_trends(samples, offered_per_s=OFFERED)["claims"]
    assert not claims.growing
    assert not claims.bounded


def test_an_idle_group_is_bounded_and_no_samples_is_no_verdict() -> None:
    samples = [LagSample(at_s=i * 5.0, groups={"eligibility": GroupLag(lag=0, end=50)}) for i in range(10)]
    assert lag_bounded(lag_trends(samples, offered_per_s=OFFERED))
    assert not lag_bounded(lag_trends([], offered_per_s=OFFERED))


def test_group_lag_counts_never_committed_partitions_of_topics_it_reads() -> None:
    ends = {("s", 0): 10, ("s", 1): 7, ("s", 2): 0, ("other", 0): 50}
    committed = {("s", 0): 8, ("s", 1): -1, ("s", 2): -1, ("other", 0): -1}
    reads = topics_read(committed)
    assert reads == {"s"}
    assert group_lag(ends, committed, reads) == GroupLag(lag=2 + 7, end=17)
