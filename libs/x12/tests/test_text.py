"""Free text is folded to what X12 can carry; nothing else is changed."""

from __future__ import annotations

import pytest

from rcm.x12.text import x12_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("José Núñez", 60, "JOSE NUNEZ"),
        ("Strauß", 60, "STRAUSS"),
        ("O'Brien*Smith:Jr^~", 60, "O'BRIEN SMITH JR"),
        ("two\tlines\nhere", 60, "TWO LINES HERE"),
        ("  lots   of   space  ", 60, "LOTS OF SPACE"),
        ("Abcdefghij", 5, "ABCDE"),
        ("中文", 60, None),
        ("", 60, None),
        (None, 60, None),
    ],
)
def test_free_text_is_folded_to_printable_ascii_without_delimiters(
    value: str | None, limit: int, expected: str | None
) -> None:
    assert x12_text(value, limit) == expected
