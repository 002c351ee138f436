"""Free text (names, addresses) as X12 data can carry it.

X12 data may carry only the basic and extended character sets (printable ASCII) and never a
delimiter of the interchange (element ``*``, component ``:``, repetition ``^``, segment ``~``);
the builder refuses anything else. A name or address written by people is folded to that before
it is written: accents dropped (JOSE for JOSÉ, letters without a decomposition spelled out: ß as
ss), delimiters and control characters made spaces, runs of spaces made one, upper-cased and cut
to the element's maximum length. Identifiers are never folded: one that cannot be written is
refused, since changing it would name someone else.
"""

from __future__ import annotations

import unicodedata

__all__ = ["x12_text"]

_DELIMITERS = "*:^~"
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "TH",
    }
)


def x12_text(value: str | None, limit: int) -> str | None:
    """``value`` as X12 text: printable ASCII without delimiters, upper case, at most ``limit``
    characters (None when nothing is left)."""
    if not value:
        return None
    folded = unicodedata.normalize("NFKD", value.translate(_FOLD)).encode("ascii", "ignore").decode()
    cleaned = "".join(" " if c in _DELIMITERS or not c.isprintable() else c for c in folded)
    text = " ".join(cleaned.split()).upper()[:limit].rstrip()
    return text or None
