"""The README's python examples run as written (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

README = Path(__file__).parents[1] / "README.md"
# the typed-model section shares one namespace across its blocks: test_models_readme.py runs it
_TEXT = README.read_text().split("## Typed models and building", 1)[0]
BLOCKS = re.findall(r"```python\n(.*?)```", _TEXT, re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parents[3])
    exec(compile(code, str(README), "exec"), {})


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 4
