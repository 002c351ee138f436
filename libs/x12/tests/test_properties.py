"""Random and mutated inputs never raise anything but X12Error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm.x12 import X12Error, acknowledge, read, read_claims

from .conftest import DATA

pytestmark = pytest.mark.unit

SEEDS = [
    (DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837").read_bytes(),
    (DATA / "835" / "azoner-pyx12__835_mult_loops.txt").read_bytes(),
    (DATA / "271" / "LinuxForHealth-x12__demo-file_demo.271").read_bytes(),
    (DATA / "999" / "xlate-staedi__simple999.edi").read_bytes(),
]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def exercise(data: bytes) -> None:
    try:
        result = read(data)
        list(read_claims(data))
        if result.interchanges:
            acknowledge(result)
    except X12Error:
        pass


@FAST
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    exercise(data)


@FAST
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_byte_flips(seed: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(seed)
    for where, value in flips:
        data[where % len(data)] = value
    exercise(bytes(data))


@FAST
@given(st.sampled_from(SEEDS), st.integers(0, 4000))
def test_truncation(seed: bytes, cut: int) -> None:
    exercise(seed[: cut % len(seed)])


@FAST
@given(
    st.sampled_from(SEEDS),
    st.sampled_from([b"*", b"~", b":", b"^"]),
    st.sampled_from([b"|", b"~", b"*", b"\n"]),
)
def test_delimiter_swaps(seed: bytes, old: bytes, new: bytes) -> None:
    exercise(seed.replace(old, new))


@FAST
@given(st.sampled_from(SEEDS), st.lists(st.integers(0, 80), max_size=5))
def test_deleted_segments(seed: bytes, drops: list[int]) -> None:
    segments = seed.split(b"~")
    keep = [s for i, s in enumerate(segments) if i not in set(drops)]
    exercise(b"~".join(keep))
