"""Code sets of behavioural-health billing (CPT and HCPCS), named by what they are.

CPT is copyright AMA; only code numbers appear here.
"""

from __future__ import annotations

__all__ = [
    "ADD_ON_CODES",
    "ADD_ON_PRIMARIES",
    "CRISIS_CODES",
    "EM_CODES",
    "FAMILY_CODES",
    "HEALTH_BEHAVIOR_CODES",
    "INDIVIDUAL_PSYCHOTHERAPY_CODES",
    "INTAKE_CODES",
    "INTERACTIVE_COMPLEXITY",
    "INTERACTIVE_COMPLEXITY_PRIMARIES",
    "PSYCHOTHERAPY_ADD_ON_CODES",
    "TESTING_CODES",
]

INDIVIDUAL_PSYCHOTHERAPY_CODES: frozenset[str] = frozenset({"90832", "90834", "90837"})
PSYCHOTHERAPY_ADD_ON_CODES: frozenset[str] = frozenset({"90833", "90836", "90838"})
"""Psychotherapy added to an E/M visit."""
CRISIS_CODES: frozenset[str] = frozenset({"90839", "90840"})
INTAKE_CODES: frozenset[str] = frozenset({"90791", "90792"})
FAMILY_CODES: frozenset[str] = frozenset({"90846", "90847"})
INTERACTIVE_COMPLEXITY = "90785"

INTERACTIVE_COMPLEXITY_PRIMARIES: frozenset[str] = frozenset(
    {"90791", "90792", "90853"} | INDIVIDUAL_PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES
)
"""The codes +90785 may accompany (not crisis, family or E/M alone)."""

EM_CODES: frozenset[str] = frozenset(
    {f"9920{n}" for n in range(2, 6)}
    | {f"9921{n}" for n in range(1, 6)}
    | {"99221", "99222", "99223", "99231", "99232", "99233"}
    | {"99304", "99305", "99306", "99307", "99308", "99309", "99310"}
    | {"99341", "99342", "99344", "99345", "99347", "99348", "99349", "99350"}
)
"""Office, hospital, nursing-facility and home E/M codes a psychotherapy add-on may follow."""

TESTING_CODES: frozenset[str] = frozenset(
    {"96130", "96131", "96132", "96133", "96136", "96137", "96138", "96139"}
)
HEALTH_BEHAVIOR_CODES: frozenset[str] = frozenset(
    {"96156", "96158", "96159", "96164", "96165", "96167", "96168", "96170", "96171"}
)

ADD_ON_CODES: frozenset[str] = frozenset(
    {INTERACTIVE_COMPLEXITY, "90840", "96131", "96133", "96137", "96139", "96159", "96165", "96168", "96171"}
    | PSYCHOTHERAPY_ADD_ON_CODES
)
"""Codes never billed alone (the '+' codes)."""

ADD_ON_PRIMARIES: dict[str, frozenset[str]] = {
    INTERACTIVE_COMPLEXITY: INTERACTIVE_COMPLEXITY_PRIMARIES,
    "90840": frozenset({"90839"}),
    **dict.fromkeys(PSYCHOTHERAPY_ADD_ON_CODES, EM_CODES),
    "96131": frozenset({"96130"}),
    "96133": frozenset({"96132"}),
    "96137": frozenset({"96136"}),
    "96139": frozenset({"96138"}),
    "96159": frozenset({"96158"}),
    "96165": frozenset({"96164"}),
    "96168": frozenset({"96167"}),
    "96171": frozenset({"96170"}),
}
"""For each add-on code, the primary codes it may be billed with."""
