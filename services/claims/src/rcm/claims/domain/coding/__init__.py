"""Coding: from a completed session to service lines.

Where each code is chosen:

* ``psychotherapy``: 90832/90834/90837 and the E/M add-ons +90833/+90836/+90838;
* ``crisis``: 90839/+90840 (Medicare outside the office: G0017/+G0018); ``family_and_group``: 90846/90847, 90853/90849;
* ``intake``: 90791/90792; ``testing``: 9613x and health behavior 9615x-9617x;
* ``hcpcs_units``: H0004, H2019... in 15-minute units;
* ``care_management``: a month's collaborative care 99492/99493/+99494 (Medicare G2214) or general BHI 99484;
* ``behavior_change``: SBIRT 99408/99409 (Medicare G2011/G0396/G0397) and tobacco cessation 99406/99407;
* ``other_psychiatric``: biofeedback psychotherapy 90875/90876 and 90880-90889;
* ``place_of_service`` and ``modifiers``: POS, telehealth, licensure and 59/X modifiers;
* ``sessions``: :func:`code_session`, which runs them in order.
"""

from rcm.claims.domain.coding.result import (
    CodedLine,
    CodedSession,
    CodingResult,
    NotBillable,
    NotBillableReason,
)
from rcm.claims.domain.coding.sessions import code_session

__all__ = ["CodedLine", "CodedSession", "CodingResult", "NotBillable", "NotBillableReason", "code_session"]
