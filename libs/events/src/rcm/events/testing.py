"""Synthetic, valid events for tests and the demo. No real PHI.

Every factory takes a sequence number ``n`` (which makes ids, names and member ids
distinct and repeatable) and keyword overrides for any body field; the result is
validated like a real event. Names look like ``Test Patient 0001``, member ids like
``SYN000001``, and NPIs are 10 digits with a computed Luhn check digit.

:func:`example` and :func:`examples` give one valid event of every catalogued type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from rcm.events import models as m
from rcm.events.catalog import CATALOG
from rcm.events.errors import UnknownEventType
from rcm.events.types import npi_check_digit

__all__ = [
    "BASE_TIME",
    "ZONE",
    "example",
    "examples",
    "factories",
    "ids",
    "member_id",
    "synthetic_npi",
    "synthetic_tin",
]

E = TypeVar("E", bound=m.Event)

ZONE = ZoneInfo("America/New_York")
BASE_TIME = datetime(2025, 3, 3, 10, 0, tzinfo=ZONE)
"""Start of session 1; session ``n`` starts ``n - 1`` days later."""


def synthetic_npi(n: int) -> str:
    """A valid-looking Type 1 NPI ``1`` + ``n`` in 8 digits + the Luhn check digit."""
    stem = f"1{n % 10**8:08d}"
    return stem + str(npi_check_digit(stem))


def synthetic_tin(n: int) -> str:
    """A 9-digit TIN in a prefix (99) the IRS does not assign to employers."""
    return f"99{n % 10**7:07d}"


def member_id(n: int) -> str:
    """A synthetic member id, ``SYN000001``."""
    return f"SYN{n:06d}"


def ids(n: int) -> dict[str, str]:
    """The ids the factories use for sequence number ``n``."""
    return {
        "organization_id": f"org-{n:04d}",
        "patient_id": f"pat-{n:04d}",
        "coverage_id": f"cov-{n:04d}",
        "provider_id": f"prov-{n:04d}",
        "supervisor_id": f"prov-{n + 5000:04d}",
        "payer_id": f"payer-{n:04d}",
        "fee_schedule_id": f"fee-{n:04d}",
        "appointment_id": f"appt-{n:04d}",
        "session_id": f"ses-{n:04d}",
        "authorization_id": f"auth-{n:04d}",
        "claim_id": f"clm-{n:04d}",
        "remit_id": f"rmt-{n:04d}",
        "denial_id": f"den-{n:04d}",
        "request_id": f"req-{n:04d}",
    }


def _build(model: type[E], fields: dict[str, Any], overrides: dict[str, Any]) -> E:
    return model.model_validate({**fields, **overrides})


def _address(n: int) -> dict[str, Any]:
    return {
        "line1": f"{100 + n} Synthetic Way",
        "city": "Testville",
        "state": "NY",
        "postal_code": "100011234",
    }


def _start(n: int) -> datetime:
    return BASE_TIME + timedelta(days=n - 1)


def _dos(n: int) -> date:
    return _start(n).date()


def _at(n: int, minutes: int = 0) -> datetime:
    return _start(n) + timedelta(minutes=minutes)


# ------------------------------------------------------------------ reference data


def organization_updated(n: int = 1, **overrides: Any) -> m.OrganizationUpdated:
    i = ids(n)
    return _build(
        m.OrganizationUpdated,
        {
            "organization_id": i["organization_id"],
            "legal_name": f"Synthetic Counseling Group {n:04d}",
            "tin": synthetic_tin(n),
            "group_npi": synthetic_npi(n + 2000),
            "taxonomy_code": "261QM0801X",
            "billing_address": _address(n),
            "states": ["NY", "NJ"],
            "payer_ids": [i["payer_id"]],
            "updated_at": _at(0),
        },
        overrides,
    )


def patient_updated(n: int = 1, **overrides: Any) -> m.PatientUpdated:
    i = ids(n)
    return _build(
        m.PatientUpdated,
        {
            "patient_id": i["patient_id"],
            "organization_id": i["organization_id"],
            "name": {"first": "Test", "last": f"Patient {n:04d}"},
            "birth_date": date(1990, 1, 1) + timedelta(days=n),
            "sex": "U",
            "address": _address(n),
            "time_zone": "America/New_York",
            "updated_at": _at(0),
        },
        overrides,
    )


def coverage_updated(n: int = 1, **overrides: Any) -> m.CoverageUpdated:
    i = ids(n)
    return _build(
        m.CoverageUpdated,
        {
            "coverage_id": i["coverage_id"],
            "patient_id": i["patient_id"],
            "payer_id": i["payer_id"],
            "plan_name": "Synthetic PPO",
            "member_id": member_id(n),
            "group_number": f"GRP{n:05d}",
            "relationship": "self",
            "priority": "primary",
            "effective": {"start": date(2025, 1, 1)},
            "updated_at": _at(0),
        },
        overrides,
    )


def provider_updated(n: int = 1, **overrides: Any) -> m.ProviderUpdated:
    i = ids(n)
    return _build(
        m.ProviderUpdated,
        {
            "provider_id": i["provider_id"],
            "organization_ids": [i["organization_id"]],
            "npi": synthetic_npi(n),
            "name": {"first": "Test", "last": f"Clinician {n:04d}"},
            "taxonomy_code": "1041C0700X",
            "credential": "LCSW",
            "licenses": [
                {
                    "state": "NY",
                    "license_type": "LCSW",
                    "number": f"SYN-LIC-{n:05d}",
                    "valid": {"start": date(2020, 1, 1), "end": date(2027, 12, 31)},
                }
            ],
            "enrollments": [
                {
                    "payer_id": i["payer_id"],
                    "state": "NY",
                    "network_status": "in_network",
                    "organization_id": i["organization_id"],
                    "valid": {"start": date(2024, 1, 1)},
                }
            ],
            "updated_at": _at(0),
        },
        overrides,
    )


def payer_updated(n: int = 1, **overrides: Any) -> m.PayerUpdated:
    return _build(
        m.PayerUpdated,
        {
            "payer_id": ids(n)["payer_id"],
            "name": f"Synthetic Health Plan {n:04d}",
            "payer_type": "commercial",
            "electronic_payer_id": f"SYNP{n:04d}",
            "rules": {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 90},
            "updated_at": _at(0),
        },
        overrides,
    )


def fee_schedule_updated(n: int = 1, **overrides: Any) -> m.FeeScheduleUpdated:
    i = ids(n)
    rates = {"90791": "220.00", "90832": "95.00", "90834": "130.00", "90837": "170.00", "90785": "20.00"}
    return _build(
        m.FeeScheduleUpdated,
        {
            "fee_schedule_id": i["fee_schedule_id"],
            "organization_id": i["organization_id"],
            "kind": "payer_contract",
            "payer_id": i["payer_id"],
            "effective": {"start": date(2025, 1, 1), "end": date(2025, 12, 31)},
            "rates": [{"procedure_code": code, "amount": amount} for code, amount in rates.items()],
            "updated_at": _at(0),
        },
        overrides,
    )


# ------------------------------------------------------------------ clinical facts


def appointment_scheduled(n: int = 1, **overrides: Any) -> m.AppointmentScheduled:
    i = ids(n)
    return _build(
        m.AppointmentScheduled,
        {
            "appointment_id": i["appointment_id"],
            "patient_id": i["patient_id"],
            "organization_id": i["organization_id"],
            "provider_id": i["provider_id"],
            "start": _at(n),
            "end": _at(n, 60),
            "service_kind": "individual",
            "modality": "video",
            "expected_procedure_codes": ["90837"],
            "scheduled_at": _at(n, -7 * 24 * 60),
        },
        overrides,
    )


def appointment_cancelled(n: int = 1, **overrides: Any) -> m.AppointmentCancelled:
    i = ids(n)
    return _build(
        m.AppointmentCancelled,
        {
            "appointment_id": i["appointment_id"],
            "patient_id": i["patient_id"],
            "reason": "patient_cancelled",
            "cancelled_at": _at(n, -24 * 60),
        },
        overrides,
    )


def _session_fields(n: int, minutes: int) -> dict[str, Any]:
    i = ids(n)
    return {
        "session_id": i["session_id"],
        "appointment_id": i["appointment_id"],
        "patient_id": i["patient_id"],
        "organization_id": i["organization_id"],
        "rendering_provider_id": i["provider_id"],
        "start": _at(n),
        "end": _at(n, minutes),
        "time_zone": "America/New_York",
        "service_kind": "individual",
        "participants": [{"role": "patient"}],
        "modality": "video",
        "place_of_service": "11",
        "patient_location": {"state": "NY", "at_home": True},
        "diagnoses": ["F41.1", "F33.1"],
        "note_signed": True,
        "note_signed_at": _at(n, minutes + 30),
    }


def session_completed(n: int = 1, *, minutes: int = 53, **overrides: Any) -> m.SessionCompleted:
    """A signed video psychotherapy session of ``minutes`` with the patient at home."""
    return _build(m.SessionCompleted, _session_fields(n, minutes), overrides)


def session_corrected(n: int = 1, *, minutes: int = 53, **overrides: Any) -> m.SessionCorrected:
    fields = {
        **_session_fields(n, minutes),
        "diagnoses": ["F41.1"],
        "revision": 1,
        "reason": "diagnosis corrected",
        "corrected_at": _at(n, 2 * 24 * 60),
    }
    return _build(m.SessionCorrected, fields, overrides)


def session_voided(n: int = 1, **overrides: Any) -> m.SessionVoided:
    i = ids(n)
    fields = {
        "session_id": i["session_id"],
        "patient_id": i["patient_id"],
        "reason": "recorded in error",
        "voided_at": _at(n, 24 * 60),
    }
    return _build(m.SessionVoided, fields, overrides)


def authorization_received(n: int = 1, **overrides: Any) -> m.AuthorizationReceived:
    i = ids(n)
    return _build(
        m.AuthorizationReceived,
        {
            "authorization_id": i["authorization_id"],
            "patient_id": i["patient_id"],
            "coverage_id": i["coverage_id"],
            "payer_id": i["payer_id"],
            "auth_number": f"SYNAUTH{n:06d}",
            "valid": {"start": date(2025, 1, 1), "end": date(2025, 6, 30)},
            "unit": "visits",
            "authorized": 12,
            "procedure_codes": ["90834", "90837"],
            "received_at": _at(0),
        },
        overrides,
    )


def patient_payment_received(n: int = 1, **overrides: Any) -> m.PatientPaymentReceived:
    i = ids(n)
    fields = {
        "payment_id": f"pay-{n:04d}",
        "patient_id": i["patient_id"],
        "amount": "25.00",
        "method": "card",
        "session_id": i["session_id"],
        "received_at": _at(n, 60),
    }
    return _build(m.PatientPaymentReceived, fields, overrides)


# ------------------------------------------------------------------ eligibility


def eligibility_checked(n: int = 1, **overrides: Any) -> m.EligibilityChecked:
    i = ids(n)
    return _build(
        m.EligibilityChecked,
        {
            "check_id": f"elig-{n:04d}",
            "patient_id": i["patient_id"],
            "coverage_id": i["coverage_id"],
            "payer_id": i["payer_id"],
            "service_date": _dos(n),
            "status": "active",
            "plan_name": "Synthetic PPO",
            "group_number": f"GRP{n:05d}",
            "plan_period": {"start": date(2025, 1, 1), "end": date(2025, 12, 31)},
            "service_type_code": "MH",
            "in_network": {
                "copay": "25.00",
                "deductible": "500.00",
                "deductible_remaining": "120.00",
                "out_of_pocket_max": "3000.00",
                "out_of_pocket_remaining": "2100.00",
            },
            "out_of_network": {"coinsurance_percent": "40", "deductible": "1500.00"},
            "visit_limit": {"allowed": 30, "used": 4, "remaining": 26},
            "auth_required": False,
            "checked_at": _at(n, -24 * 60),
        },
        overrides,
    )


def coverage_changed(n: int = 1, **overrides: Any) -> m.CoverageChanged:
    i = ids(n)
    fields = {
        "patient_id": i["patient_id"],
        "coverage_id": i["coverage_id"],
        "payer_id": i["payer_id"],
        "change": "terminated",
        "effective_date": date(2025, 2, 28),
        "check_id": f"elig-{n:04d}",
        "detected_at": _at(n, -24 * 60),
    }
    return _build(m.CoverageChanged, fields, overrides)


def eligibility_recheck_requested(n: int = 1, **overrides: Any) -> m.EligibilityRecheckRequested:
    i = ids(n)
    fields = {
        "request_id": i["request_id"],
        "patient_id": i["patient_id"],
        "coverage_id": i["coverage_id"],
        "service_date": _dos(n),
        "reason": "coverage_denial",
        "claim_id": i["claim_id"],
        "denial_id": i["denial_id"],
        "requested_at": _at(n, 30 * 24 * 60),
    }
    return _build(m.EligibilityRecheckRequested, fields, overrides)


# ------------------------------------------------------------------ claims


def _line(n: int, code: str = "90837", charge: str = "170.00", **extra: Any) -> dict[str, Any]:
    i = ids(n)
    return {
        "line_key": f"{i['session_id']}:1",
        "session_id": i["session_id"],
        "service_date": _dos(n),
        "procedure_code": code,
        "modifiers": ["95"],
        "units": 1,
        "place_of_service": "10",
        "charge": charge,
        "diagnosis_pointers": [1, 2],
        "rule": "psychotherapy.duration_band",
        **extra,
    }


def claim_created(n: int = 1, **overrides: Any) -> m.ClaimCreated:
    i = ids(n)
    return _build(
        m.ClaimCreated,
        {
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "organization_id": i["organization_id"],
            "rendering_provider_id": i["provider_id"],
            "coverage_id": i["coverage_id"],
            "payer_id": i["payer_id"],
            "payer_responsibility": "primary",
            "diagnoses": ["F411", "F331"],
            "lines": [_line(n)],
            "total_charge": "170.00",
            "created_at": _at(n, 120),
        },
        overrides,
    )


def session_not_billed(n: int = 1, **overrides: Any) -> m.SessionNotBilled:
    i = ids(n)
    fields = {
        "session_id": i["session_id"],
        "patient_id": i["patient_id"],
        "rendering_provider_id": i["provider_id"],
        "reason": "under_minimum_time",
        "message": "12 minutes is under the 16 minutes psychotherapy needs",
        "decided_at": _at(n, 61),
    }
    return _build(m.SessionNotBilled, fields, overrides)


def claim_held(n: int = 1, **overrides: Any) -> m.ClaimHeld:
    i = ids(n)
    reasons = [
        {"code": "authorization_missing", "message": "90837 needs prior authorization for this payer"},
        {"code": "note_unsigned", "message": "progress note is not signed"},
    ]
    fields = {
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "reasons": reasons,
        "held_at": _at(n, 121),
    }
    return _build(m.ClaimHeld, fields, overrides)


def claim_released(n: int = 1, **overrides: Any) -> m.ClaimReleased:
    i = ids(n)
    fields = {
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "released_by": "claims.scrubber",
        "released_at": _at(n, 180),
    }
    return _build(m.ClaimReleased, fields, overrides)


def claim_submitted(n: int = 1, **overrides: Any) -> m.ClaimSubmitted:
    i = ids(n)
    return _build(
        m.ClaimSubmitted,
        {
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "payer_id": i["payer_id"],
            "batch_id": f"batch-{n:04d}",
            "file_name": f"837P_{n:06d}.x12",
            "interchange_control_number": f"{n:09d}",
            "group_control_number": str(n),
            "transaction_set_control_number": f"{n:04d}",
            "submitted_at": _at(n, 24 * 60),
        },
        overrides,
    )


def claim_acknowledged(n: int = 1, **overrides: Any) -> m.ClaimAcknowledged:
    i = ids(n)
    return _build(
        m.ClaimAcknowledged,
        {
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "source": "277CA",
            "status": "accepted",
            "payer_claim_number": f"PCN{n:08d}",
            "file_name": f"277CA_{n:06d}.x12",
            "received_at": _at(n, 2 * 24 * 60),
        },
        overrides,
    )


def claim_status_changed(n: int = 1, **overrides: Any) -> m.ClaimStatusChanged:
    i = ids(n)
    fields = {
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "from_status": "submitted",
        "to_status": "accepted",
        "cause": "claim-acknowledged",
        "changed_at": _at(n, 2 * 24 * 60),
    }
    return _build(m.ClaimStatusChanged, fields, overrides)


def claim_voided(n: int = 1, **overrides: Any) -> m.ClaimVoided:
    i = ids(n)
    fields = {
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "from_status": "denied",
        "cause": "claim-void-requested",
        "voided_at": _at(n, 3 * 24 * 60),
    }
    return _build(m.ClaimVoided, fields, overrides)


def claim_correction_requested(n: int = 1, **overrides: Any) -> m.ClaimCorrectionRequested:
    i = ids(n)
    return _build(
        m.ClaimCorrectionRequested,
        {
            "request_id": i["request_id"],
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "method": "replacement",
            "changes": [
                {"action": "set_place_of_service", "line_key": f"{i['session_id']}:1", "value": "02"}
            ],
            "payer_claim_number": f"PCN{n:08d}",
            "denial_id": i["denial_id"],
            "requested_at": _at(n, 30 * 24 * 60),
        },
        overrides,
    )


def claim_correction_refused(n: int = 1, **overrides: Any) -> m.ClaimCorrectionRefused:
    i = ids(n)
    fields = {
        "request_id": i["request_id"],
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "denial_id": i["denial_id"],
        "reason": "unknown_provider",
        "action": "set_rendering_provider",
        "detail": f"set_rendering_provider: provider prov-{n + 9000:04d} is not on file",
        "refused_at": _at(n, 30 * 24 * 60 + 1),
    }
    return _build(m.ClaimCorrectionRefused, fields, overrides)


def claim_void_requested(n: int = 1, **overrides: Any) -> m.ClaimVoidRequested:
    i = ids(n)
    fields = {
        "request_id": i["request_id"],
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "payer_claim_number": f"PCN{n:08d}",
        "reason": "session voided",
        "requested_at": _at(n, 30 * 24 * 60),
    }
    return _build(m.ClaimVoidRequested, fields, overrides)


def claim_write_off_requested(n: int = 1, **overrides: Any) -> m.ClaimWriteOffRequested:
    i = ids(n)
    fields = {
        "request_id": i["request_id"],
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "amount": "170.00",
        "reason": "CO-29 without proof of timely filing",
        "denial_id": i["denial_id"],
        "requested_at": _at(n, 30 * 24 * 60),
    }
    return _build(m.ClaimWriteOffRequested, fields, overrides)


def _cas(group: str, carc: str, amount: str) -> dict[str, Any]:
    return {"group": group, "carc": carc, "amount": amount}


def secondary_claim_requested(n: int = 1, **overrides: Any) -> m.SecondaryClaimRequested:
    i = ids(n)
    return _build(
        m.SecondaryClaimRequested,
        {
            "request_id": i["request_id"],
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "coverage_id": f"cov-{n + 5000:04d}",
            "payer_id": f"payer-{n + 5000:04d}",
            "payer_responsibility": "secondary",
            "prior_payer_id": i["payer_id"],
            "prior_payer_claim_number": f"PCN{n:08d}",
            "prior_paid": "110.00",
            "patient_responsibility": "25.00",
            "lines": [
                {
                    "line_key": f"{i['session_id']}:1",
                    "procedure_code": "90837",
                    "modifiers": ["95"],
                    "units": 1,
                    "paid": "110.00",
                    "adjustments": [_cas("CO", "45", "35.00"), _cas("PR", "3", "25.00")],
                    "adjudicated_on": _dos(n) + timedelta(days=20),
                }
            ],
            "remit_id": i["remit_id"],
            "requested_at": _at(n, 21 * 24 * 60),
        },
        overrides,
    )


# ------------------------------------------------------------------ remittance


def remit_received(n: int = 1, **overrides: Any) -> m.RemitReceived:
    """A paid claim: 170.00 charged, 110.00 paid, 35.00 CO-45, 25.00 PR-3 copay."""
    i = ids(n)
    adjustments = [_cas("CO", "45", "35.00"), _cas("PR", "3", "25.00")]
    return _build(
        m.RemitReceived,
        {
            "remit_id": i["remit_id"],
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "payer_id": i["payer_id"],
            "payer_claim_number": f"PCN{n:08d}",
            "status": "1",
            "charge": "170.00",
            "paid": "110.00",
            "patient_responsibility": "25.00",
            "lines": [
                {
                    "line_key": f"{i['session_id']}:1",
                    "procedure_code": "90837",
                    "modifiers": ["95"],
                    "service_date": _dos(n),
                    "charge": "170.00",
                    "paid": "110.00",
                    "allowed": "135.00",
                    "units_paid": 1,
                    "adjustments": adjustments,
                }
            ],
            "payment_trace_number": f"EFT{n:09d}",
            "payment_date": _dos(n) + timedelta(days=20),
            "file_name": f"835_{n:06d}.x12",
            "received_at": _at(n, 21 * 24 * 60),
        },
        overrides,
    )


def remit_unmatched(n: int = 1, **overrides: Any) -> m.RemitUnmatched:
    fields = {
        "remit_id": f"rmt-{n + 9000:04d}",
        "payer_id": ids(n)["payer_id"],
        "patient_control_number": f"UNKNOWN{n:04d}",
        "payer_claim_number": f"PCN{n + 9000:08d}",
        "charge": "130.00",
        "paid": "90.00",
        "reason": "no_claim",
        "file_name": f"835_{n:06d}.x12",
        "received_at": _at(n, 21 * 24 * 60),
    }
    return _build(m.RemitUnmatched, fields, overrides)


def payment_posted(n: int = 1, **overrides: Any) -> m.PaymentPosted:
    i = ids(n)
    return _build(
        m.PaymentPosted,
        {
            "posting_id": f"post-{n:04d}",
            "remit_id": i["remit_id"],
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "payer_id": i["payer_id"],
            "paid": "110.00",
            "contractual_adjustment": "35.00",
            "patient_responsibility": "25.00",
            "claim_balance": "0.00",
            "lines": [
                {
                    "line_key": f"{i['session_id']}:1",
                    "paid": "110.00",
                    "contractual_adjustment": "35.00",
                    "patient_responsibility": "25.00",
                    "expected_allowed": "135.00",
                }
            ],
            "posted_at": _at(n, 21 * 24 * 60 + 5),
        },
        overrides,
    )


def patient_balance_changed(n: int = 1, **overrides: Any) -> m.PatientBalanceChanged:
    i = ids(n)
    fields = {
        "patient_id": i["patient_id"],
        "claim_id": i["claim_id"],
        "previous_balance": "0.00",
        "balance": "25.00",
        "change": "25.00",
        "reason": "remit_posted",
        "source_id": i["remit_id"],
        "changed_at": _at(n, 21 * 24 * 60 + 5),
    }
    return _build(m.PatientBalanceChanged, fields, overrides)


# ------------------------------------------------------------------ denials


def denial_opened(n: int = 1, **overrides: Any) -> m.DenialOpened:
    """A CO-197 (authorization absent) denial of the whole line."""
    i = ids(n)
    return _build(
        m.DenialOpened,
        {
            "denial_id": i["denial_id"],
            "claim_id": i["claim_id"],
            "patient_id": i["patient_id"],
            "payer_id": i["payer_id"],
            "source": "remit",
            "remit_id": i["remit_id"],
            "category": "authorization",
            "reasons": [
                {"group": "CO", "carc": "197", "amount": "170.00", "line_key": f"{i['session_id']}:1"}
            ],
            "amount": "170.00",
            "action": "fix_auth",
            "opened_at": _at(n, 21 * 24 * 60 + 10),
        },
        overrides,
    )


def denial_resolved(n: int = 1, **overrides: Any) -> m.DenialResolved:
    i = ids(n)
    fields = {
        "denial_id": i["denial_id"],
        "claim_id": i["claim_id"],
        "patient_id": i["patient_id"],
        "outcome": "paid",
        "recovered": "135.00",
        "written_off": "0.00",
        "resolved_at": _at(n, 50 * 24 * 60),
    }
    return _build(m.DenialResolved, fields, overrides)


def denial_stats_updated(n: int = 1, **overrides: Any) -> m.DenialStatsUpdated:
    fields = {
        "scope_id": ids(n)["payer_id"],
        "period_start": date(2025, 3, 1),
        "period_end": date(2025, 3, 31),
        "claims_adjudicated": 200,
        "claims_denied": 18,
        "denial_rate": Decimal("0.09"),
        "by_carc": [{"group": "CO", "carc": "197", "claims": 9, "amount": "1530.00"}],
        "computed_at": datetime(2025, 4, 1, 6, 0, tzinfo=ZONE),
    }
    return _build(m.DenialStatsUpdated, fields, overrides)


# ------------------------------------------------------------------ authorizations


def authorization_consumed(n: int = 1, **overrides: Any) -> m.AuthorizationConsumed:
    i = ids(n)
    fields = {
        "authorization_id": i["authorization_id"],
        "patient_id": i["patient_id"],
        "session_id": i["session_id"],
        "procedure_code": "90837",
        "consumed": 1,
        "authorized": 12,
        "remaining": 11,
        "valid_until": date(2025, 6, 30),
        "consumed_at": _at(n, 90),
    }
    return _build(m.AuthorizationConsumed, fields, overrides)


def authorization_released(n: int = 1, **overrides: Any) -> m.AuthorizationReleased:
    i = ids(n)
    fields = {
        "authorization_id": i["authorization_id"],
        "patient_id": i["patient_id"],
        "session_id": i["session_id"],
        "released": 1,
        "remaining": 12,
        "reason": "session_voided",
        "released_at": _at(n, 24 * 60),
    }
    return _build(m.AuthorizationReleased, fields, overrides)


def authorization_alert(n: int = 1, **overrides: Any) -> m.AuthorizationAlert:
    i = ids(n)
    fields = {
        "alert_id": f"alert-{n:04d}",
        "kind": "low_remaining",
        "patient_id": i["patient_id"],
        "payer_id": i["payer_id"],
        "authorization_id": i["authorization_id"],
        "remaining": 2,
        "valid_until": date(2025, 6, 30),
        "raised_at": _at(n, 90),
    }
    return _build(m.AuthorizationAlert, fields, overrides)


factories: dict[str, Callable[..., m.Event]] = {
    spec.name: globals()[spec.name.replace("-", "_")] for spec in CATALOG
}
"""The factory of each event name: ``factories["session-completed"](3, minutes=45)``."""


def example(name: str, n: int = 1, **overrides: Any) -> m.Event:
    """A valid synthetic event of the type ``name``."""
    try:
        factory = factories[name]
    except KeyError:
        raise UnknownEventType(f"no event named {name!r}") from None
    return factory(n, **overrides)


def examples(n: int = 1) -> dict[str, m.Event]:
    """One valid synthetic event of every catalogued type."""
    return {name: factory(n) for name, factory in factories.items()}
