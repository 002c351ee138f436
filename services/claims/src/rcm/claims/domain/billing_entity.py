"""Who bills: the billing entity for a claim, by state, payer and date of service.

A practice may bill under several entities (a group NPI and TIN per state or line of
business). The most specific entity wins: one that names the payer beats one for any
payer. Two equally specific entities are ambiguous, which is a data problem to fix, not
a guess to make.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from rcm.claims.domain.common import DomainModel
from rcm.claims.domain.providers import BillingEntity

__all__ = ["NoBillingEntity", "NoBillingEntityReason", "choose_billing_entity"]


class NoBillingEntityReason(StrEnum):
    """Why no billing entity could be chosen."""

    NONE_MATCHES = "none_matches"
    AMBIGUOUS = "ambiguous"


class NoBillingEntity(DomainModel):
    """No single entity bills this claim."""

    reason: NoBillingEntityReason
    message: str
    candidates: tuple[str, ...] = ()


def choose_billing_entity(
    entities: Sequence[BillingEntity],
    *,
    state: str,
    payer_id: str,
    date_of_service: date,
    organization_id: str | None = None,
) -> BillingEntity | NoBillingEntity:
    """The entity billing services in ``state`` to ``payer_id`` on ``date_of_service``."""
    matching = [
        entity
        for entity in entities
        if state in entity.states
        and (not entity.payer_ids or payer_id in entity.payer_ids)
        and entity.valid.contains(date_of_service)
        and (organization_id is None or entity.organization_id in (None, organization_id))
    ]
    if not matching:
        return NoBillingEntity(
            reason=NoBillingEntityReason.NONE_MATCHES,
            message=f"no billing entity bills payer {payer_id} in {state} on {date_of_service.isoformat()}",
        )
    payer_specific = [entity for entity in matching if entity.payer_ids]
    best = payer_specific or matching
    if len(best) > 1:
        return NoBillingEntity(
            reason=NoBillingEntityReason.AMBIGUOUS,
            message=f"{len(best)} billing entities match payer {payer_id} in {state}; make one more specific",
            candidates=tuple(entity.entity_id for entity in best),
        )
    return best[0]
