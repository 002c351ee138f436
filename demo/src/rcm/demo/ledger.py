"""What the demo sees of the cycle: every event the services publish, folded into one ledger.

The demo watches the topics the way a customer's dashboard would (it never reads a
service's database), and the report and the end-to-end invariants are computed
from this ledger.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rcm.events import models as m

__all__ = ["ClaimView", "CycleLedger"]

ZERO = Decimal("0.00")
FINAL = {"paid", "partially_paid", "denied", "voided", "written_off", "closed", "replaced"}
"""States after which the claim waits on nothing automatic (``settled``). Not the A/R test: a denied
or partially paid claim whose balance is still owed (an appeal, a person's fix) stays in A/R."""
SETTLED = {"paid", "voided", "written_off", "closed", "replaced"}
"""States in which the payer owes nothing more on the claim (a replaced claim's balance is carried
by its replacement), as the claims service's A/R aging treats them."""
REVERSAL = "22"
"""CLP02 of a reversal of an earlier adjudication (it cancels it, it adjudicates nothing)."""
AUTOMATIC_RELEASERS = {"claims"}
"""``released_by`` values that are a service, not a person."""


@dataclass
class ClaimView:
    """One claim as its events describe it."""

    claim_id: str
    patient_id: str
    organization_id: str
    payer_id: str
    responsibility: str
    frequency: str
    charge: Decimal
    service_date: date | None
    session_ids: set[str]
    lines: list[m.ClaimLine]
    replaces_claim_id: str | None = None
    payer_claim_number: str | None = None  # REF*F8 of a replacement or void
    authorization_number: str | None = None  # REF*G1
    status: str = "created"
    held_reasons: list[str] = field(default_factory=list)
    ever_held: bool = False
    submissions: int = 0
    acks: list[tuple[str, str]] = field(default_factory=list)  # (source, status)
    ack_rounds: list[int] = field(default_factory=list)
    """For each of ``acks``, the submission it answered (1 = the first)."""
    first_submitted: date | None = None
    """The day of the claim's first 837 submission (A/R ages from it)."""
    held_codes: set[str] = field(default_factory=set)
    """Every hold reason before the first submission."""
    released_by: list[str] = field(default_factory=list)
    remits: list[m.RemitReceived] = field(default_factory=list)
    postings: list[m.PaymentPosted] = field(default_factory=list)
    denials: list[m.DenialOpened] = field(default_factory=list)
    billed_to_next_payer: Decimal = ZERO
    """Patient share the remittance service moved off the patient when the next payer was billed."""

    @property
    def standing_remits(self) -> list[m.RemitReceived]:
        """The adjudications that stand: a reversal (CLP02 22) cancels the latest earlier one it
        follows and is itself no adjudication."""
        standing: list[m.RemitReceived] = []
        for remit in self.remits:
            if str(remit.status) == REVERSAL:
                if standing:
                    standing.pop()
            else:
                standing.append(remit)
        return standing

    @property
    def adjudications(self) -> list[m.RemitReceived]:
        """Every remit that adjudicated the claim (reversals left out), in the order received."""
        return [r for r in self.remits if str(r.status) != REVERSAL]

    @property
    def gross_patient_responsibility(self) -> Decimal:
        """The patient share the claim's postings left (before any of it went on to a next payer)."""
        return sum((p.patient_responsibility for p in self.postings), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((p.paid for p in self.postings), ZERO)

    @property
    def contractual(self) -> Decimal:
        return sum((p.contractual_adjustment for p in self.postings), ZERO)

    @property
    def patient_responsibility(self) -> Decimal:
        """What the patient owes on this claim: its postings' patient share, less what went on to
        the next payer (whose own claim carries what that payer leaves the patient)."""
        return sum((p.patient_responsibility for p in self.postings), ZERO) - self.billed_to_next_payer


@dataclass
class CycleLedger:
    """Folds the services' events; ``apply`` is idempotent per event id."""

    sessions: dict[str, m.SessionCompleted] = field(default_factory=dict)
    not_billed: dict[str, m.SessionNotBilled] = field(default_factory=dict)
    contracts: dict[tuple[str, str], dict[tuple[str, tuple[str, ...]], Decimal]] = field(default_factory=dict)
    """Per (organization, payer): the contract rate per unit by (code, sorted modifiers)."""
    claims: dict[str, ClaimView] = field(default_factory=dict)
    eligibility: Counter[str] = field(default_factory=Counter)
    coverage_changes: Counter[str] = field(default_factory=Counter)
    auth_consumed: int = 0
    auth_alerts: Counter[str] = field(default_factory=Counter)
    denials: dict[str, m.DenialOpened] = field(default_factory=dict)
    resolved: dict[str, m.DenialResolved] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    corrections: list[m.ClaimCorrectionRequested] = field(default_factory=list)
    write_offs: list[m.ClaimWriteOffRequested] = field(default_factory=list)
    refused: list[m.ClaimCorrectionRefused] = field(default_factory=list)
    unmatched: list[m.RemitUnmatched] = field(default_factory=list)
    patient_balances: dict[str, Decimal] = field(default_factory=dict)
    event_counts: Counter[str] = field(default_factory=Counter)
    postings_by_remit: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Kafka timestamps (ms) of the moments the pipeline benchmark measures between
    session_ms: dict[str, int] = field(default_factory=dict)
    submitted_ms: dict[str, int] = field(default_factory=dict)
    #: when each claim first passed its edits (ready for a batch): submission less the cut-off
    ready_ms: dict[str, int] = field(default_factory=dict)
    remit_arrived_ms: dict[str, int] = field(default_factory=dict)
    posted_ms: dict[str, int] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)
    _early: dict[str, list[m.Event]] = field(default_factory=lambda: defaultdict(list))

    def apply(self, event_id: str, event: m.Event) -> None:
        if event_id in self._seen:
            return
        self._seen.add(event_id)
        self.event_counts[type(event).__name__] += 1
        claim_id = getattr(event, "claim_id", None)
        if claim_id is not None and claim_id not in self.claims and not isinstance(event, _CLAIM_INDEPENDENT):
            # topics interleave freely: hold events about a claim until its claim-created is read
            self._early[claim_id].append(event)
            return
        self._fold(event)
        if isinstance(event, m.ClaimCreated):
            for early in self._early.pop(event.claim_id, []):
                self._fold(early)

    def stamp(self, event: m.Event, timestamp_ms: int) -> None:
        """Remember when the benchmark's milestones happened (first occurrence wins)."""
        if isinstance(event, m.SessionCompleted):
            self.session_ms.setdefault(event.session_id, timestamp_ms)
        elif isinstance(event, m.ClaimSubmitted):
            self.submitted_ms.setdefault(event.claim_id, timestamp_ms)
        elif isinstance(event, m.ClaimStatusChanged) and event.to_status is m.ClaimStatus.READY:
            self.ready_ms.setdefault(event.claim_id, timestamp_ms)
        elif isinstance(event, m.RemitReceived):
            self.remit_arrived_ms.setdefault(event.remit_id, int(event.received_at.timestamp() * 1000))
        elif isinstance(event, m.PaymentPosted):
            self.posted_ms.setdefault(event.remit_id, timestamp_ms)

    def _fold(self, event: m.Event) -> None:
        name = _HANDLERS.get(type(event))
        if name is not None:
            getattr(self, name)(event)

    # ------------------------------------------------------------------ claims
    def _on_session_completed(self, e: m.SessionCompleted) -> None:
        self.sessions[e.session_id] = e

    def _on_session_not_billed(self, e: m.SessionNotBilled) -> None:
        self.not_billed[e.session_id] = e

    def _on_fee_schedule_updated(self, e: m.FeeScheduleUpdated) -> None:
        if e.payer_id is not None:
            rates = {(r.procedure_code, tuple(sorted(r.modifiers))): r.amount for r in e.rates}
            self.contracts[(e.organization_id, e.payer_id)] = rates

    def rate(self, claim: ClaimView, procedure_code: str, modifiers: list[str]) -> Decimal | None:
        """The contract's rate per unit for the code with these modifiers when the schedule carries
        that combination, else the code's rate without modifiers; none when the code is not on it."""
        rates = self.contracts.get((claim.organization_id, claim.payer_id), {})
        exact = rates.get((procedure_code, tuple(sorted(modifiers))))
        return exact if exact is not None else rates.get((procedure_code, ()))

    def underpaid(self, claim: ClaimView) -> Decimal:
        """How far the allowed amounts of the claim's standing adjudications (a reversed remit and
        its reversal left out) fall below the contract."""
        short = ZERO
        for remit in claim.standing_remits:
            for line in remit.lines:
                rate = self.rate(claim, line.procedure_code, list(line.modifiers))
                if rate is None or line.allowed is None or line.allowed <= 0:
                    continue
                short += max(rate * (line.units_paid or 1) - line.allowed, ZERO)
        return short

    def expected(self, claim: ClaimView) -> Decimal:
        """What the payer's contract says the claim's lines are worth (the expected allowed amount;
        zero for codes not on it)."""
        return sum(
            (
                (self.rate(claim, line.procedure_code, list(line.modifiers)) or ZERO) * line.units
                for line in claim.lines
            ),
            ZERO,
        )

    def _on_claim_created(self, e: m.ClaimCreated) -> None:
        self.claims[e.claim_id] = ClaimView(
            claim_id=e.claim_id,
            patient_id=e.patient_id,
            organization_id=e.organization_id,
            payer_id=e.payer_id,
            responsibility=str(e.payer_responsibility),
            frequency=str(e.frequency_code),
            charge=e.total_charge,
            service_date=min((line.service_date for line in e.lines), default=None),
            session_ids={line.session_id for line in e.lines},
            lines=list(e.lines),
            replaces_claim_id=e.replaces_claim_id,
            payer_claim_number=e.payer_claim_number,
            authorization_number=e.authorization_number,
        )

    def _claim(self, claim_id: str) -> ClaimView | None:
        return self.claims.get(claim_id)

    def _on_claim_held(self, e: m.ClaimHeld) -> None:
        if claim := self._claim(e.claim_id):
            claim.ever_held = claim.ever_held or claim.submissions == 0
            claim.held_reasons = [str(r.code) for r in e.reasons]
            if claim.submissions == 0:
                claim.held_codes.update(claim.held_reasons)
            claim.status = "held"

    def _on_claim_released(self, e: m.ClaimReleased) -> None:
        if claim := self._claim(e.claim_id):
            claim.held_reasons = []
            claim.released_by.append(e.released_by)

    def _on_claim_submitted(self, e: m.ClaimSubmitted) -> None:
        if claim := self._claim(e.claim_id):
            claim.submissions += 1
            day = e.submitted_at.date()
            claim.first_submitted = day if claim.first_submitted is None else min(claim.first_submitted, day)

    def _on_claim_acknowledged(self, e: m.ClaimAcknowledged) -> None:
        if claim := self._claim(e.claim_id):
            claim.acks.append((str(e.source), str(e.status)))
            claim.ack_rounds.append(max(claim.submissions, 1))

    def _on_claim_status_changed(self, e: m.ClaimStatusChanged) -> None:
        if claim := self._claim(e.claim_id):
            claim.status = str(e.to_status)
            if e.to_status is m.ClaimStatus.SUBMITTED:
                day = e.changed_at.date()
                claim.first_submitted = (
                    day if claim.first_submitted is None else min(claim.first_submitted, day)
                )

    # ------------------------------------------------------------------ money
    def _on_remit_received(self, e: m.RemitReceived) -> None:
        if claim := self._claim(e.claim_id):
            claim.remits.append(e)

    def _on_payment_posted(self, e: m.PaymentPosted) -> None:
        self.postings_by_remit[e.remit_id] += 1
        if claim := self._claim(e.claim_id):
            claim.postings.append(e)

    def _on_remit_unmatched(self, e: m.RemitUnmatched) -> None:
        self.unmatched.append(e)

    def _on_patient_balance_changed(self, e: m.PatientBalanceChanged) -> None:
        self.patient_balances[e.patient_id] = e.balance
        if e.reason is m.BalanceChangeReason.NEXT_PAYER_BILLED and (claim := self._claim(e.claim_id or "")):
            claim.billed_to_next_payer -= e.change

    # ------------------------------------------------------------------ denials, eligibility, auths
    def _on_denial_opened(self, e: m.DenialOpened) -> None:
        self.denials[e.denial_id] = e
        if claim := self._claim(e.claim_id):
            claim.denials.append(e)

    def _on_denial_resolved(self, e: m.DenialResolved) -> None:
        self.resolved[e.denial_id] = e

    def _on_claim_correction_requested(self, e: m.ClaimCorrectionRequested) -> None:
        self.requests["correction"] += 1
        self.corrections.append(e)

    def _on_claim_correction_refused(self, e: m.ClaimCorrectionRefused) -> None:
        self.refused.append(e)

    def _on_claim_void_requested(self, e: m.ClaimVoidRequested) -> None:
        self.requests["void"] += 1

    def _on_claim_write_off_requested(self, e: m.ClaimWriteOffRequested) -> None:
        self.requests["write_off"] += 1
        self.write_offs.append(e)

    def _on_secondary_claim_requested(self, e: m.SecondaryClaimRequested) -> None:
        self.requests["secondary"] += 1

    def _on_eligibility_recheck_requested(self, e: m.EligibilityRecheckRequested) -> None:
        self.requests["eligibility_recheck"] += 1

    def _on_eligibility_checked(self, e: m.EligibilityChecked) -> None:
        self.eligibility[str(e.status)] += 1

    def _on_coverage_changed(self, e: m.CoverageChanged) -> None:
        self.coverage_changes[str(e.change)] += 1

    def _on_authorization_consumed(self, e: m.AuthorizationConsumed) -> None:
        self.auth_consumed += 1

    def _on_authorization_alert(self, e: m.AuthorizationAlert) -> None:
        self.auth_alerts[str(e.kind)] += 1

    # ------------------------------------------------------------------ questions
    def originals(self) -> list[ClaimView]:
        """Claims for sessions (first-time primary claims), not corrections or secondaries."""
        return [c for c in self.claims.values() if c.frequency == "1" and c.responsibility == "primary"]

    def chain_root(self, claim_id: str) -> str:
        """The first claim of the encounter chain ``claim_id`` belongs to: replacements, voids and
        corrections sent as a new original (each names the claim it replaces) lead back to it."""
        seen = {claim_id}
        while (claim := self.claims.get(claim_id)) is not None and claim.replaces_claim_id:
            claim_id = claim.replaces_claim_id
            if claim_id in seen:
                break
            seen.add(claim_id)
        return claim_id

    def chains(self, responsibility: str = "primary") -> dict[str, list[ClaimView]]:
        """The encounter chains (an original and every claim that replaced it, in creation order)
        of the claims billed with this payer responsibility, by their first claim's id."""
        chains: dict[str, list[ClaimView]] = {}
        for claim in self.claims.values():
            if claim.responsibility == responsibility:
                chains.setdefault(self.chain_root(claim.claim_id), []).append(claim)
        return chains

    def prior_claim(self, claim: ClaimView) -> ClaimView | None:
        """For a secondary (tertiary) claim, the latest primary (secondary) claim of its sessions."""
        before = {"secondary": "primary", "tertiary": "secondary"}.get(claim.responsibility)
        found = None
        for other in self.claims.values():
            if (
                other.responsibility == before
                and other.patient_id == claim.patient_id
                and other.session_ids & claim.session_ids
                and other.frequency != "8"
            ):
                found = other
        return found

    def replacements_of(self, claim_id: str) -> list[ClaimView]:
        """The claims that replace, void or re-send ``claim_id``."""
        return [c for c in self.claims.values() if c.replaces_claim_id == claim_id]

    def claimed_sessions(self) -> Counter[str]:
        """How many original primary claims each session ended up on (a correction sent as a new
        original names the claim it replaces and is not a second claim for the session)."""
        counts: Counter[str] = Counter()
        for claim in self.originals():
            if claim.replaces_claim_id is not None:
                continue
            for session_id in claim.session_ids:
                counts[session_id] += 1
        return counts

    def settled(self) -> bool:
        """Every claim is final, held, or waiting on a person; nothing is in flight."""
        return all(
            c.status in FINAL or c.status in ("held", "rejected", "appealed") for c in self.claims.values()
        )


# events that name a claim but are counted whether or not its claim-created was seen
_CLAIM_INDEPENDENT = (m.ClaimCreated, m.EligibilityRecheckRequested)

# event type -> the method of CycleLedger that folds it
_HANDLERS: dict[type, str] = {
    m.SessionCompleted: "_on_session_completed",
    m.SessionNotBilled: "_on_session_not_billed",
    m.FeeScheduleUpdated: "_on_fee_schedule_updated",
    m.ClaimCreated: "_on_claim_created",
    m.ClaimHeld: "_on_claim_held",
    m.ClaimReleased: "_on_claim_released",
    m.ClaimSubmitted: "_on_claim_submitted",
    m.ClaimAcknowledged: "_on_claim_acknowledged",
    m.ClaimStatusChanged: "_on_claim_status_changed",
    m.RemitReceived: "_on_remit_received",
    m.PaymentPosted: "_on_payment_posted",
    m.RemitUnmatched: "_on_remit_unmatched",
    m.PatientBalanceChanged: "_on_patient_balance_changed",
    m.DenialOpened: "_on_denial_opened",
    m.DenialResolved: "_on_denial_resolved",
    m.ClaimCorrectionRequested: "_on_claim_correction_requested",
    m.ClaimCorrectionRefused: "_on_claim_correction_refused",
    m.ClaimVoidRequested: "_on_claim_void_requested",
    m.ClaimWriteOffRequested: "_on_claim_write_off_requested",
    m.SecondaryClaimRequested: "_on_secondary_claim_requested",
    m.EligibilityRecheckRequested: "_on_eligibility_recheck_requested",
    m.EligibilityChecked: "_on_eligibility_checked",
    m.CoverageChanged: "_on_coverage_changed",
    m.AuthorizationConsumed: "_on_authorization_consumed",
    m.AuthorizationAlert: "_on_authorization_alert",
}
