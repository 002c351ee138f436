"""The eligibility rules, pure: the 270 to send, the 271 read as a benefit summary, what AAA
rejections mean, what changed since the last check, cache keys and the re-check schedule."""

from rcm.eligibility.domain.benefits import (
    BenefitSummary,
    benefit_loops,
    choose_service_type,
    payer_identifier,
    summarize,
)
from rcm.eligibility.domain.cache import cache_key, is_fresh, request_fingerprint
from rcm.eligibility.domain.changes import DetectedChange, detect_changes
from rcm.eligibility.domain.inquiry import (
    InquiryRequest,
    Person,
    build_270,
    fingerprint_of,
    inquiry_270,
    telehealth_places,
)
from rcm.eligibility.domain.rejections import AaaAction, AaaDecision, decide
from rcm.eligibility.domain.schedule import first_visit_of_month, night_before
from rcm.eligibility.domain.service_types import DEFAULT_INQUIRY, FALLBACK_ORDER, order_for

__all__ = [
    "DEFAULT_INQUIRY",
    "FALLBACK_ORDER",
    "AaaAction",
    "AaaDecision",
    "BenefitSummary",
    "DetectedChange",
    "InquiryRequest",
    "Person",
    "benefit_loops",
    "build_270",
    "cache_key",
    "choose_service_type",
    "decide",
    "detect_changes",
    "fingerprint_of",
    "first_visit_of_month",
    "inquiry_270",
    "is_fresh",
    "night_before",
    "order_for",
    "payer_identifier",
    "request_fingerprint",
    "summarize",
    "telehealth_places",
]
