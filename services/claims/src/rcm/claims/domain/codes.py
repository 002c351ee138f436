"""Code sets of behavioural-health billing (CPT and HCPCS), named by what they are.

CPT is copyright AMA; only code numbers appear here.
"""

from __future__ import annotations

__all__ = [
    "ADD_ON_CODES",
    "ADD_ON_PRIMARIES",
    "AUTOMATED_TEST",
    "BEHAVIOR_CHANGE_CODES",
    "BIOFEEDBACK_PSYCHOTHERAPY_CODES",
    "BRIEF_ASSESSMENT",
    "BRIEF_ASSESSMENT_MUE",
    "CARE_MANAGEMENT_CODES",
    "COLLABORATIVE_CARE_ADD_ON",
    "COLLABORATIVE_CARE_CODES",
    "COLLABORATIVE_CARE_FIRST_30_MINUTES",
    "CRISIS_CODES",
    "CRISIS_OUTSIDE_OFFICE_CODES",
    "EM_CODES",
    "FAMILY_CODES",
    "GENERAL_BHI",
    "GENERAL_BHI_MEDICARE_THERAPIST",
    "HEALTH_BEHAVIOR_CODES",
    "INDIVIDUAL_PSYCHOTHERAPY_CODES",
    "INTAKE_CODES",
    "INTERACTIVE_COMPLEXITY",
    "INTERACTIVE_COMPLEXITY_PRIMARIES",
    "OTHER_PSYCHIATRIC_CODES",
    "PHARMACOLOGIC_MANAGEMENT",
    "PSYCHIATRIC_CODES",
    "PSYCHOLOGICAL_TESTING_CODES",
    "PSYCHOTHERAPY_ADD_ON_CODES",
    "SBIRT_CODES",
    "SBIRT_MEDICARE_CODES",
    "TESTING_CODES",
    "TOBACCO_CESSATION_CODES",
]

INDIVIDUAL_PSYCHOTHERAPY_CODES: frozenset[str] = frozenset({"90832", "90834", "90837"})
PSYCHOTHERAPY_ADD_ON_CODES: frozenset[str] = frozenset({"90833", "90836", "90838"})
"""Psychotherapy added to an E/M visit."""
CRISIS_OUTSIDE_OFFICE_CODES: frozenset[str] = frozenset({"G0017", "G0018"})
"""Medicare's psychotherapy for crisis in a non-facility site other than the office (CY2024 PFS)."""
CRISIS_CODES: frozenset[str] = frozenset({"90839", "90840"} | CRISIS_OUTSIDE_OFFICE_CODES)
INTAKE_CODES: frozenset[str] = frozenset({"90791", "90792"})
FAMILY_CODES: frozenset[str] = frozenset({"90846", "90847"})
INTERACTIVE_COMPLEXITY = "90785"
BRIEF_ASSESSMENT = "96127"
"""Brief emotional/behavioral assessment, per standardized instrument (PHQ-9, GAD-7...)."""
BRIEF_ASSESSMENT_MUE = 3
"""CMS MUE for 96127 (units a day for one patient); a payer's ``daily_unit_caps`` may say otherwise."""

INTERACTIVE_COMPLEXITY_PRIMARIES: frozenset[str] = frozenset(
    {"90791", "90792", "90853"} | INDIVIDUAL_PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES
)
"""The codes +90785 may accompany (not crisis, family or E/M alone)."""


def _code_range(first: int, last: int) -> set[str]:
    return {str(code) for code in range(first, last + 1)}


EM_CODES: frozenset[str] = frozenset(
    _code_range(99202, 99205)
    | _code_range(99211, 99215)
    | _code_range(99221, 99223)
    | _code_range(99231, 99236)
    | {"99238", "99239"}
    | _code_range(99242, 99245)
    | _code_range(99252, 99255)
    | _code_range(99304, 99310)
    | {"99315", "99316"}
    | {"99341", "99342", "99344", "99345"}
    | _code_range(99347, 99350)
)
"""The E/M codes a psychotherapy add-on may follow (CPT: 99202-99255, 99304-99316, 99341-99350,
as they exist since 2023): office, hospital inpatient/observation, consultations, nursing
facility and home or residence visits."""

PHARMACOLOGIC_MANAGEMENT = "90863"
"""+90863: pharmacologic management with psychotherapy, for prescribing psychologists."""

BIOFEEDBACK_PSYCHOTHERAPY_CODES: frozenset[str] = frozenset({"90875", "90876"})
"""Individual psychophysiological therapy incorporating biofeedback training with psychotherapy,
30 minutes (90875) and 45 minutes (90876)."""
OTHER_PSYCHIATRIC_CODES: frozenset[str] = frozenset({"90880", "90882", "90885", "90887", "90889"})
"""Untimed psychiatric services a session names: hypnotherapy (90880), environmental intervention
with agencies, employers or institutions (90882), psychiatric evaluation of records (90885),
interpretation or explanation of results to the family (90887), report preparation (90889)."""

PSYCHIATRIC_CODES: frozenset[str] = frozenset(
    {"90785", "90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838"}
    | {"90839", "90840", "90846", "90847", "90849", "90853", "90863"}
    | BIOFEEDBACK_PSYCHOTHERAPY_CODES
    | OTHER_PSYCHIATRIC_CODES
    | CRISIS_OUTSIDE_OFFICE_CODES
)
"""The psychiatry codes (CPT 90785-90899) this engine bills, and Medicare's G0017/+G0018 for crisis."""

PSYCHOLOGICAL_TESTING_CODES: frozenset[str] = frozenset(
    {"96130", "96131", "96132", "96133", "96136", "96137", "96138", "96139"}
)
"""Psychological and neuropsychological test evaluation (96130-96133) and administration (96136-96139)."""
AUTOMATED_TEST = "96146"
"""96146: one automated, standardized instrument with an automated result only (untimed)."""
TESTING_CODES: frozenset[str] = frozenset(PSYCHOLOGICAL_TESTING_CODES | {"96116", "96121", AUTOMATED_TEST})
"""Every testing code this engine bills: 96130-96139, the neurobehavioral status exam 96116/+96121
and the single automated instrument 96146."""
HEALTH_BEHAVIOR_CODES: frozenset[str] = frozenset(
    {"96156", "96158", "96159", "96164", "96165", "96167", "96168", "96170", "96171"}
)

SBIRT_MEDICARE_CODES: frozenset[str] = frozenset({"G2011", "G0396", "G0397"})
"""Medicare's alcohol/substance misuse structured assessment and brief intervention: 5-14 minutes
(G2011, CY2020 PFS), 15-30 (G0396), over 30 (G0397)."""
SBIRT_CODES: frozenset[str] = frozenset({"99408", "99409"} | SBIRT_MEDICARE_CODES)
"""Alcohol and/or substance (other than tobacco) structured screening and brief intervention (SBIRT):
CPT 99408 (15-30 minutes) and 99409 (over 30), and Medicare's G-codes."""
TOBACCO_CESSATION_CODES: frozenset[str] = frozenset({"99406", "99407"})
"""Smoking and tobacco use cessation counseling: over 3 up to 10 minutes (99406), over 10 (99407)."""
BEHAVIOR_CHANGE_CODES: frozenset[str] = frozenset(SBIRT_CODES | TOBACCO_CESSATION_CODES)
"""Behavior change interventions (CPT 99406-99409, Medicare's SBIRT G-codes): an E/M the same day by
the same clinician is billed beside them with modifier 25 (separately identifiable)."""

COLLABORATIVE_CARE_ADD_ON = "99494"
"""+99494: each further 30 minutes of collaborative care in the month (with 99492 or 99493)."""
COLLABORATIVE_CARE_FIRST_30_MINUTES = "G2214"
"""Medicare's collaborative care, initial or subsequent month, first 30 minutes (CY2021 PFS)."""
COLLABORATIVE_CARE_CODES: frozenset[str] = frozenset(
    {"99492", "99493", COLLABORATIVE_CARE_ADD_ON, COLLABORATIVE_CARE_FIRST_30_MINUTES}
)
"""Psychiatric collaborative care management (CoCM), per calendar month: 99492 in the episode's first
month, 99493 in later ones, +99494 per further 30 minutes, Medicare's G2214 under their thresholds."""
GENERAL_BHI = "99484"
"""General behavioral health integration care management, 20 minutes or more a calendar month."""
GENERAL_BHI_MEDICARE_THERAPIST = "G0323"
"""Medicare's general BHI when a psychologist, social worker, MFT or counselor bills it (CY2024 PFS)."""
CARE_MANAGEMENT_CODES: frozenset[str] = frozenset(
    COLLABORATIVE_CARE_CODES | {GENERAL_BHI, GENERAL_BHI_MEDICARE_THERAPIST}
)
"""The care-management codes billed once a calendar month on the month's minutes, not per visit."""

ADD_ON_CODES: frozenset[str] = frozenset(
    {
        INTERACTIVE_COMPLEXITY,
        PHARMACOLOGIC_MANAGEMENT,
        "90840",
        "G0018",
        "96121",
        "96131",
        "96133",
        "96137",
        "96139",
        "96159",
        "96165",
        "96168",
        "96171",
        "G2212",
        "99417",
        COLLABORATIVE_CARE_ADD_ON,
    }
    | PSYCHOTHERAPY_ADD_ON_CODES
)
"""Codes never billed alone (the '+' codes)."""

ADD_ON_PRIMARIES: dict[str, frozenset[str]] = {
    INTERACTIVE_COMPLEXITY: INTERACTIVE_COMPLEXITY_PRIMARIES,
    "90840": frozenset({"90839"}),
    "G0018": frozenset({"G0017"}),
    PHARMACOLOGIC_MANAGEMENT: INDIVIDUAL_PSYCHOTHERAPY_CODES,
    **dict.fromkeys(PSYCHOTHERAPY_ADD_ON_CODES, EM_CODES),
    "96121": frozenset({"96116"}),
    "96131": frozenset({"96130"}),
    "96133": frozenset({"96132"}),
    "96137": frozenset({"96136"}),
    "96139": frozenset({"96138"}),
    "96159": frozenset({"96158"}),
    "96165": frozenset({"96164"}),
    "96168": frozenset({"96167"}),
    "96171": frozenset({"96170"}),
    "G2212": frozenset({"99205", "99215"}),  # Medicare's prolonged office visit (CY2021 PFS)
    # CPT's prolonged service by time, each 15 minutes past the primary's highest level (CPT 2023)
    "99417": frozenset({"99205", "99215", "99245", "99345", "99350", "99483"}),
    # psychiatric collaborative care, each additional 30 minutes in the month
    COLLABORATIVE_CARE_ADD_ON: frozenset({"99492", "99493"}),
}
"""For each add-on code, the primary codes it may be billed with."""
