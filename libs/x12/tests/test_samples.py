"""Every sample file reads without an exception, flagged ones are reported, and the others
produce exactly the findings recorded (after review against the guides) in expected_findings.json.

When a finding changes, its file's entry under ``_reasons`` in that file says why, in one line
per change, after checking it against the guide by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rcm.x12 import FindingKind, ReadResult, read
from rcm.x12.findings import GroupError, InterchangeNote, SetError

from .conftest import DATA, sample_files, sample_flags

pytestmark = pytest.mark.unit

EXPECTED = Path(__file__).parent / "expected_findings.json"
FLAGS = sample_flags()

# a fragment of the SOURCES.md ENV flag -> the finding it must produce
_ENV_RULES = [
    ("no ISA", FindingKind.INTERCHANGE, InterchangeNote.INVALID_CONTROL_STRUCTURE),
    ("IEA02!=ISA13", FindingKind.INTERCHANGE, InterchangeNote.CONTROL_NUMBER_MISMATCH),
    ("IEA01=", FindingKind.INTERCHANGE, InterchangeNote.INVALID_GROUP_COUNT),
    ("missing IEA", FindingKind.INTERCHANGE, InterchangeNote.PREMATURE_END_OF_FILE),
    ("missing GE", FindingKind.GROUP, GroupError.TRAILER_MISSING),
    ("GE01=", FindingKind.GROUP, GroupError.SET_COUNT_MISMATCH),
    ("GE02!=GS06", FindingKind.GROUP, GroupError.CONTROL_NUMBER_MISMATCH),
    ("SE01=", FindingKind.TRANSACTION, SetError.SEGMENT_COUNT_MISMATCH),
    ("SE02!=ST02", FindingKind.TRANSACTION, SetError.CONTROL_NUMBER_MISMATCH),
]


def summary(result: ReadResult) -> list[str]:
    return [
        f"{f.kind.value}:{f.code}:{f.set_position or f.position}:{f.segment_id}:{f.loop_id}:{f.element}.{f.component}"
        for f in result.findings
        if f.is_error
    ]


def _key(path: Path) -> str:
    return str(path.relative_to(DATA))


@pytest.fixture(scope="module")
def results() -> dict[str, ReadResult]:
    return {_key(p): read(p.read_bytes()) for p in sample_files()}


def test_every_sample_is_read(results: dict[str, ReadResult]) -> None:
    assert len(results) >= 100


@pytest.mark.parametrize("name", sorted(n for n, f in FLAGS.items() if "ENV" in f))
def test_envelope_flags_are_reported(name: str, results: dict[str, ReadResult]) -> None:
    key = next(k for k in results if k.endswith(name))
    found = {(f.kind, f.code) for f in results[key].findings if f.is_error}
    flag = FLAGS[name]
    expected = {(kind, code) for fragment, kind, code in _ENV_RULES if fragment in flag}
    assert expected, f"no rule for flag {flag}"
    assert expected <= found


@pytest.mark.parametrize("name", sorted(n for n, f in FLAGS.items() if "MALFORMED" in f))
def test_malformed_samples_have_errors_unless_they_are_rejection_acks(
    name: str, results: dict[str, ReadResult]
) -> None:
    key = next(k for k in results if k.endswith(name))
    result = results[key]
    if key.startswith(("999/imsweb", "277CA/")):
        # a 999 or 277CA that *reports* a rejection is itself well-formed X12: its envelope is
        # sound, and any guide violation in it is one recorded (and reviewed) in the expectations
        envelope = (FindingKind.INTERCHANGE, FindingKind.GROUP, FindingKind.TRANSACTION)
        assert not [f for f in result.errors if f.kind in envelope], summary(result)
        return
    assert not result.valid


def test_findings_match_the_reviewed_expectations(results: dict[str, ReadResult]) -> None:
    expected = {k: v for k, v in json.loads(EXPECTED.read_text()).items() if k != "_reasons"}
    actual = {k: summary(r) for k, r in results.items()}
    assert actual == expected
