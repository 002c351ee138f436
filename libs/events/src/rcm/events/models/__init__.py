"""Every event body and the values inside them, by area of the revenue cycle."""

from rcm.events.models._base import Event, EventModel
from rcm.events.models.authorizations import *  # noqa: F403
from rcm.events.models.authorizations import __all__ as _authorizations
from rcm.events.models.claims import *  # noqa: F403
from rcm.events.models.claims import __all__ as _claims
from rcm.events.models.common import *  # noqa: F403
from rcm.events.models.common import __all__ as _common
from rcm.events.models.denials import *  # noqa: F403
from rcm.events.models.denials import __all__ as _denials
from rcm.events.models.eligibility import *  # noqa: F403
from rcm.events.models.eligibility import __all__ as _eligibility
from rcm.events.models.reference import *  # noqa: F403
from rcm.events.models.reference import __all__ as _reference
from rcm.events.models.remittance import *  # noqa: F403
from rcm.events.models.remittance import __all__ as _remittance
from rcm.events.models.sessions import *  # noqa: F403
from rcm.events.models.sessions import __all__ as _sessions

__all__ = [
    "Event",
    "EventModel",
    *_authorizations,
    *_claims,
    *_common,
    *_denials,
    *_eligibility,
    *_reference,
    *_remittance,
    *_sessions,
]
