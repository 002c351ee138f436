"""Service type codes (EB03/EQ01) that describe behavioural-health benefits, and the order to look for them.

A 271 rarely answers exactly what was asked: one payer reports mental health under MH,
another only under the generic 30, a third under the outpatient codes (A6, A8, CF), the
psychiatric A4 or the substance-use codes (AI, AJ, AK). Inpatient and facility codes (A7,
CE, CG-CJ) and partial hospitalization (BB) do not answer for an outpatient visit. The summary takes the first code in ``FALLBACK_ORDER``
that the 271 says anything about, and records which one it used.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_INQUIRY", "FALLBACK_ORDER", "GENERIC", "SERVICE_TYPE_NAMES"]

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

#: Where the summary looks for outpatient behavioural-health benefits, most specific first.
FALLBACK_ORDER: Final = ("MH", "A6", "A8", "CF", "A4", "AI", "AJ", "AK", "98", "30")

#: The code that means the plan as a whole.
GENERIC: Final = "30"
