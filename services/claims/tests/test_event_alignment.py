"""The domain stays independent of the event contracts, but adapting them is a field copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rcm.claims.adapters import payer_rules_of
from rcm.claims.app import TOPICS
from rcm.claims.domain.coding import CodedSession, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import Session
from rcm.events.catalog import CATALOG
from rcm.events.models.reference import PayerBillingRules, TelehealthRules
from rcm.events.models.sessions import SessionCompleted

pytestmark = pytest.mark.unit


def test_payer_billing_rules_from_payer_updated_adapt_by_copying_shared_fields() -> None:
    published = PayerBillingRules(telehealth=TelehealthRules(video_modifiers=["95"]), timely_filing_days=90)
    rules = payer_rules_of({"payer_id": "payer_evt", "rules": published.model_dump(mode="json")})
    assert rules.telehealth.video_modifiers == ("95",)
    assert rules.timely_filing_days == 90
    assert rules.bundling_pairs == PayerRules().bundling_pairs  # none published: the built-in table
    assert {r.procedure_code for r in rules.auth_requirements} == {
        r.procedure_code for r in published.auth_requirements
    }


def test_a_session_completed_event_adapts_by_copying_fields_and_fixing_the_date() -> None:
    start = datetime(2025, 3, 4, 23, 30, tzinfo=UTC)
    event = SessionCompleted(
        session_id="ses_evt",
        patient_id="pat_evt",
        organization_id="org_evt",
        rendering_provider_id="prv_evt",
        start=start,
        end=start + timedelta(minutes=53),
        time_zone="America/New_York",
        service_kind="individual",
        modality="video",
        place_of_service="11",
        patient_location={"state": "NY", "at_home": True},
        diagnoses=["F41.1"],
        note_signed=True,
        note_signed_at=start + timedelta(hours=2),
    )
    shared = event.model_dump(mode="json", include=set(Session.model_fields))
    local_day = event.start.astimezone(ZoneInfo(event.time_zone or "UTC")).date()
    session = Session.model_validate({**shared, "date_of_service": local_day, "minutes": event.minutes})
    assert session.date_of_service.isoformat() == "2025-03-04"
    result = code_session(session, credential=Credential.LCSW)
    assert isinstance(result, CodedSession)
    assert (result.lines[0].code, result.place_of_service) == ("90837", "10")


def test_the_service_subscribes_to_exactly_what_the_catalog_says_claims_reads() -> None:
    assert sorted(TOPICS) == sorted(spec.name for spec in CATALOG if "claims" in spec.consumers)
    assert len(TOPICS) == len(set(TOPICS))
