"""ICD-10-CM diagnosis codes as a coder reads them: the format, headers that are not billable,
and the kinds of code that may not come first.

Codes are kept without their dot ("F43.10" -> "F4310"). The header tables cover the
mental and behavioural chapter (F01-F99), not the whole code set.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "external_cause",
    "icd10_problem",
    "manifestation",
    "mental_disorder",
    "z_code",
]

_ICD10_CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
"""Letter, digit, letter-or-digit, then up to four more characters (stored without the dot)."""

_COMPLETE_F_CATEGORIES = frozenset(
    {"F04", "F05", "F09", "F21", "F22", "F23", "F24", "F28", "F29", "F39", "F54", "F59", "F66", "F69"}
    | {"F70", "F71", "F72", "F73", "F78", "F79", "F82", "F88", "F89", "F99"}
)
"""Three-character F categories that are (or were, see ``_HEADERS_SINCE``) complete codes; every
other F category is a header."""

_SUBSTANCES = ("F10", "F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19")
"""Substance-use categories sharing the abuse/dependence/use (.1/.2/.9) layout; nicotine (F17) differs."""

_HEADER_SUBCATEGORIES = frozenset(
    # substance use: abuse, dependence, use, and their intoxication, psychotic and other-induced groups
    {f"F1{n}{sub}" for n in range(10) for sub in "129"}
    | {f"{category}{use}{group}" for category in _SUBSTANCES for use in "129" for group in "258"}
    # withdrawal by its complications (.x30-.x39) for alcohol, sedatives and other substances
    | {"F1013", "F1023", "F1093", "F1313", "F1323", "F1393", "F1913", "F1923", "F1993"}
    | {"F1720", "F1721", "F1722", "F1729"}
    # dementia by severity and behavioural disturbance (since October 2022; F01.51, F02.81 and F03.91
    # were complete codes before, see ``_HEADERS_SINCE``)
    | {"F015", "F01A", "F01B", "F01C", "F01A1", "F01B1", "F01C1"}
    | {"F028", "F02A", "F02B", "F02C", "F02A1", "F02B1", "F02C1"}
    | {"F039", "F03A", "F03B", "F03C", "F03A1", "F03B1", "F03C1"}
    | {"F063", "F067", "F078", "F208", "F301"}
    | {"F311", "F313", "F316", "F317", "F318", "F328", "F334", "F348"}
    | {"F400", "F401", "F402", "F4021", "F4022", "F4023", "F4024", "F4029"}
    | {"F431", "F432", "F448", "F452", "F454", "F500", "F508"}
    | {"F510", "F511", "F522", "F523", "F608", "F638", "F655", "F658", "F681"}
    | {"F78A", "F808", "F818", "F982"}
)
"""Four- and five-character mental-health subcategories that need a further character."""

_HEADERS_SINCE = {
    "F78": date(2022, 10, 1),
    "F0151": date(2022, 10, 1),
    "F0281": date(2022, 10, 1),
    "F0391": date(2022, 10, 1),
    "F438": date(2022, 10, 1),
    "F5001": date(2024, 10, 1),
    "F5002": date(2024, 10, 1),
    "F502": date(2024, 10, 1),
    "F5081": date(2024, 10, 1),
}
"""Codes that became headers on a date: in FY2023 other intellectual disabilities took F78.A-,
dementia with behavioural disturbance its kind (F01.511/F01.518, F02.811/F02.818, F03.911/F03.918)
and other reactions to severe stress prolonged grief (F43.81/F43.89); in FY2025 eating disorders a
severity character."""


def icd10_problem(code: str, day: date | None = None) -> str | None:
    """Why ``code`` (without dot) is not a billable ICD-10-CM code on ``day``, or None when it looks fine.

    Checks the format and, for mental-health codes, the header codes and a character added
    below a complete code (F41.10, F32.90); it does not look codes up in the full code set.
    """
    if not _ICD10_CM.match(code):
        return "is not ICD-10-CM (letter, digit, letter or digit, then up to 4 characters)"
    if not code.startswith("F"):
        return None
    if _header(code, day):
        if len(code) == 3:
            return "is a category header; code it to the full specificity (e.g. F32 -> F32.9)"
        return "is a subcategory header; add the final character"
    parent = code[:-1]
    if len(code) > 3 and not _header(parent, day):
        complete = f"{parent[:3]}.{parent[3:]}".rstrip(".")
        return f"adds a character to {complete}, a complete code with nothing below it; bill {complete}"
    return None


def _header(code: str, day: date | None) -> bool:
    """True when the mental-health ``code`` is a header (needs a further character) on ``day``."""
    since = _HEADERS_SINCE.get(code)
    if since is not None and (day is None or day >= since):
        return True
    if len(code) == 3:
        return code not in _COMPLETE_F_CATEGORIES
    return code in _HEADER_SUBCATEGORIES


def z_code(code: str) -> bool:
    """Factors influencing health status and contact with health services (Z00-Z99)."""
    return code.startswith("Z")


def external_cause(code: str) -> bool:
    """External causes of morbidity (V00-Y99): never the first-listed diagnosis."""
    return code[:1] in {"V", "W", "X", "Y"}


def manifestation(code: str) -> bool:
    """A manifestation code ('in diseases classified elsewhere'): the underlying condition is coded first.

    In the mental chapter that is F02, dementia in other diseases (e.g. after G30.9).
    """
    return code.startswith("F02")


def mental_disorder(code: str) -> bool:
    """A mental, behavioural or neurodevelopmental disorder (F01-F99)."""
    return code.startswith("F")
