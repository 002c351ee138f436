"""Each kind of edit finding reaches the claim-held event as its own hold reason."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from rcm.claims.domain import ClaimDraft
from rcm.claims.domain.edits import Finding, Severity
from rcm.claims.handlers import hold_reasons_of
from rcm.events.models import HoldReasonCode

pytestmark = pytest.mark.unit


def _reason(code: str) -> HoldReasonCode:
    draft = cast(ClaimDraft, SimpleNamespace(lines=[]))
    finding: Any = Finding(edit="e", code=code, severity=Severity.HOLD, message="m", field="claim", fix="f")
    (reason,) = hold_reasons_of(draft, [finding])
    return reason.code


@pytest.mark.parametrize(
    ("finding", "reason"),
    [
        ("code.not_for_credential", HoldReasonCode.CODE_NOT_BILLABLE),
        ("units.too_many", HoldReasonCode.CODE_NOT_BILLABLE),
        ("add_on.without_primary", HoldReasonCode.CODE_NOT_BILLABLE),
        ("diagnosis.first_listed", HoldReasonCode.DIAGNOSIS_INVALID),
        ("rendering.not_licensed", HoldReasonCode.PROVIDER_NOT_LICENSED),
        ("bundling.same_day", HoldReasonCode.NCCI_CONFLICT),
        ("npi.check_digit", HoldReasonCode.OTHER),
    ],
)
def test_a_finding_is_held_for_the_reason_its_kind_names(finding: str, reason: HoldReasonCode) -> None:
    assert _reason(finding) is reason
