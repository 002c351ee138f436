"""Service type codes (EB03/EQ01) that describe behavioural-health benefits, and the order to look for them.

A 271 rarely answers exactly what was asked: one payer reports mental health under MH,
another only under the generic 30, a third under the outpatient codes (A6, A8, CF) or the
psychiatric A4. Inpatient and facility codes (A7, CE, CG-CJ) and partial hospitalization (BB)
do not answer for an outpatient visit. The summary takes the first code of the order that
the 271 says anything about, and records which one it used.

Which order depends on the service checked: the substance-use codes (AI, AJ, AK) answer for a
substance-use visit only. A plan may carve its substance-use benefit out to a vendor, or
price it apart (a $0 copay), while the mental-health visit stays with the payer at its own
copay: for a mental-health visit (``FALLBACK_ORDER``) they decide neither the service type, nor
the figures, nor the carve-out (another payer they name is still reported). A check whose 270
asks about substance use only (EQ01 AI, AJ or AK, with or without 30) is a substance-use
visit's (``SUBSTANCE_USE_ORDER``): those codes first, then the behavioural-health ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = [
    "DEFAULT_INQUIRY",
    "FALLBACK_ORDER",
    "GENERIC",
    "SERVICE_TYPE_NAMES",
    "SUBSTANCE_USE",
    "SUBSTANCE_USE_ORDER",
    "order_for",
]

SERVICE_TYPE_NAMES: Final = {
    "MH": "Mental health",
    "A4": "Psychiatric",
    "A6": "Psychotherapy",
    "A7": "Psychiatric - inpatient",
    "A8": "Psychiatric - outpatient",
    "CF": "Mental health provider - outpatient",
    "CE": "Mental health provider - inpatient",
    "AI": "Substance abuse",
    "AJ": "Alcoholism",
    "AK": "Drug addiction",
    "98": "Professional (physician) visit - office",
    "30": "Health benefit plan coverage",
}

#: What the 270 asks for: mental health, substance use, and the generic plan coverage.
DEFAULT_INQUIRY: Final = ("MH", "AI", "30")

#: Where the summary looks for a mental-health visit's outpatient benefits, most specific first.
FALLBACK_ORDER: Final = ("MH", "A6", "A8", "CF", "A4", "98", "30")

#: Substance abuse, alcoholism, drug addiction: the benefits of a substance-use visit.
SUBSTANCE_USE: Final = frozenset({"AI", "AJ", "AK"})

#: Where the summary looks for a substance-use visit's benefits: its own codes, then the
#: behavioural-health ones (many plans report substance use under MH).
SUBSTANCE_USE_ORDER: Final = ("AI", "AJ", "AK", *FALLBACK_ORDER)

#: The code that means the plan as a whole.
GENERIC: Final = "30"

# Codes a 270 asks about beside the service itself: the plan, an office visit.
_NOT_THE_SERVICE: Final = frozenset({GENERIC, "98"})


def order_for(service_types: Sequence[str]) -> tuple[str, ...]:
    """The order for a check asking about ``service_types`` (its 270's EQ01 codes).

    A substance-use visit's when the service asked about is substance use only (AI, AJ, AK,
    besides the plan's 30 or the office visit's 98); a mental-health visit's otherwise, the
    default inquiry (MH, AI, 30) included: it asks about substance use to learn of its
    carve-out, not because the visit is one.
    """
    asked = set(service_types) - _NOT_THE_SERVICE
    return SUBSTANCE_USE_ORDER if asked and asked <= SUBSTANCE_USE else FALLBACK_ORDER
