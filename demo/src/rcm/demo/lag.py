"""Consumer lag of the services' groups over a run, and whether it stayed bounded.

The pipeline benchmark's sustained mode samples, every few seconds, how many events each
service's consumer group is behind (end offset - committed offset over the topics it
reads). A throughput is sustained when no group falls further and further behind: over
the last half of the window its lag does not clearly grow faster than 1% of what arrives,
and at the end of the window it is a few seconds of work at most.

Everything here is arithmetic on offsets already read; ``Cycle.lag_probe`` reads them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "GroupLag",
    "LagSample",
    "LagTrend",
    "group_lag",
    "lag_bounded",
    "lag_trends",
    "slope",
    "topics_read",
]

Partition = tuple[str, int]
"""(topic, partition); aiokafka's ``TopicPartition`` is such a tuple."""

GROWTH_SHARE = 0.01
"""A lag growing by more than this share of the arrival rate is falling behind."""
BOUND_SECONDS = 10.0
"""The end lag may be at most this many seconds of arrivals ..."""
BOUND_FLOOR = 100
"""... or this many events, whichever is larger (a batch or two at low rates)."""


@dataclass(frozen=True)
class GroupLag:
    """One consumer group at one moment."""

    lag: int
    """Events behind: end offset - committed offset, summed over the partitions of the topics it reads."""
    end: int
    """End offsets summed over the same partitions (their growth is the group's arrival rate)."""


@dataclass(frozen=True)
class LagSample:
    at_s: float
    """Seconds since the window started."""
    groups: Mapping[str, GroupLag]
    claims_submitted: int = 0


@dataclass(frozen=True)
class LagTrend:
    """One group's lag over a window."""

    max: int
    end: int
    slope_per_s: float
    """Least-squares growth of the lag over the last half of the window, events per second."""
    slope_error_per_s: float
    """The standard error of that slope (how much the lag wobbles around its trend)."""
    arrival_per_s: float
    """Events arriving on the topics the group reads, per second over the window."""
    growth_limit_per_s: float
    bound: float
    growing: bool
    bounded: bool


def group_lag(
    ends: Mapping[Partition, int], committed: Mapping[Partition, int], reads: Collection[str]
) -> GroupLag:
    """Lag of one group over the partitions of the topics in ``reads``.

    The broker answers -1 for a partition the group never committed: on a topic the group
    reads, that partition is behind by everything in it (the run's topics start at offset 0).
    """
    lag = end_total = 0
    for tp, end in ends.items():
        if tp[0] not in reads:
            continue
        end_total += end
        lag += max(0, end - max(committed.get(tp, -1), 0))
    return GroupLag(lag=lag, end=end_total)


def topics_read(committed: Mapping[Partition, int]) -> set[str]:
    """The topics a group has committed an offset on (a group reads only what it subscribes to)."""
    return {tp[0] for tp, offset in committed.items() if offset >= 0}


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x; 0 with fewer than two distinct x."""
    return fit(points)[0]


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of y over x and its standard error (0 when there are too few points to tell)."""
    n = len(points)
    if n < 2:
        return 0.0, 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0, 0.0
    b = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    if n < 3:
        return b, 0.0
    residuals = sum((y - mean_y - b * (x - mean_x)) ** 2 for x, y in points)
    return b, math.sqrt(residuals / (n - 2) / sxx)


def lag_trends(
    samples: Sequence[LagSample],
    *,
    offered_per_s: float,
    growth_share: float = GROWTH_SHARE,
    bound_s: float = BOUND_SECONDS,
    bound_floor: float = BOUND_FLOOR,
) -> dict[str, LagTrend]:
    """Per group: max and end lag, and whether it grows over the last half of the window.

    A group's lag is *growing* when its slope over the last half clearly exceeds ``growth_share``
    of the larger of its arrival rate and ``offered_per_s`` (the events offered per second at
    the pipeline's entry): by more than that share, and by more than twice the slope's standard
    error (a batched consumer's lag jumps and drains; one late spike is not a trend). It is
    *bounded* when it is not growing and its lag at the end is at most
    ``max(bound_floor, bound_s x that rate)``.
    """
    if not samples:
        return {}
    ordered = sorted(samples, key=lambda s: s.at_s)
    first, last = ordered[0], ordered[-1]
    span = last.at_s - first.at_s
    middle = first.at_s + span / 2
    second_half = [s for s in ordered if s.at_s >= middle]
    names = sorted({name for s in ordered for name in s.groups})
    trends: dict[str, LagTrend] = {}
    for name in names:
        seen = [s for s in ordered if name in s.groups]
        lags = [s.groups[name].lag for s in seen]
        arrival = (seen[-1].groups[name].end - seen[0].groups[name].end) / span if span > 0 else 0.0
        rate = max(arrival, offered_per_s)
        trend, error = fit([(s.at_s, s.groups[name].lag) for s in second_half if name in s.groups])
        limit = growth_share * rate
        bound = max(bound_floor, bound_s * rate)
        growing = trend > limit and trend > 2 * error
        end = lags[-1]
        trends[name] = LagTrend(
            max=max(lags),
            end=end,
            slope_per_s=trend,
            slope_error_per_s=error,
            arrival_per_s=arrival,
            growth_limit_per_s=limit,
            bound=bound,
            growing=growing,
            bounded=not growing and end <= bound,
        )
    return trends


def lag_bounded(trends: Mapping[str, LagTrend]) -> bool:
    """The verdict: every group's lag stayed bounded (and there was something to judge)."""
    return bool(trends) and all(t.bounded for t in trends.values())
