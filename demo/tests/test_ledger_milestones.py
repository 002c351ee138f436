"""The benchmark's milestones: when a claim became ready for a batch and when it was sent."""

from __future__ import annotations

import pytest

from rcm.demo.ledger import CycleLedger
from rcm.events import models as m
from rcm.events import testing as f

pytestmark = pytest.mark.unit


def test_a_claim_is_stamped_ready_when_it_first_passes_its_edits_and_submitted_when_sent() -> None:
    ledger = CycleLedger()
    held = f.claim_status_changed(1, from_status=m.ClaimStatus.CREATED, to_status=m.ClaimStatus.HELD)
    ready = f.claim_status_changed(1, from_status=m.ClaimStatus.HELD, to_status=m.ClaimStatus.READY)
    again = f.claim_status_changed(1, from_status=m.ClaimStatus.REJECTED, to_status=m.ClaimStatus.READY)
    ledger.stamp(held, 1_000)
    assert ready.claim_id not in ledger.ready_ms
    ledger.stamp(ready, 2_000)
    ledger.stamp(again, 9_000)  # ready again after a rejection: the first time counts
    ledger.stamp(f.claim_submitted(1), 4_000)
    assert ledger.ready_ms[ready.claim_id] == 2_000
    assert ledger.submitted_ms[ready.claim_id] == 4_000
