"""The whole cycle, end to end: a smaller month of the demo practice through the real services.

Kafka, PostgreSQL, the payer sandbox and the five services run as separate processes;
the test watches the topics like a dashboard would and checks the invariants. The month
runs once per module; each test reads what it needs from that one run.

The denial cases the practice plants (see rcm.demo.practice) are worked as the issue on
the denials service asks: CO-4 for a missing telehealth modifier comes back corrected and
paid, CO-197 with an authorization on file is resubmitted with REF*G1 and paid, CO-29 on a
claim the payer acknowledged inside the practice's filing window goes to a person (not written
off), OA-18 is never resubmitted.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator

import pytest

from rcm.demo.cli import run_demo
from rcm.demo.invariants import violations
from rcm.demo.ledger import ClaimView, CycleLedger
from rcm.demo.practice import Scale
from rcm.demo.run import Cycle, DemoSettings, drop_databases
from rcm.events import models as m
from rcm.testing import Infrastructure

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.kafka,
    pytest.mark.postgres,
    pytest.mark.timeout(600),
]

TELEHEALTH_POS = {"02", "10"}


@pytest.fixture(scope="module")
def month(
    infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Cycle, bool]]:
    settings = DemoSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        pg_url=infrastructure.database_url_for("postgres"),
        work_dir=tmp_path_factory.mktemp("cycle"),
        timeout_s=240,
        database_suffix=f"_e2e_{os.getpid()}",  # a run of its own, even beside another on the machine
    )
    try:
        yield asyncio.run(run_demo(settings, Scale.small(), quiet=True))
    finally:
        drop_databases(settings)


@pytest.fixture(scope="module")
def ledger(month: tuple[Cycle, bool]) -> CycleLedger:
    return month[0].ledger


def denied_with(ledger: CycleLedger, group: str, carc: str) -> list[ClaimView]:
    return [
        c
        for c in ledger.claims.values()
        if any(r.group == group and r.carc == carc for d in c.denials for r in d.reasons)
    ]


def paid(claim: ClaimView) -> bool:
    """Adjudicated and paid in full: what is left after the contract is the patient's share, if any."""
    return claim.status == "paid" and bool(claim.remits) and not claim.denials


def test_a_month_of_the_practice_runs_through_the_whole_cycle(month: tuple[Cycle, bool]) -> None:
    cycle, settled = month
    assert violations(cycle.ledger) == []
    assert settled
    # the planted mistakes were found: a held claim per kind, automatic corrections, a secondary claim
    held = Counter(
        reason for c in cycle.ledger.claims.values() if c.status == "held" for reason in c.held_reasons
    )
    assert held["note_unsigned"] >= 1
    assert cycle.ledger.requests["correction"] >= 1
    assert any(c.responsibility == "secondary" for c in cycle.ledger.claims.values())


def test_a_claim_denied_co4_for_a_missing_telehealth_modifier_comes_back_corrected_and_paid(
    ledger: CycleLedger,
) -> None:
    corrected = []
    for claim in denied_with(ledger, "CO", "4"):
        denied_lines = {r.line_key for d in claim.denials for r in d.reasons if r.carc == "4"}
        telehealth = [
            ln for ln in claim.lines if ln.line_key in denied_lines and ln.place_of_service in TELEHEALTH_POS
        ]
        if not telehealth or any("95" in ln.modifiers for ln in telehealth):
            continue
        [replacement] = ledger.replacements_of(claim.claim_id)
        assert replacement.frequency == "7"
        assert replacement.payer_claim_number == claim.remits[0].payer_claim_number  # REF*F8
        fixed = {ln.line_key: ln.modifiers for ln in replacement.lines}
        assert all("95" in fixed[ln.line_key] for ln in telehealth)
        assert paid(replacement), (replacement.claim_id, replacement.status)
        corrected.append(replacement)
    assert corrected, "the small month has no video claim denied CO-4 for its modifier"
    assert sum(r.paid for r in corrected) > 0  # some of it beyond what the patients owe


def test_co197_with_an_authorization_on_file_is_resubmitted_with_ref_g1_and_paid(
    month: tuple[Cycle, bool], ledger: CycleLedger
) -> None:
    practice = month[0].practice
    granted = [
        a
        for a in [*practice.authorizations, *practice.late_authorizations]
        if isinstance(a, m.AuthorizationReceived)
    ]

    def on_file(claim: ClaimView) -> bool:
        return all(
            any(
                a.patient_id == claim.patient_id
                and line.procedure_code in a.procedure_codes
                and a.valid.start <= line.service_date <= (a.valid.end or line.service_date)
                for a in granted
            )
            for line in claim.lines
        )

    resubmitted = []
    for claim in denied_with(ledger, "CO", "197"):
        if claim.authorization_number or not on_file(claim):
            continue
        [replacement] = ledger.replacements_of(claim.claim_id)
        assert replacement.frequency == "7"
        assert replacement.payer_claim_number == claim.remits[0].payer_claim_number  # REF*F8
        assert replacement.authorization_number in {a.auth_number for a in granted}  # REF*G1
        assert paid(replacement), (replacement.claim_id, replacement.status)
        resubmitted.append(claim.claim_id)
    assert resubmitted, "the small month has no claim denied CO-197 while its authorization was on file"


def test_co29_on_a_claim_the_payer_acknowledged_inside_the_practice_window_goes_to_a_person(
    ledger: CycleLedger,
) -> None:
    # the payer's filing limit is shorter than the practice's rules say: its own 277CA acceptance
    # falls inside the practice's window, so the write-off waits for a person to check the limit
    late = denied_with(ledger, "CO", "29")
    assert late, "the small month has no claim past the payer's filing limit"
    written_off = {w.claim_id for w in ledger.write_offs}
    for claim in late:
        assert ("277CA", "accepted") in claim.acks
        assert {str(d.action) for d in claim.denials} == {"human_review"}
        assert not any(d.denial_id in ledger.resolved for d in claim.denials)  # open, in the queue
        assert claim.claim_id not in written_off
        assert not ledger.replacements_of(claim.claim_id)  # never appealed nor resent
        assert claim.status == "denied"


def test_oa18_is_never_resubmitted(ledger: CycleLedger) -> None:
    duplicates = denied_with(ledger, "OA", "18")
    assert duplicates, "the small month has no session the payer already had on file"
    corrected = {c.claim_id for c in ledger.corrections}
    for claim in duplicates:
        assert claim.submissions == 1
        assert claim.claim_id not in corrected
        assert not ledger.replacements_of(claim.claim_id)
        # a person checks the original (the claims service never sends a session's claim twice)
        assert {str(d.action) for d in claim.denials} == {"human_review"}
        assert claim.status == "denied"  # final: the earlier claim was the one paid
    sessions = {s for c in duplicates for s in c.session_ids}
    assert all(ledger.claimed_sessions()[s] == 1 for s in sessions)


def test_a_secondary_plan_reported_after_the_primary_paid_is_billed_the_patient_share(
    month: tuple[Cycle, bool],
) -> None:
    cycle, _ = month
    late = {c.patient_id: c.payer_id for c in cycle.practice.late_coverages}
    assert late, "the small month has no patient who reports a second plan late"
    claims = [c for c in cycle.ledger.claims.values() if c.patient_id in late]
    shared = [
        c
        for c in claims
        if c.responsibility == "primary"
        and c.postings
        and sum(p.patient_responsibility for p in c.postings) > 0
    ]
    assert shared, "no late-reporting patient's primary claim left a patient share"
    for primary in shared:
        # the share moved off the patient once the secondary was billed, and that claim exists
        assert primary.billed_to_next_payer > 0, primary.claim_id
        assert any(
            c.responsibility == "secondary"
            and c.payer_id == late[primary.patient_id]
            and c.session_ids & primary.session_ids
            for c in claims
        ), primary.claim_id
