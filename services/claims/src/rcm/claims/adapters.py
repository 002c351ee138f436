"""Event bodies to domain values: field copies (the domain stays independent of the contracts).

Reference projections are stored as event JSON; these functions turn them into the
values coding and the edits take. They are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from rcm.claims.domain import (
    Authorization,
    BillingEntity,
    CarveOut,
    Coverage,
    EligibilityResult,
    FeeSchedule,
    PayerRules,
    Provider,
    Session,
)
from rcm.claims.domain.cob import OutpatientAdjudication
from rcm.claims.domain.common import Period
from rcm.events.models import RemitReceived, SessionCompleted, SessionCorrected

__all__ = [
    "authorization_of",
    "billing_entity_of",
    "coverage_of",
    "eligibility_of",
    "fee_schedule_for",
    "outpatient_of",
    "payer_rules_of",
    "provider_of",
    "session_of",
]

Body = Mapping[str, Any]
_ALWAYS = Period(start=date(1900, 1, 1))


def session_of(event: SessionCompleted | SessionCorrected) -> Session:
    """The domain session: the event's fields, with the date of service in the session's zone."""
    shared = event.model_dump(mode="json", include=set(Session.model_fields))
    day = event.start.astimezone(ZoneInfo(event.time_zone or "UTC")).date()
    return Session.model_validate({**shared, "date_of_service": day, "minutes": event.minutes})


def outpatient_of(remit: RemitReceived) -> OutpatientAdjudication | None:
    """The remit's claim-level MOA, when the payer reported one with anything in it."""
    moa = remit.outpatient
    if moa is None:
        return None
    found = OutpatientAdjudication(
        reimbursement_rate=moa.reimbursement_rate,
        hcpcs_payable=moa.hcpcs_payable,
        remark_codes=tuple(moa.remark_codes),
        esrd_payment=moa.esrd_payment,
        nonpayable_professional=moa.nonpayable_professional,
    )
    return found if found.reported else None


def payer_rules_of(body: Body | None) -> PayerRules:
    """The payer's billing rules (defaults when the payer is unknown).

    The event's rules carry the domain's settings under the same names and shapes. Keys the
    domain does not know (the filing clock, the correction method, crossover...) are dropped at
    every level, and a null where the domain takes none (``bundling_pairs``: the built-in
    table) leaves the domain default.
    """
    if body is None:
        return PayerRules()
    shared = _known_fields(PayerRules, body.get("rules") or {})
    medicare = body.get("payer_type") == "medicare"
    return PayerRules.model_validate({**shared, "payer_id": body["payer_id"], "medicare": medicare})


def _known_fields(model: type[BaseModel], value: Body) -> dict[str, Any]:
    known: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name not in value:
            continue
        item = value[name]
        if item is None and type(None) not in get_args(field.annotation):
            continue
        nested, many = _nested_model(field.annotation)
        if nested is not None and item is not None:
            item = [_known_fields(nested, one) for one in item] if many else _known_fields(nested, item)
        known[name] = item
    return known


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds, and whether it holds a sequence of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    item = next(iter(get_args(annotation)), None)
    if get_origin(annotation) in (tuple, list) and isinstance(item, type) and issubclass(item, BaseModel):
        return item, True
    return None, False


def _period(value: Body | None) -> Period:
    return Period.model_validate(value) if value else _ALWAYS


def provider_of(body: Body) -> Provider:
    name = body.get("name") or {}
    return Provider(
        provider_id=body["provider_id"],
        npi=body["npi"],
        taxonomy_code=body["taxonomy_code"],
        credential=body["credential"],
        last_name=name.get("last"),
        first_name=name.get("first"),
        licenses=tuple(
            {"state": lic["state"], "license_type": lic["license_type"], "valid": lic["valid"]}
            for lic in body.get("licenses", [])
        ),
        supervisors=tuple(body.get("supervisors", [])),
        enrollments=tuple(
            {
                k: v
                for k, v in span.items()
                if k in {"payer_id", "state", "network_status", "organization_id", "valid"}
            }
            for span in body.get("enrollments", [])
        ),
    )


def _address(value: Body | None) -> dict[str, Any] | None:
    if not value:
        return None
    keys = {"line1", "line2", "city", "state", "postal_code"}
    return {k: v for k, v in value.items() if k in keys}


def billing_entity_of(body: Body) -> BillingEntity:
    """An organization as a billing entity (group NPI and TIN for its states and payers)."""
    return BillingEntity(
        entity_id=body["organization_id"],
        organization_id=body["organization_id"],
        name=body["legal_name"],
        npi=body["group_npi"],
        tin=body["tin"],
        taxonomy_code=body["taxonomy_code"],
        address=_address(body["billing_address"]),
        pay_to_address=_address(body.get("pay_to_address")),
        states=tuple(body["states"]),
        payer_ids=tuple(body.get("payer_ids", [])),
        valid=_ALWAYS,
    )


def coverage_of(body: Body) -> Coverage:
    return Coverage(
        coverage_id=body["coverage_id"],
        patient_id=body["patient_id"],
        payer_id=body["payer_id"],
        priority=body["priority"],
        effective=_period(body.get("effective")),
        medicare_secondary_type=body.get("medicare_secondary_type"),
    )


def eligibility_of(body: Body) -> EligibilityResult:
    return EligibilityResult(
        coverage_id=body["coverage_id"],
        service_date=body["service_date"],
        status=body["status"],
        plan_period=_period(body["plan_period"]) if body.get("plan_period") else None,
        checked_at=body["checked_at"],
        service_type_code=body.get("service_type_code"),
        covered=body.get("covered"),
        carve_out=_carve_out(body["carve_out"]) if body.get("carve_out") else None,
        telehealth_covered=body.get("telehealth_covered"),
        visits_remaining=_visits_remaining(body),
    )


def _visits_remaining(body: Body) -> int | None:
    """What the checked benefit had left: the check's own count, else its visit limit's remaining,
    else that limit's allowed less used."""
    if body.get("visits_remaining") is not None:
        return int(body["visits_remaining"])
    limit = body.get("visit_limit") or {}
    if limit.get("remaining") is not None:
        return int(limit["remaining"])
    if limit.get("used") is not None and limit.get("allowed") is not None:
        return max(0, int(limit["allowed"]) - int(limit["used"]))
    return None


def _carve_out(body: Body) -> CarveOut:
    return CarveOut(
        name=body.get("name"),
        payer_id=body.get("payer_id"),
        identifier=body.get("identifier"),
        service_types=tuple(body.get("service_types") or ()),
    )


def authorization_of(body: Body, *, remaining: int | None = None) -> Authorization | None:
    """The authorization an authorization-received body grants; None when the payer cancelled it
    before its first day (cancelled later, it covers the days before the cancellation)."""
    authorized = int(body["authorized"])
    valid = _period(body["valid"])
    if cancelled := body.get("cancelled_on"):
        last = date.fromisoformat(str(cancelled)) - timedelta(days=1)
        if last < valid.start:
            return None
        valid = Period(start=valid.start, end=last if valid.end is None else min(valid.end, last))
    return Authorization(
        authorization_id=body["authorization_id"],
        patient_id=body["patient_id"],
        payer_id=body["payer_id"],
        auth_number=body["auth_number"],
        valid=valid,
        authorized=authorized,
        remaining=authorized if remaining is None else remaining,
        procedure_codes=tuple(body.get("procedure_codes", [])),
        provider_id=body.get("provider_id"),
    )


def fee_schedule_for(
    schedules: Iterable[Body], *, organization_id: str | None, payer_id: str, day: date
) -> FeeSchedule | None:
    """The charges for a claim: the organization's charge master in force on ``day``, else the
    payer's contract (charges are the practice's own prices; a contract is the fallback)."""
    in_force = [
        s
        for s in schedules
        if _period(s.get("effective")).contains(day)
        and (organization_id is None or s.get("organization_id") == organization_id)
    ]
    master = [s for s in in_force if s.get("kind") == "charge_master"]
    contract = [s for s in in_force if s.get("kind") == "payer_contract" and s.get("payer_id") == payer_id]
    candidates = master or contract
    if not candidates:
        return None
    chosen = candidates[0]
    return FeeSchedule(
        rates=tuple(
            {
                "procedure_code": r["procedure_code"],
                "modifiers": tuple(r.get("modifiers", [])),
                "amount": r["amount"],
            }
            for r in chosen.get("rates", [])
        )
    )
