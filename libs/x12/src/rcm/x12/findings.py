"""Findings: what the reader and the validators report about an input.

A ``Finding`` carries a code from the acknowledgement it belongs in, so a 999 or
a TA1 is written straight from the findings:

========  =============================  =========================================
kind      code list                      example
========  =============================  =========================================
TA1       TA105 interchange note codes   ``"001"`` ISA13 and IEA02 do not match
AK9       AK905 group error codes        ``"5"`` included set count wrong
IK5       IK502 set error codes          ``"4"`` SE01 segment count wrong
IK3       IK304 segment error codes      ``"3"`` required segment missing
IK4       IK403 element error codes      ``"7"`` invalid code value
========  =============================  =========================================

This type is a stable contract: services store and route findings by ``kind`` and
``code``; fields are only ever added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "INTERCHANGE_NOTE_TEXT",
    "ElementError",
    "Finding",
    "FindingKind",
    "GroupError",
    "InterchangeNote",
    "SegmentError",
    "SetError",
    "Severity",
]


class FindingKind(StrEnum):
    """Which acknowledgement segment the finding's code belongs to."""

    INTERCHANGE = "TA1"
    GROUP = "AK9"
    TRANSACTION = "IK5"
    SEGMENT = "IK3"
    ELEMENT = "IK4"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class InterchangeNote:
    """TA105 interchange note codes."""

    NO_ERROR = "000"
    CONTROL_NUMBER_MISMATCH = "001"
    STANDARD_NOT_SUPPORTED = "002"
    VERSION_NOT_SUPPORTED = "003"
    INVALID_SEGMENT_TERMINATOR = "004"
    INVALID_SENDER_QUALIFIER = "005"
    INVALID_SENDER_ID = "006"
    INVALID_RECEIVER_QUALIFIER = "007"
    INVALID_RECEIVER_ID = "008"
    INVALID_AUTHORIZATION_QUALIFIER = "010"
    INVALID_SECURITY_QUALIFIER = "012"
    INVALID_DATE = "014"
    INVALID_TIME = "015"
    INVALID_STANDARDS_ID = "016"
    INVALID_VERSION_ID = "017"
    INVALID_CONTROL_NUMBER = "018"
    INVALID_ACK_REQUESTED = "019"
    INVALID_TEST_INDICATOR = "020"
    INVALID_GROUP_COUNT = "021"
    INVALID_CONTROL_STRUCTURE = "022"
    PREMATURE_END_OF_FILE = "023"
    INVALID_CONTENT = "024"
    DUPLICATE_CONTROL_NUMBER = "025"
    INVALID_ELEMENT_SEPARATOR = "026"
    INVALID_COMPONENT_SEPARATOR = "027"


INTERCHANGE_NOTE_TEXT: dict[str, str] = {
    "000": "no error",
    "001": "interchange control numbers in header and trailer do not match",
    "002": "control standard not supported",
    "003": "version of the controls not supported",
    "004": "invalid segment terminator",
    "005": "invalid sender id qualifier",
    "006": "invalid sender id",
    "007": "invalid receiver id qualifier",
    "008": "invalid receiver id",
    "009": "unknown receiver id",
    "010": "invalid authorization information qualifier",
    "011": "invalid authorization information",
    "012": "invalid security information qualifier",
    "013": "invalid security information",
    "014": "invalid interchange date",
    "015": "invalid interchange time",
    "016": "invalid interchange standards identifier",
    "017": "invalid interchange version id",
    "018": "invalid interchange control number",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator",
    "021": "invalid number of included groups",
    "022": "invalid control structure",
    "023": "premature end of file",
    "024": "invalid interchange content",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
    "028": "invalid delivery date in deferred delivery request",
    "029": "invalid delivery time in deferred delivery request",
    "030": "invalid delivery time code in deferred delivery request",
    "031": "invalid grade of service code",
}
"""What each TA105 interchange note code says."""


class GroupError:
    """AK905 functional group error codes."""

    NOT_SUPPORTED = "1"
    VERSION_NOT_SUPPORTED = "2"
    TRAILER_MISSING = "3"
    CONTROL_NUMBER_MISMATCH = "4"
    SET_COUNT_MISMATCH = "5"
    CONTROL_NUMBER_SYNTAX = "6"
    CONTROL_NUMBER_NOT_UNIQUE = "19"


class SetError:
    """IK502 transaction set error codes."""

    NOT_SUPPORTED = "1"
    TRAILER_MISSING = "2"
    CONTROL_NUMBER_MISMATCH = "3"
    SEGMENT_COUNT_MISMATCH = "4"
    SEGMENTS_IN_ERROR = "5"
    INVALID_SET_ID = "6"
    INVALID_CONTROL_NUMBER = "7"
    NOT_IN_GROUP = "18"
    INVALID_CONVENTION_REFERENCE = "19"
    CONTROL_NUMBER_NOT_UNIQUE = "23"


class SegmentError:
    """IK304 segment syntax error codes."""

    UNRECOGNIZED = "1"
    UNEXPECTED = "2"
    REQUIRED_MISSING = "3"
    LOOP_OVER_MAX = "4"
    EXCEEDS_MAX_USE = "5"
    NOT_IN_SET = "6"
    OUT_OF_SEQUENCE = "7"
    HAS_ELEMENT_ERRORS = "8"
    NOT_USED_PRESENT = "I4"
    LOOP_UNDER_MIN = "I7"


class ElementError:
    """IK403 element syntax error codes."""

    REQUIRED_MISSING = "1"
    CONDITIONAL_MISSING = "2"
    TOO_MANY_ELEMENTS = "3"
    TOO_SHORT = "4"
    TOO_LONG = "5"
    INVALID_CHARACTER = "6"
    INVALID_CODE = "7"
    INVALID_DATE = "8"
    INVALID_TIME = "9"
    EXCLUSION_VIOLATED = "10"
    TOO_MANY_REPETITIONS = "12"
    TOO_MANY_COMPONENTS = "13"
    NOT_USED_PRESENT = "I10"
    CODE_NOT_USED = "I6"
    IMPLEMENTATION_MISSING = "I9"
    TOO_FEW_REPETITIONS = "I11"
    PATTERN_MISMATCH = "I12"
    DEPENDENT_NOT_USED_PRESENT = "I13"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in an input.

    ``position`` is the segment's 1-based ordinal in its interchange (the ISA is 1)
    and ``set_position`` its ordinal in its transaction set (the ST is 1; 0 outside
    a set), which is what a 999 IK302 reports. ``element``, ``component`` and
    ``repetition`` are 1-based and 0 when not applicable. ``interchange``,
    ``group`` and ``transaction`` are the ISA13, GS06 and ST02 control numbers the
    finding belongs to ('' when unknown). ``element_ref`` is the element's data
    element reference number (IK402) and ``trigger_element`` the position of the
    element in the same segment whose presence made this one required or excluded
    (an X12 syntax note; 0 otherwise). ``loop_position`` is the set position of the
    first segment of the loop a missing segment or loop is missing from (0 when the
    finding is about a segment that is there): a 999 names the business unit (CTX) of
    that loop, as ``set_position`` may already be past it. Messages never quote element
    values, so findings can be logged without exposing member data.
    """

    kind: FindingKind
    code: str
    message: str
    position: int = 0
    set_position: int = 0
    segment_id: str = ""
    loop_id: str = ""
    element: int = 0
    component: int = 0
    repetition: int = 0
    element_ref: str = ""
    trigger_element: int = 0
    severity: Severity = Severity.ERROR
    interchange: str = ""
    group: str = ""
    transaction: str = ""
    loop_position: int = 0

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["severity"] = self.severity.value
        return data

    def __str__(self) -> str:
        where = f"segment {self.position}" if self.position else "interchange"
        if self.segment_id:
            where += f" ({self.segment_id}"
            if self.element:
                where += f"{self.element:02d}"
                if self.component:
                    where += f"-{self.component}"
            where += ")"
        if self.loop_id:
            where += f" loop {self.loop_id}"
        return f"{self.kind.value}:{self.code} {where}: {self.message}"
