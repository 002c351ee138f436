"""The compiled common-case check never passes a segment the full element check faults.

``check_segment`` first asks a predicate generated per (busy) place whether a segment is
entirely valid and runs the full check only when it is not. For every segment of every
sample, and for many mutations of each, against every place in every guide that takes
its segment id, the predicate may pass the segment only when the full check finds nothing,
and ``check_segment`` always gives what the full check gives.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcm.x12.schema import LoopSpec, SegmentSpec, guide_ids, load_guide
from rcm.x12.schema.elements import SEGMENTS, ElementSpec
from rcm.x12.segments import Delimiters, Segment
from rcm.x12.tokenizer import tokenize
from rcm.x12.validate import QuickCheck, _compile_pass, _find_issues, check_segment

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
SAMPLES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "SOURCES.md")
DELIMITERS = (Delimiters(), Delimiters(component=">", repetition=""))
NOISE = [
    "",
    "-",
    ".",
    "-1.5",
    "1..2",
    "0",
    "A",
    "ab^c",
    "a:b",
    "::",
    "^",
    "\x01",
    "²",
    "20240230",
    "2460",
    "X" * 90,
]


def _places() -> dict[str, list[tuple[ElementSpec, ...]]]:
    places: dict[str, list[tuple[ElementSpec, ...]]] = {sid: [specs] for sid, specs in SEGMENTS.items()}

    def walk(loop: LoopSpec) -> Iterator[SegmentSpec]:
        for item in loop.items:
            if isinstance(item, SegmentSpec):
                yield item
            else:
                yield from walk(item)

    for key in guide_ids():
        for spec in walk(load_guide(key).root):
            places.setdefault(spec.id, []).append(spec.elements)
    return places


PLACES = _places()
COMPILED: dict[tuple[int, str], QuickCheck] = {}  # (id of a place's specs, segment id) -> its check


def _mutations(seg: Segment, rng: random.Random) -> Iterator[Segment]:
    yield seg
    elements = seg.elements
    for _ in range(6):
        changed = list(elements)
        i = rng.randrange(len(changed) + 2)
        while len(changed) <= i:
            changed.append("")
        choice = rng.random()
        if choice < 0.5:
            changed[i] = rng.choice(NOISE)
        elif choice < 0.7 and changed[i]:
            j = rng.randrange(len(changed[i]))
            changed[i] = changed[i][:j] + rng.choice(NOISE) + changed[i][j + 1 :]
        elif choice < 0.85:
            changed[i] = rng.choice(NOISE) + ":" + rng.choice(NOISE) + "^" + changed[i]
        else:
            changed = changed[:i]
        yield Segment(seg.id, changed, seg.position)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_compiled_check_agrees_with_the_full_check(path: Path) -> None:
    rng = random.Random(path.name)
    distinct = {(seg.id, tuple(seg.elements)): seg for seg in tokenize(path.read_bytes())}
    for seg in list(distinct.values())[:150]:
        for specs in PLACES.get(seg.id, ()):
            key = (id(specs), seg.id)
            passes = COMPILED.get(key) or COMPILED.setdefault(key, _compile_pass(specs, seg.id))
            for variant in _mutations(seg, rng):
                for d in DELIMITERS:
                    issues = _find_issues(variant, specs, d)
                    if passes(variant.elements, d.component, d.repetition, d.component + d.repetition):
                        assert issues == [], (variant, specs)
                    assert check_segment(variant, specs, d) == issues
