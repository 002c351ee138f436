"""The revenue-cycle report of a demo run: figures from the ledger, as text and as an HTML page."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rcm.demo.ledger import FINAL, ZERO, CycleLedger

__all__ = ["CycleReport", "build_report", "render_html", "render_json", "render_text"]

# actions the services take without a person (post-only denials need no action at all)
AUTOMATIC = {
    "transfer_to_patient",
    "bill_secondary",
    "resubmit_original",
    "resubmit_replacement",
    "void",
    "write_off",
    "reverify_eligibility",
}


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


@dataclass
class CycleReport:
    sessions: int = 0
    sessions_claimed: int = 0
    not_billed: Counter[str] = field(default_factory=Counter)
    claims: int = 0
    corrected_claims: int = 0
    secondary_claims: int = 0
    held_now: int = 0
    held_reasons: Counter[str] = field(default_factory=Counter)
    clean_claim_rate: float = 0.0
    first_pass_acceptance: float = 0.0
    claims_with_remit: int = 0
    denial_rate: float = 0.0
    denial_rate_by_payer: dict[str, float] = field(default_factory=dict)
    denials_by_carc: Counter[str] = field(default_factory=Counter)
    denials_by_modifier: Counter[str] = field(default_factory=Counter)
    denials_automatic: int = 0
    denials_queued: int = 0
    denials_no_action: int = 0
    denials_resolved: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    charges: Decimal = ZERO
    expected: Decimal = ZERO
    collected: Decimal = ZERO
    contractual: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    underpaid: Decimal = ZERO
    ar_aging: dict[str, Decimal] = field(default_factory=dict)
    auth_alerts: Counter[str] = field(default_factory=Counter)
    auth_consumed: int = 0
    eligibility: Counter[str] = field(default_factory=Counter)
    unmatched_remits: int = 0
    status: Counter[str] = field(default_factory=Counter)


def build_report(ledger: CycleLedger, *, today: date | None = None) -> CycleReport:
    today = today or date.today()
    r = CycleReport(sessions=len(ledger.sessions))
    originals = ledger.originals()
    r.claims = len(originals)
    r.sessions_claimed = len(ledger.claimed_sessions())
    r.not_billed = Counter(str(e.reason) for e in ledger.not_billed.values())
    r.corrected_claims = sum(1 for c in ledger.claims.values() if c.frequency in ("7", "8"))
    r.secondary_claims = sum(1 for c in ledger.claims.values() if c.responsibility != "primary")
    r.status = Counter(c.status for c in ledger.claims.values())
    held = [c for c in ledger.claims.values() if c.status == "held"]
    r.held_now = len(held)
    r.held_reasons = Counter(reason for c in held for reason in c.held_reasons)
    r.clean_claim_rate = _pct(sum(1 for c in originals if not c.ever_held), len(originals))
    acked = [c for c in originals if c.acks]
    r.first_pass_acceptance = _pct(sum(1 for c in acked if c.acks[0][1] == "accepted"), len(acked))

    with_remit = [c for c in ledger.claims.values() if c.remits]
    r.claims_with_remit = len(with_remit)
    denied = [c for c in with_remit if c.denials]
    r.denial_rate = _pct(len(denied), len(with_remit))
    by_payer: dict[str, list[int]] = {}
    for c in with_remit:
        tally = by_payer.setdefault(c.payer_id, [0, 0])
        tally[0] += 1
        tally[1] += bool(c.denials)
    r.denial_rate_by_payer = {p: _pct(d, n) for p, (n, d) in sorted(by_payer.items())}
    for d in ledger.denials.values():
        for reason in d.reasons:
            r.denials_by_carc[f"{reason.group}-{reason.carc}"] += 1
        claim = ledger.claims.get(d.claim_id)
        if claim is not None:
            keys = {reason.line_key for reason in d.reasons if reason.line_key}
            lines = [line for line in claim.lines if not keys or line.line_key in keys]
            for line in lines:
                r.denials_by_modifier[",".join(line.modifiers) or "none"] += 1
        action = str(d.action)
        if action in AUTOMATIC:
            r.denials_automatic += 1
        elif action == "post_only":
            r.denials_no_action += 1
        else:
            r.denials_queued += 1
    r.denials_resolved = len(ledger.resolved)
    r.requests = Counter(ledger.requests)

    aging = {"0-30": ZERO, "31-60": ZERO, "61-90": ZERO, "90+": ZERO}
    for c in ledger.claims.values():
        r.charges += c.charge if c.frequency == "1" and c.responsibility == "primary" else ZERO
        r.collected += c.paid
        r.contractual += c.contractual
        r.patient_responsibility += c.patient_responsibility
        if c.remits and c.responsibility == "primary":
            r.expected += ledger.expected(c)
            r.underpaid += ledger.underpaid(c)
        if c.status not in FINAL and c.service_date is not None:
            # the insurance balance the last posting left (what the patient owes and what went on
            # to a next payer or another adjustment is not open); never posted: the whole charge
            open_amount = c.postings[-1].claim_balance if c.postings else c.charge
            age = (today - c.service_date).days
            bucket = "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else "90+"
            aging[bucket] += max(open_amount, ZERO)
    r.ar_aging = aging
    r.auth_alerts = Counter(ledger.auth_alerts)
    r.auth_consumed = ledger.auth_consumed
    r.eligibility = Counter(ledger.eligibility)
    r.unmatched_remits = len(ledger.unmatched)
    return r


def _rows(counter: Counter[str] | dict[str, float], limit: int = 10) -> list[tuple[str, float]]:
    items = counter.most_common(limit) if isinstance(counter, Counter) else list(counter.items())[:limit]
    return [(str(k), float(v)) for k, v in items]


def render_text(r: CycleReport) -> str:
    lines = [
        "Revenue-cycle report",
        f"  sessions {r.sessions}, on claims {r.sessions_claimed}, not billable {sum(r.not_billed.values())}"
        + (f" ({', '.join(f'{k} {v}' for k, v in r.not_billed.most_common())})" if r.not_billed else "")
        + f"; claims {r.claims} "
        f"(+{r.corrected_claims} corrected/void, +{r.secondary_claims} secondary)",
        f"  clean-claim rate {r.clean_claim_rate}%   first-pass acceptance {r.first_pass_acceptance}%",
        f"  denial rate {r.denial_rate}% of {r.claims_with_remit} adjudicated claims; "
        f"denials fixed automatically {r.denials_automatic}, queued for a person {r.denials_queued}, "
        f"informational {r.denials_no_action}, "
        f"resolved {r.denials_resolved}",
        f"  charges ${r.charges:,.2f}  expected ${r.expected:,.2f}  collected ${r.collected:,.2f}  "
        f"contractual ${r.contractual:,.2f}  patient responsibility ${r.patient_responsibility:,.2f}  "
        f"underpaid ${r.underpaid:,.2f}",
        "  A/R aging: " + ", ".join(f"{k} ${v:,.2f}" for k, v in r.ar_aging.items()),
        "  held now: " + (", ".join(f"{k} {v}" for k, v in r.held_reasons.most_common(6)) or "none"),
        "  denial rate by payer: " + ", ".join(f"{k} {v}%" for k, v in r.denial_rate_by_payer.items()),
        "  denials by CARC: "
        + (", ".join(f"{k} {v}" for k, v in r.denials_by_carc.most_common(8)) or "none"),
        "  denials by modifier: "
        + (", ".join(f"{k} {v}" for k, v in r.denials_by_modifier.most_common(6)) or "none"),
        "  automatic requests: " + (", ".join(f"{k} {v}" for k, v in sorted(r.requests.items())) or "none"),
        f"  eligibility checks: {dict(r.eligibility)}; authorizations consumed {r.auth_consumed}; "
        f"alerts {dict(r.auth_alerts)}; unmatched remits {r.unmatched_remits}",
        "  claim states: " + ", ".join(f"{k} {v}" for k, v in sorted(r.status.items())),
    ]
    return "\n".join(lines)


def _bars(title: str, rows: list[tuple[str, float]], unit: str = "") -> str:
    if not rows:
        return f"<h3>{html.escape(title)}</h3><p>none</p>"
    top = max(v for _, v in rows) or 1.0
    height = 22 * len(rows) + 10
    parts = [f'<h3>{html.escape(title)}</h3><svg width="640" height="{height}" role="img">']
    for i, (label, value) in enumerate(rows):
        y = 5 + 22 * i
        width = int(380 * value / top)
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="170" y="{y}" width="{width}" height="16" fill="#4a7bb7"></rect>'
            f'<text x="{176 + width}" y="{y + 13}" font-size="12">{value:g}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(r: CycleReport) -> str:
    kpis = [
        ("Sessions", r.sessions),
        ("Not billable", sum(r.not_billed.values())),
        ("Claims", r.claims),
        ("Clean-claim rate", f"{r.clean_claim_rate}%"),
        ("First-pass acceptance", f"{r.first_pass_acceptance}%"),
        ("Denial rate", f"{r.denial_rate}%"),
        ("Fixed automatically", r.denials_automatic),
        ("Queued for a person", r.denials_queued),
        ("Charges", f"${r.charges:,.2f}"),
        ("Expected (contract)", f"${r.expected:,.2f}"),
        ("Collected (payers)", f"${r.collected:,.2f}"),
        ("Patient responsibility", f"${r.patient_responsibility:,.2f}"),
        ("Underpaid", f"${r.underpaid:,.2f}"),
    ]
    cards = "".join(
        f'<div class="kpi"><div class="v">{html.escape(str(v))}</div><div class="k">{html.escape(k)}</div></div>'
        for k, v in kpis
    )
    charts = "".join(
        [
            _bars("Denial rate by payer", _rows(r.denial_rate_by_payer), "%"),
            _bars("Denials by CARC", _rows(r.denials_by_carc)),
            _bars("Denials by modifier", _rows(r.denials_by_modifier)),
            _bars("Claims held now, by reason", _rows(r.held_reasons)),
            _bars("A/R aging (open insurance balance, $)", [(k, float(v)) for k, v in r.ar_aging.items()]),
            _bars("Automatic requests", _rows(r.requests)),
            _bars("Authorization alerts", _rows(r.auth_alerts)),
            _bars("Claim states", _rows(r.status)),
        ]
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Revenue-cycle report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
        ".kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{border:1px solid #ddd;border-radius:6px;padding:10px 14px;"
        "min-width:150px}.v{font-size:22px;font-weight:600}.k{color:#666;font-size:12px}"
        "h3{margin-top:28px}</style></head><body><h1>Revenue-cycle report</h1>"
        f"<div class='kpis'>{cards}</div>{charts}<pre>{html.escape(render_text(r))}</pre></body></html>"
    )


def render_json(r: CycleReport) -> str:
    """The report's figures as JSON (money as strings, to the cent)."""
    import json
    from dataclasses import fields

    def plain(value: object) -> object:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return value

    return json.dumps({f.name: plain(getattr(r, f.name)) for f in fields(r)}, indent=2)
