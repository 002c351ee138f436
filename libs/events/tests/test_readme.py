"""The README's examples run, and its catalog table is the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rcm.events.catalog import catalog_markdown

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_each_readme_example_runs(index: int) -> None:
    exec(compile(EXAMPLES[index], f"README.md example {index + 1}", "exec"), {})


def test_the_readme_catalog_table_matches_the_catalog() -> None:
    text = README.read_text()
    table = text.split("<!-- catalog:start -->\n", 1)[1].split("<!-- catalog:end -->", 1)[0]
    assert table == catalog_markdown(), "paste the output of `rcm events catalog` into the README"
