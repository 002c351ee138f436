"""The revenue-cycle report of a demo run: figures from the ledger, as text and as an HTML page."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rcm.demo.ledger import AUTOMATIC_RELEASERS, SETTLED, ZERO, ClaimView, CycleLedger
from rcm.events import models as m

__all__ = ["CycleReport", "build_report", "render_html", "render_json", "render_text"]

# what the denials service does without a person, by what it does for the money:
CORRECTIVE = {"resubmit_original", "resubmit_replacement", "bill_secondary"}
"""Actions that correct and resubmit or rebill the claim: the only ones counted as fixed automatically
(unless the claims service refuses the correction, which sends the denial to a person)."""
OTHER_AUTOMATIC = {"void", "reverify_eligibility"}
"""Automatic actions that fix nothing by themselves (a void, a new eligibility check)."""
NOT_A_DENIAL = {"CO-45", "PR-1", "PR-2", "PR-3"}
"""Contractual reduction and cost share: never the reason a claim or line was denied."""
AGE_BUCKETS = ((30, "0-30"), (60, "31-60"), (90, "61-90"), (120, "91-120"), (None, "120+"))
"""A/R buckets, by days since the claim's first submission (as the claims service ages A/R)."""
NOT_OWED_ACTIONS = {"post_only", "write_off", "transfer_to_patient", "bill_secondary", "void"}
"""Denial actions after which the denying payer is not pursued for the balance."""

DEFINITIONS: dict[str, str] = {
    "claims": "encounter chains: an original primary claim and every claim that replaced it (replacement, "
    "void, correction sent as a new original) count once, per session and payer; charges are the "
    "chain's first claim's",
    "clean-claim rate": "original primary claims that passed every edit without a manual intervention "
    "(never held, or held only waiting for the eligibility answer and released by the claims service) "
    "/ original primary claims scrubbed (claims not scrubbed yet, or still waiting for the eligibility "
    "answer, are left out)",
    "first-pass acceptance": "claims whose first submission was accepted by the 999 (accepted or accepted "
    "with errors) and by the 277CA (or adjudicated without a rejection) / claims whose first submission "
    "has a front-end verdict; a 277CA rejection after a 999 acceptance is not accepted",
    "initial denial rate": "primary encounter chains whose first adjudication (first remit, reversals left "
    "out) denied the claim or any line / primary chains adjudicated; by dollars: denied $ on those first "
    "adjudications / charges of those first adjudications; clearinghouse and 277CA rejections are not "
    "denials (counted as rejections)",
    "final denial write-off": "denial-prompted write-offs requested / charges adjudicated",
    "fixed automatically": "denials the denials service corrected and resubmitted or rebilled (replacement, "
    "new original, secondary billing) without a refusal by the claims service; write-offs, transfers "
    "to the patient, voids and eligibility re-checks are shown on their own lines",
    "denials by CARC": "each denied line's deciding reason (CO-45 and PR-1/2/3 are never the deciding "
    "reason; a CLP02 4 denial with none other is 'none given'), rejections left out",
    "denials by modifier": "denied lines billed with the modifier / adjudicated lines billed with it; "
    "claim-level denials are counted apart, not charged to each line",
    "expected": "the contract's allowed amount (rate for the code and modifiers when the schedule carries "
    "them, else for the code) for each adjudicated primary encounter chain, once (its latest claim)",
    "primary allowed": "what the primary payers paid plus the patient responsibility they assigned, on the "
    "standing adjudications: the figure to compare with expected",
    "collected": "every payer's payments posted (primary and later payers)",
    "underpaid": "contract rate less the allowed amount, per line of the standing adjudications (a "
    "reversed remit and its reversal left out), where the payer paid less than the contract",
    "A/R": "open insurance balance of claims submitted and not settled (paid, replaced, voided, written "
    "off, closed), denied or partially paid claims included while the denial is still pursued (a person "
    "or an appeal); balance = what the last posting left, a never-remitted claim's charge, for a "
    "never-remitted secondary claim what the prior payer left to the patient; aged from the first "
    "submission (0-30, 31-60, 61-90, 91-120, 120+ days)",
    "unbilled": "claims never submitted (held, ready, created) and not voided or replaced: charges, not A/R",
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
    claims_scrubbed: int = 0
    first_pass_acceptance: float = 0.0
    claims_acknowledged: int = 0
    claims_with_remit: int = 0
    """Primary encounter chains adjudicated (the denial rate's denominator)."""
    denial_rate: float = 0.0
    """Initial denial rate by count (%)."""
    denial_rate_dollars: float = 0.0
    denied_initial: Decimal = ZERO
    charges_adjudicated: Decimal = ZERO
    rejections: int = 0
    """Claims rejected by a clearinghouse or payer front end (999/277CA/TA1): not denials."""
    denial_write_off: Decimal = ZERO
    denial_write_off_rate: float = 0.0
    denial_rate_by_payer: dict[str, float] = field(default_factory=dict)
    denials_by_carc: Counter[str] = field(default_factory=Counter)
    denials_by_modifier: Counter[str] = field(default_factory=Counter)
    lines_by_modifier: Counter[str] = field(default_factory=Counter)
    denial_rate_by_modifier: dict[str, float] = field(default_factory=dict)
    denials_claim_level: int = 0
    denials_automatic: int = 0
    """Denials corrected and resubmitted or rebilled automatically, not refused later."""
    denials_written_off: int = 0
    denials_to_patient: int = 0
    denials_other_automatic: int = 0
    denials_refused: int = 0
    denials_queued: int = 0
    denials_no_action: int = 0
    denials_resolved: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    charges: Decimal = ZERO
    expected: Decimal = ZERO
    primary_allowed: Decimal = ZERO
    collected: Decimal = ZERO
    contractual: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    underpaid: Decimal = ZERO
    ar_aging: dict[str, Decimal] = field(default_factory=dict)
    unbilled: Decimal = ZERO
    unbilled_claims: int = 0
    auth_alerts: Counter[str] = field(default_factory=Counter)
    auth_consumed: int = 0
    eligibility: Counter[str] = field(default_factory=Counter)
    unmatched_remits: int = 0
    status: Counter[str] = field(default_factory=Counter)


def _clean(claim: ClaimView) -> bool | None:
    """Whether the claim passed its edits without a manual intervention; none while it waits."""
    if not claim.ever_held:
        return True
    automatic = bool(claim.released_by) and all(r in AUTOMATIC_RELEASERS for r in claim.released_by)
    if claim.held_codes <= {"eligibility_unknown"}:
        if claim.status == "held" and not claim.submissions:
            return None  # still waiting for the 271
        return automatic or (claim.submissions > 0 and not claim.released_by)
    return False


def _scrubbed(claim: ClaimView) -> bool:
    return (
        claim.ever_held
        or claim.submissions > 0
        or claim.status != "created"
        or bool(claim.acks or claim.remits)
    )


def _first_pass(claim: ClaimView) -> bool | None:
    """Whether the claim's first submission was accepted by the 999 and the 277CA; none before a verdict."""
    first = [ack for ack, round_ in zip(claim.acks, claim.ack_rounds, strict=True) if round_ == 1]
    if any(status == "rejected" and source in ("999", "277CA", "TA1") for source, status in first):
        return False
    if any(source == "277CA" and status in ("accepted", "accepted_with_errors") for source, status in first):
        return True
    if claim.adjudications and claim.submissions <= 1:
        return True  # adjudicated without a front-end rejection: the payer accepted it
    return None


def _remit_denials(ledger: CycleLedger) -> dict[str, list[m.DenialOpened]]:
    by_remit: dict[str, list[m.DenialOpened]] = {}
    for d in ledger.denials.values():
        if str(d.source) == "remit" and d.remit_id and str(d.action) != "post_only":
            by_remit.setdefault(d.remit_id, []).append(d)
    return by_remit


def build_report(ledger: CycleLedger, *, today: date | None = None) -> CycleReport:
    today = today or date.today()
    r = CycleReport(sessions=len(ledger.sessions))
    chains = ledger.chains("primary")
    roots = [ledger.claims[root] for root in chains if root in ledger.claims]
    r.claims = sum(1 for c in roots if c.frequency == "1")
    r.sessions_claimed = len(ledger.claimed_sessions())
    r.not_billed = Counter(str(e.reason) for e in ledger.not_billed.values())
    r.corrected_claims = sum(
        1
        for c in ledger.claims.values()
        if c.frequency in ("7", "8") or (c.frequency == "1" and c.replaces_claim_id)
    )
    r.secondary_claims = sum(1 for c in ledger.claims.values() if c.responsibility != "primary")
    r.status = Counter(c.status for c in ledger.claims.values())
    held = [c for c in ledger.claims.values() if c.status == "held"]
    r.held_now = len(held)
    r.held_reasons = Counter(reason for c in held for reason in c.held_reasons)

    originals = [c for c in ledger.originals() if c.replaces_claim_id is None]
    verdicts = [v for v in (_clean(c) for c in originals if _scrubbed(c)) if v is not None]
    r.claims_scrubbed = len(verdicts)
    r.clean_claim_rate = _pct(sum(verdicts), len(verdicts))
    passes = [v for v in (_first_pass(c) for c in ledger.claims.values()) if v is not None]
    r.claims_acknowledged = len(passes)
    r.first_pass_acceptance = _pct(sum(passes), len(passes))
    r.rejections = sum(
        1 for c in ledger.claims.values() if any(s == "rejected" and src != "277" for src, s in c.acks)
    )

    # ------------------------------------------------------------ initial denial rate, per chain
    by_remit = _remit_denials(ledger)
    by_payer: dict[str, list[int]] = {}
    for chain in chains.values():
        adjudications = [remit for c in chain for remit in c.adjudications]
        if not adjudications:
            continue
        first = min(adjudications, key=lambda remit: remit.received_at)
        denials = by_remit.get(first.remit_id, [])
        denied = str(first.status) == "4" or bool(denials)
        amount = sum((d.amount for d in denials), ZERO) if denials else (first.charge if denied else ZERO)
        r.claims_with_remit += 1
        r.charges_adjudicated += first.charge
        r.denial_rate += denied
        r.denied_initial += min(amount, first.charge)
        tally = by_payer.setdefault(chain[0].payer_id, [0, 0])
        tally[0] += 1
        tally[1] += denied
    r.denial_rate = _pct(r.denial_rate, r.claims_with_remit)
    r.denial_rate_dollars = _pct(float(r.denied_initial), float(r.charges_adjudicated))
    r.denial_rate_by_payer = {p: _pct(d, n) for p, (n, d) in sorted(by_payer.items())}
    r.denial_write_off = sum((w.amount for w in ledger.write_offs if w.denial_id), ZERO)
    r.denial_write_off_rate = _pct(float(r.denial_write_off), float(r.charges_adjudicated))

    # ------------------------------------------------------------ denials: reasons, lines, actions
    refused_denials = {e.denial_id for e in ledger.refused if e.denial_id}
    refused_claims = {e.claim_id for e in ledger.refused if not e.denial_id}
    denied_lines: dict[str, set[tuple[str, str]]] = {}
    for d in ledger.denials.values():
        action = str(d.action)
        is_denial = str(d.source) == "remit" and action != "post_only"
        if is_denial:
            deciding = {(reason.line_key or "", f"{reason.group}-{reason.carc}") for reason in d.reasons}
            deciding = {(key, code) for key, code in deciding if code not in NOT_A_DENIAL}
            for _, code in deciding:
                r.denials_by_carc[code] += 1
            if not deciding:
                r.denials_by_carc["none given (CLP02 4)" if d.reasons else "none given"] += 1
            keys = {reason.line_key for reason in d.reasons if reason.line_key}
            if keys:
                denied_lines.setdefault(d.claim_id, set()).update((key, "") for key in keys)
            else:
                r.denials_claim_level += 1
        if action in CORRECTIVE:
            if d.denial_id in refused_denials or d.claim_id in refused_claims:
                r.denials_refused += 1
                r.denials_queued += 1
            else:
                r.denials_automatic += 1
        elif action == "write_off":
            r.denials_written_off += 1
        elif action == "transfer_to_patient":
            r.denials_to_patient += 1
        elif action in OTHER_AUTOMATIC:
            r.denials_other_automatic += 1
        elif action == "post_only":
            r.denials_no_action += 1
        else:
            r.denials_queued += 1
    for c in ledger.claims.values():
        if not c.adjudications:
            continue
        keys = {key for key, _ in denied_lines.get(c.claim_id, set())}
        for line in c.lines:
            label = ",".join(line.modifiers) or "none"
            r.lines_by_modifier[label] += 1
            if line.line_key in keys:
                r.denials_by_modifier[label] += 1
    r.denial_rate_by_modifier = {
        k: _pct(r.denials_by_modifier[k], n) for k, n in sorted(r.lines_by_modifier.items())
    }
    r.denials_resolved = len(ledger.resolved)
    r.requests = Counter(ledger.requests)

    # ------------------------------------------------------------ money, once per chain
    for root, chain in chains.items():
        if root in ledger.claims and ledger.claims[root].frequency == "1":
            r.charges += ledger.claims[root].charge
        adjudicated = [c for c in chain if c.standing_remits and c.frequency != "8"]
        if adjudicated:
            r.expected += ledger.expected(adjudicated[-1])
        for c in chain:
            r.underpaid += ledger.underpaid(c)
            r.primary_allowed += sum((rm.paid + rm.patient_responsibility for rm in c.standing_remits), ZERO)
    aging = {label: ZERO for _, label in AGE_BUCKETS}
    for c in ledger.claims.values():
        r.collected += c.paid
        r.contractual += c.contractual
        r.patient_responsibility += c.patient_responsibility
        if c.frequency == "8" or c.status in SETTLED:
            continue
        if c.first_submitted is None and not c.submissions:
            r.unbilled += c.charge
            r.unbilled_claims += 1
            continue
        open_amount = _open_balance(ledger, c)
        if open_amount is None or c.first_submitted is None:
            continue
        age = (today - c.first_submitted).days
        label = next(label for bound, label in AGE_BUCKETS if bound is None or age <= bound)
        aging[label] += max(open_amount, ZERO)
    r.ar_aging = aging
    r.auth_alerts = Counter(ledger.auth_alerts)
    r.auth_consumed = ledger.auth_consumed
    r.eligibility = Counter(ledger.eligibility)
    r.unmatched_remits = len(ledger.unmatched)
    return r


def _open_balance(ledger: CycleLedger, c: ClaimView) -> Decimal | None:
    """The insurance balance the payer still owes on a submitted, unsettled claim; none when it is
    not receivable (a denial no longer pursued with the payer)."""
    if c.status in ("denied", "partially_paid") or c.denials:
        open_denials = [d for d in c.denials if d.denial_id not in ledger.resolved]
        if c.status in ("denied", "partially_paid") and not any(
            str(d.action) not in NOT_OWED_ACTIONS for d in open_denials
        ):
            return None
    if c.postings:
        # what the last posting left: the patient's share and what went on to a next payer are not open
        return c.postings[-1].claim_balance
    if c.responsibility != "primary" and (prior := ledger.prior_claim(c)) is not None and prior.postings:
        return min(c.charge, prior.gross_patient_responsibility)
    return c.charge


def _rows(counter: Counter[str] | dict[str, float], limit: int = 10) -> list[tuple[str, float]]:
    items = counter.most_common(limit) if isinstance(counter, Counter) else list(counter.items())[:limit]
    return [(str(k), float(v)) for k, v in items]


def _money(counter: dict[str, Decimal]) -> str:
    return ", ".join(f"{k} ${v:,.2f}" for k, v in counter.items())


def render_text(r: CycleReport) -> str:
    lines = [
        "Revenue-cycle report",
        f"  sessions {r.sessions}, on claims {r.sessions_claimed}, not billable {sum(r.not_billed.values())}"
        + (f" ({', '.join(f'{k} {v}' for k, v in r.not_billed.most_common())})" if r.not_billed else "")
        + f"; claims {r.claims} "
        f"(+{r.corrected_claims} corrected/void, +{r.secondary_claims} secondary)",
        f"  clean-claim rate {r.clean_claim_rate}% of {r.claims_scrubbed} scrubbed   "
        f"first-pass acceptance {r.first_pass_acceptance}% of {r.claims_acknowledged}   "
        f"front-end rejections {r.rejections}",
        f"  initial denial rate {r.denial_rate}% of {r.claims_with_remit} adjudicated encounters, "
        f"{r.denial_rate_dollars}% by dollars (${r.denied_initial:,.2f} of ${r.charges_adjudicated:,.2f}); "
        f"final denial write-off ${r.denial_write_off:,.2f} ({r.denial_write_off_rate}%)",
        f"  denials fixed automatically {r.denials_automatic}, written off {r.denials_written_off}, "
        f"moved to the patient {r.denials_to_patient}, other automatic {r.denials_other_automatic}, "
        f"queued for a person {r.denials_queued} (of which corrections refused {r.denials_refused}), "
        f"informational {r.denials_no_action}, resolved {r.denials_resolved}",
        f"  charges ${r.charges:,.2f}  expected ${r.expected:,.2f}  primary allowed ${r.primary_allowed:,.2f}  "
        f"collected ${r.collected:,.2f}  contractual ${r.contractual:,.2f}  "
        f"patient responsibility ${r.patient_responsibility:,.2f}  underpaid ${r.underpaid:,.2f}",
        "  A/R aging (days since first submission): "
        + _money(r.ar_aging)
        + f"; unbilled ${r.unbilled:,.2f} ({r.unbilled_claims} claims)",
        "  held now: " + (", ".join(f"{k} {v}" for k, v in r.held_reasons.most_common(6)) or "none"),
        "  denial rate by payer: " + ", ".join(f"{k} {v}%" for k, v in r.denial_rate_by_payer.items()),
        "  denials by CARC: "
        + (", ".join(f"{k} {v}" for k, v in r.denials_by_carc.most_common(8)) or "none"),
        "  denials by modifier (denied lines / lines billed): "
        + (
            ", ".join(
                f"{k} {r.denials_by_modifier[k]}/{n} ({r.denial_rate_by_modifier.get(k, 0.0)}%)"
                for k, n in r.lines_by_modifier.most_common(6)
            )
            or "none"
        )
        + f"; claim-level denials {r.denials_claim_level}",
        "  automatic requests: " + (", ".join(f"{k} {v}" for k, v in sorted(r.requests.items())) or "none"),
        f"  eligibility checks: {dict(r.eligibility)}; authorizations consumed {r.auth_consumed}; "
        f"alerts {dict(r.auth_alerts)}; unmatched remits {r.unmatched_remits}",
        "  claim states: " + ", ".join(f"{k} {v}" for k, v in sorted(r.status.items())),
        "Definitions (HFMA MAP Keys where one exists)",
        *(f"  {name}: {text}" for name, text in DEFINITIONS.items()),
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
        ("Initial denial rate", f"{r.denial_rate}%"),
        ("Initial denial rate ($)", f"{r.denial_rate_dollars}%"),
        ("Front-end rejections", r.rejections),
        ("Fixed automatically", r.denials_automatic),
        ("Denials written off", r.denials_written_off),
        ("Denials moved to the patient", r.denials_to_patient),
        ("Queued for a person", r.denials_queued),
        ("Charges", f"${r.charges:,.2f}"),
        ("Unbilled", f"${r.unbilled:,.2f}"),
        ("Expected (contract allowed)", f"${r.expected:,.2f}"),
        ("Primary allowed (paid + patient)", f"${r.primary_allowed:,.2f}"),
        ("Collected (payers)", f"${r.collected:,.2f}"),
        ("Patient responsibility", f"${r.patient_responsibility:,.2f}"),
        ("Underpaid", f"${r.underpaid:,.2f}"),
    ]
    cards = "".join(
        f'<div class="kpi"><div class="v">{html.escape(str(v))}</div><div class="k">{html.escape(k)}</div></div>'
        for k, v in kpis
    )
    definitions = (
        "<h3>Definitions</h3><dl>"
        + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in DEFINITIONS.items())
        + "</dl>"
    )
    charts = "".join(
        [
            _bars("Denial rate by payer", _rows(r.denial_rate_by_payer), "%"),
            _bars("Denials by CARC", _rows(r.denials_by_carc)),
            _bars(
                "Denial rate by modifier (denied lines / lines billed)", _rows(r.denial_rate_by_modifier), "%"
            ),
            _bars("Claims held now, by reason", _rows(r.held_reasons)),
            _bars(
                "A/R aging (open insurance balance by days since first submission, $)",
                [(k, float(v)) for k, v in r.ar_aging.items()],
            ),
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
        f"<div class='kpis'>{cards}</div>{charts}{definitions}<pre>{html.escape(render_text(r))}</pre></body></html>"
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
