"""Models with forward references read correctly in a fresh interpreter, whatever was imported first.

The model-to-loop mapping is cached per class; it must only be computed from a fully
built model, or a 271's benefits would silently fall into ``other_loops``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"

PROBE = """
import sys
from rcm.x12.convert import read_interchange
interchange, _ = read_interchange(open(sys.argv[1], "rb").read())
tx = interchange.groups[0].transactions[0]
print(len(tx.benefits()), len(tx.other_loops) if hasattr(tx, "other_loops") else 0)
"""


def test_a_271_read_first_thing_in_a_process_has_its_benefits_typed() -> None:
    sample = DATA / "271" / "LinuxForHealth-x12__demo-file_demo.271"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(sample)], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert int(out[0]) == 5
