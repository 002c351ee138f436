"""The examples of the README's "Typed models and building" section run."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

README = Path(__file__).parents[1] / "README.md"


def test_readme_model_examples_run() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Typed models and building") :]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 2
    cwd = Path.cwd()
    os.chdir(README.parent)
    try:
        namespace: dict[str, object] = {}
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    finally:
        os.chdir(cwd)
