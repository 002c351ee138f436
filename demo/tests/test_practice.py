"""The synthetic practice is valid, repeatable, multi-state, and carries the planted mistakes."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from rcm.demo.practice import PAYERS, Scale, generate_practice
from rcm.events import encode
from rcm.events import models as m
from rcm.sandbox.payers import PayerBook

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 27)


def test_full_practice_has_the_promised_shape() -> None:
    practice = generate_practice(Scale(), today=TODAY)
    kinds = Counter(type(e).__name__ for e in practice.reference)
    assert kinds["ProviderUpdated"] == 120
    assert kinds["PatientUpdated"] == 2000
    assert kinds["PayerUpdated"] == len(PAYERS) == 8
    assert kinds["OrganizationUpdated"] >= 3  # several billing entities (TINs)
    states = {e.patient_location.state for e in practice.sessions}
    assert len(states) == 6
    assert practice.start == date(2026, 10, 28) and practice.end == date(2026, 11, 26)
    late = [e for e in practice.sessions if e.start.date() < practice.start]
    assert all(e.start.date() <= practice.end for e in practice.sessions)
    assert len(late) == practice.mistakes["session billed after the payer's filing limit"]
    service_kinds = {str(e.service_kind) for e in practice.sessions}
    assert {
        "individual",
        "intake",
        "family_with_patient",
        "group",
        "crisis",
        "em_with_psychotherapy",
    } <= service_kinds
    assert {str(e.modality) for e in practice.sessions} == {"video", "audio_only", "in_person"}
    secondaries = [
        e for e in practice.reference if isinstance(e, m.CoverageUpdated) and e.priority == "secondary"
    ]
    assert secondaries
    for mistake in ("note not signed", "authorization missing", "coverage terminated by the payer",
                    "payer pays under contract", "benefits carved out to a behavioral-health plan"):  # fmt: skip
        assert practice.mistakes.get(mistake, 0) > 0, mistake


def test_the_small_month_plants_every_denial_the_end_to_end_test_works() -> None:
    practice = generate_practice(Scale.small(), today=TODAY)
    for mistake in (
        "authorization granted after the sessions",  # CO-197, resubmitted with REF*G1
        "session billed after the payer's filing limit",  # CO-29, to a person
        "session already billed by the previous billing system",  # OA-18, never resubmitted
    ):
        assert practice.mistakes.get(mistake, 0) > 0, mistake
    primary = {
        e.patient_id: e.payer_id
        for e in practice.reference
        if isinstance(e, m.CoverageUpdated) and e.priority == "primary"
    }
    # the payer whose telehealth modifier the practice's rules forgot: its video claims deny CO-4
    assert any(primary[s.patient_id] == "EVRGRN" and str(s.modality) == "video" for s in practice.sessions)


def test_earlier_claims_are_on_file_with_the_payer_for_real_sessions() -> None:
    practice = generate_practice(Scale.small(), today=TODAY)
    book = PayerBook.model_validate(practice.payer_book)
    earlier = {
        (mem.member_id, e.service_date, e.code)
        for p in book.payers
        for mem in p.members
        for e in mem.earlier_claims
    }
    assert len(earlier) == practice.mistakes["session already billed by the previous billing system"]
    coverage = {
        e.patient_id: e.member_id
        for e in practice.reference
        if isinstance(e, m.CoverageUpdated) and e.priority == "primary"
    }
    sessions = {(coverage[s.patient_id], s.start.date()): s for s in practice.sessions}
    for member_id, day, code in earlier:
        session = sessions[(member_id, day)]
        assert code == "90837" and (session.end - session.start).total_seconds() >= 53 * 60
        assert session.note_signed and str(session.modality) == "in_person"


def test_practice_is_repeatable_and_every_event_encodes() -> None:
    a = generate_practice(Scale.small(), today=TODAY)
    b = generate_practice(Scale.small(), today=TODAY)
    assert a.events() == b.events()
    for event in a.events():
        record = encode(event, source="demo-ehr")
        assert record.key  # every event has its partition key


def test_payer_book_matches_the_practice() -> None:
    practice = generate_practice(Scale.small(), today=TODAY)
    book = PayerBook.model_validate(practice.payer_book)
    members = {mem.member_id for p in book.payers for mem in p.members}
    coverages = [e for e in practice.reference if isinstance(e, m.CoverageUpdated)]
    assert {c.member_id for c in coverages} <= members  # the payer knows every member we bill
    auths = {a.auth_number for a in [*practice.authorizations, *practice.late_authorizations]}  # type: ignore[attr-defined]
    on_file = {a.number for p in book.payers for mem in p.members for a in mem.auths}
    assert auths == on_file


def test_some_in_person_sessions_are_at_a_satellite_clinic_away_from_the_billing_address() -> None:
    practice = generate_practice(Scale(), today=TODAY)
    billing = {e.billing_address for e in practice.reference if isinstance(e, m.OrganizationUpdated)}
    away = [e for e in practice.sessions if e.service_location is not None]
    assert away and len(away) < len(practice.sessions)
    assert all(str(e.modality) == "in_person" for e in away)
    for e in away:
        assert e.service_location is not None
        assert e.service_location.address not in billing
        assert e.service_location.address.state == e.patient_location.state
        assert len(e.service_location.address.postal_code) == 9  # ZIP+4, as 2310C wants


def test_medicare_audio_only_visits_have_the_patient_at_home() -> None:
    """Medicare pays audio-only only with the patient at home (the claims service would not bill
    it otherwise): the month books such visits so, and other payers' audio-only visits vary."""
    practice = generate_practice(Scale(), today=TODAY)
    medicare = {p.payer_id for p in PAYERS if p.payer_type == "medicare"}
    primary = {
        e.patient_id: e.payer_id
        for e in practice.reference
        if isinstance(e, m.CoverageUpdated) and e.priority == "primary"
    }
    audio = [e for e in practice.sessions if str(e.modality) == "audio_only"]
    on_medicare = [e for e in audio if primary.get(e.patient_id) in medicare]
    assert on_medicare and all(e.patient_location.at_home for e in on_medicare)
    assert any(not e.patient_location.at_home for e in audio if e not in on_medicare)
