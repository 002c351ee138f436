"""The burn-down rules: pure values in, values out (no I/O)."""

from rcm.authorizations.domain.alerts import AlertPolicy, alerts_due, conditions
from rcm.authorizations.domain.authorization import Authorization, AuthorizationUnit
from rcm.authorizations.domain.burn_down import (
    BurnDown,
    Consumed,
    NotRequired,
    Outcome,
    ServiceLine,
    Uncovered,
    burn_down,
)
from rcm.authorizations.domain.requirements import AuthRequirements
from rcm.authorizations.domain.reservations import authorization_to_reserve

__all__ = [
    "AlertPolicy",
    "AuthRequirements",
    "Authorization",
    "AuthorizationUnit",
    "BurnDown",
    "Consumed",
    "NotRequired",
    "Outcome",
    "ServiceLine",
    "Uncovered",
    "alerts_due",
    "authorization_to_reserve",
    "burn_down",
    "conditions",
]
