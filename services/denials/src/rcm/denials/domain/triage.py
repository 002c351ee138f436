"""Choosing the action for a denial: the playbook row, made concrete for this claim.

The row says what the payer's code usually calls for; this module checks what the claim
allows: whether the fix can be determined and was not tried before on the claim, whether
proof of timely filing exists, how the payer takes corrections, and when it is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from rcm.denials.domain.deadlines import (
    accepted_in_window,
    adjudicated_in_window,
    appeal_deadline,
    filing_deadline,
    timely_filing_proof,
)
from rcm.denials.domain.denial import FoundDenial, Level
from rcm.denials.domain.facts import TriageContext
from rcm.denials.domain.fixes import Change, fix_for
from rcm.denials.domain.playbook import Action, Category, Playbook
from rcm.events.models import (
    CorrectedClaimMethod,
    CorrectionMethod,
    CoveragePriority,
    PayerBillingRules,
    RecheckReason,
    TimelyFilingClock,
)

__all__ = ["AUTOMATIC", "Decision", "triage"]

AUTOMATIC = frozenset(
    {
        Action.POST_ONLY,
        Action.TRANSFER_TO_PATIENT,
        Action.BILL_SECONDARY,
        Action.RESUBMIT_ORIGINAL,
        Action.RESUBMIT_REPLACEMENT,
        Action.VOID,
        Action.WRITE_OFF,
        Action.REVERIFY_ELIGIBILITY,
    }
)
"""Actions the service carries out itself; every other action becomes a work item."""

_CLOSING = frozenset({Action.POST_ONLY, Action.TRANSFER_TO_PATIENT, Action.BILL_SECONDARY, Action.WRITE_OFF})
"""Actions that close the denial with its whole amount, with no person looking at it."""

_PATIENT = "PR"

_RESUBMISSIONS = frozenset({Action.RESUBMIT_REPLACEMENT, Action.RESUBMIT_ORIGINAL, Action.VOID})
"""The ways a correction goes out (a replacement, a new original, a void and rebill)."""

_DUPLICATE_CLAIM = frozenset({"18", "B13"})
"""CARCs saying the claim itself came before (a replacement the payer took as a new claim), unlike
M86's same or similar service paid in a time frame."""

_NO_BALANCE_BILLING = frozenset({"medicaid", "medicaid_mco"})
"""Payer types whose members may not be billed what the plan did not pay (42 CFR 447.15): a denial
the payer put on the patient goes to a person, who bills them only under a signed agreement the
state allows, else writes it off."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one denial, and why."""

    category: Category
    action: Action
    next_step: str
    why: str
    changes: tuple[Change, ...] = ()
    fix_kind: str | None = None
    """The (claim, fix kind) record this action claims, so the same fix is never requested twice."""
    correction_method: CorrectionMethod | None = None
    write_off_reason: str | None = None
    recheck_reason: RecheckReason | None = None
    appeal_deadline: date | None = None
    deadline: date | None = None
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def queued(self) -> bool:
        """True when a person must act: the denial becomes a work item."""
        return self.action not in AUTOMATIC


def _window_from_primary_remit(rules: PayerBillingRules, ctx: TriageContext) -> bool:
    """Whether the claim is a secondary (or tertiary) one whose filing clock starts at the primary remit."""
    return (
        rules.timely_filing_clock is TimelyFilingClock.PRIMARY_REMIT_DATE
        and ctx.claim is not None
        and ctx.claim.payer_responsibility is not CoveragePriority.PRIMARY
    )


def _had_it_in_time(
    ctx: TriageContext,
    rules: PayerBillingRules,
    *,
    service_date: date | None,
    adjudicated_on: date,
    evidence: dict[str, str],
) -> str | None:
    """What says the payer had the claim within its filing window although it denied it CO-29,
    with the dates in ``evidence``; None when nothing does.

    Its own acknowledgment of the denied submission dated within the window, or its adjudication
    (the remit) dated within it: a payer adjudicates only a claim it received. Either is a payer
    error or a wrong window on file, never a write-off unseen."""
    own = accepted_in_window(
        rules,
        denied_claim_id=ctx.claim.claim_id if ctx.claim else None,
        service_date=service_date,
        acceptances=ctx.acceptances,
    )
    window_end = adjudicated_in_window(rules, service_date=service_date, adjudicated_on=adjudicated_on)
    if own:
        evidence["acknowledged"] = "; ".join(
            f"{a.claim_id} accepted {a.received_on.isoformat()}" for a in own
        )
    if window_end is not None:
        evidence["adjudicated"] = f"{adjudicated_on.isoformat()} (filing window to {window_end.isoformat()})"
    if own:
        return "the payer acknowledged this submission within the filing window"
    if window_end is not None:
        return (
            f"the payer adjudicated the claim on {adjudicated_on.isoformat()}, within its filing window "
            f"(to {window_end.isoformat()}): it had the claim in time"
        )
    return None


_CLAIM_NOT_ON_FILE = (
    "the claim is not on file: its submissions, acknowledgments and filing window cannot be checked"
)


def _line_alone(denial: FoundDenial, ctx: TriageContext, playbook: Playbook, *, from_rejection: bool) -> bool:
    """Whether only this line of a claim with other lines was rejected or made unprocessable.

    A rejected line of an accepted claim, or a line whose own remark (LQ) makes it unprocessable
    while the claim (MIA/MOA) is not: the claim's other lines were taken by the payer.
    """
    if denial.level is not Level.LINE or ctx.claim is None or len(ctx.claim.lines) < 2:
        return False
    return from_rejection or not set(denial.claim_rarcs).intersection(playbook.unprocessable_rarcs)


def _fix_kind(fix: str, denial: FoundDenial) -> str:
    return f"{fix}:{denial.line_key or denial.procedure_code or 'claim'}"


def _deadline(denial: FoundDenial, ctx: TriageContext, *, corrected: bool) -> date | None:
    service_date = denial.service_date or (ctx.claim.first_service_date if ctx.claim else None)
    if service_date is None:
        return None
    rules = ctx.payer.rules if ctx.payer else PayerBillingRules()
    return filing_deadline(rules, service_date=service_date, corrected=corrected)


def _liability_kept_apart(denial: FoundDenial, decision: Decision) -> Decision:
    """The decision, unless it would settle amounts of another liability with the deciding one.

    The patient's share (group PR) is never written off. An action that closes a denial by itself
    (post, transfer to the patient, bill the next payer) never settles with it amounts of the
    other liability that came in the same denial (PR beside CO, OA or PI): a person sees both.
    """
    if decision.action not in _CLOSING or denial.claim_status is not None:
        return decision
    patient = [r.code for r in denial.reasons if r.group == _PATIENT]
    others = [r.code for r in denial.reasons if r.group != _PATIENT]
    if decision.action is Action.WRITE_OFF and patient:
        why = f"{decision.why}; {', '.join(patient)} is the patient's share and is never written off"
    elif patient and others:
        deciding = denial.deciding
        if deciding is not None and deciding.group == _PATIENT:
            why = f"{decision.why}; {', '.join(others)} in the same denial is not the patient's to pay"
        else:
            why = f"{decision.why}; {', '.join(patient)} in the same denial is the patient's share"
    else:
        return decision
    return replace(
        decision,
        action=Action.HUMAN_REVIEW,
        why=why,
        write_off_reason=None,
        fix_kind=None,
        recheck_reason=None,
    )


def triage(
    denial: FoundDenial,
    ctx: TriageContext,
    playbook: Playbook,
    *,
    from_rejection: bool = False,
    adjudicated_on: date | None = None,
) -> Decision:
    """The action for ``denial`` given what is on file (see the module docstring)."""
    decision = _decide(denial, ctx, playbook, from_rejection=from_rejection, adjudicated_on=adjudicated_on)
    decision = _reasons_agree(denial, decision, playbook, ctx.payer.payer_id if ctx.payer else None)
    decision = _no_waiver(denial, _liability_kept_apart(denial, decision), playbook)
    return _not_balance_billed(ctx, decision)


def _no_waiver(denial: FoundDenial, decision: Decision, playbook: Playbook) -> Decision:
    """The decision, unless the line's modifier says no waiver of liability was signed (GZ: the
    provider expected a medical-necessity denial and has no ABN, CMS Pub 100-04 ch.30 s.40.3.6;
    Medicare denies such lines CO-50 without medical review, MLN MM7228) and the decision either
    bills the patient (a payer grouping it PR contradicts the claim: the patient is billed only if
    a valid waiver turns up) or appeals the necessity the provider itself did not claim. A person
    checks it: write off, or correct a GZ appended in error."""
    appeal = decision.action is Action.APPEAL and decision.category is Category.MEDICAL_NECESSITY
    if decision.action is not Action.TRANSFER_TO_PATIENT and not appeal:
        return decision
    flagged = sorted(set(denial.modifiers).intersection(playbook.no_waiver_modifiers))
    if not flagged:
        return decision
    if appeal:
        why = (
            f"{decision.why}; the line carries {', '.join(flagged)}: billed as expected to be denied, "
            "no ABN; write off, or send a corrected claim if the modifier was an error"
        )
    else:
        why = (
            f"{decision.why}; the line carries {', '.join(flagged)} (no waiver of liability signed): "
            "not billable to the patient without a valid ABN; ask the payer to regroup it CO, or write off"
        )
    return replace(decision, action=Action.HUMAN_REVIEW, why=why, appeal_deadline=None)


def _reasons_agree(
    denial: FoundDenial, decision: Decision, playbook: Playbook, payer_id: str | None
) -> Decision:
    """The decision, unless another reason of the payer's in the same denial calls for another
    action or fix (CO-4 beside CO-197, CO-18 beside CO-4): carried out, the automatic action would
    leave that reason standing, and a replacement would be denied again for it. A person sees both.
    The patient's share beside the payer's is ``_liability_kept_apart``'s."""
    if decision.action not in AUTOMATIC or denial.claim_status is not None:
        return decision
    deciding, row = denial.deciding, denial.rule  # the deciding reason's row, as found
    if deciding is None or deciding.group == _PATIENT:
        return decision
    # What the others must call for: the row's action and fix, or the action decided instead when
    # this claim's facts changed it (a CO-29 without proof written off, not appealed: a CO-50
    # beside it, appealed alone, would be written off with it). A correction sent as a new original
    # or a void and rebill is still the row's fix.
    carried_out = decision.action is row.action or {decision.action, row.action} <= _RESUBMISSIONS
    wanted = (row.action, row.fix) if carried_out else (decision.action, None)
    same_row = (row.category, row.action, row.fix, row.otherwise)
    others = []
    for reason in denial.reasons:
        if reason is deciding or reason.group == _PATIENT:
            continue
        other = playbook.rule_for(reason.group, reason.carc, denial.rarcs, payer_id)
        if other is None or (other.category, other.action, other.fix, other.otherwise) == same_row:
            continue  # the same meaning (PI-29 beside CO-29): decided the same way
        if (other.action, other.fix) != wanted:
            others.append(reason.code)
    if not others:
        return decision
    return replace(
        decision,
        action=Action.HUMAN_REVIEW,
        why=f"{decision.why}; {', '.join(others)} in the same denial calls for another fix: "
        f"{decision.action.value} alone would leave it standing",
        write_off_reason=None,
        fix_kind=None,
        recheck_reason=None,
        changes=(),
        correction_method=None,
    )


def _not_balance_billed(ctx: TriageContext, decision: Decision) -> Decision:
    """The decision, unless it bills a Medicaid member for what the plan denied (see
    ``_NO_BALANCE_BILLING``); then a person decides."""
    if decision.action is not Action.TRANSFER_TO_PATIENT or ctx.payer is None:
        return decision
    if ctx.payer.payer_type not in _NO_BALANCE_BILLING:
        return decision
    return replace(
        decision,
        action=Action.HUMAN_REVIEW,
        why=f"{decision.why}; a Medicaid member may not be balance-billed (42 CFR 447.15): bill the "
        "patient only under a signed agreement the state allows, else write off",
    )


def _decide(
    denial: FoundDenial,
    ctx: TriageContext,
    playbook: Playbook,
    *,
    from_rejection: bool,
    adjudicated_on: date | None,
) -> Decision:
    rule = denial.rule
    action = rule.action
    why = f"{denial.label}: {rule.category.value}"
    evidence: dict[str, str] = {"codes": ", ".join(r.code for r in denial.reasons) or denial.label}
    if denial.rarcs:
        evidence["rarcs"] = ", ".join(denial.rarcs)
    if denial.rejection_codes:
        evidence["rejection"] = ", ".join(denial.rejection_codes)
    if denial.claim_status:
        evidence["claim_status"] = denial.claim_status

    def make(action: Action, why: str, **extra: Any) -> Decision:
        return Decision(
            category=rule.category,
            action=action,
            next_step=rule.next_step,
            why=why,
            evidence=evidence,
            **extra,
        )

    service_date = denial.service_date or (ctx.claim.first_service_date if ctx.claim else None)
    rules = ctx.payer.rules if ctx.payer else PayerBillingRules()
    # An unprocessable claim (MA130) was never adjudicated: there is nothing on file to replace and
    # no appeal rights, so a correction goes out as a new original, like after a rejection.
    unprocessable = sorted(set(denial.rarcs).intersection(playbook.unprocessable_rarcs))
    new_original = from_rejection or bool(unprocessable)

    changes: list[Change] | None = None
    if action in (Action.RESUBMIT_REPLACEMENT, Action.RESUBMIT_ORIGINAL) and rule.fix is not None:
        line = ctx.claim.line(denial.line_key, denial.procedure_code) if ctx.claim else None
        changes = fix_for(
            rule.fix, claim=ctx.claim, line=line, payer=ctx.payer, authorizations=ctx.authorizations
        )
        if changes is None and ctx.claim is not None and rule.otherwise is Action.REVERIFY_ELIGIBILITY:
            # no change to make on this claim, but a question for the payer (MA04 on a claim billed
            # as primary: it sees another payer first): the re-check below asks it
            action = rule.otherwise
            why = f"{why}; the {rule.fix.value} fix does not apply to this claim"

    if action in (Action.RESUBMIT_REPLACEMENT, Action.RESUBMIT_ORIGINAL) and rule.fix is not None:
        kind = _fix_kind(rule.fix.value, denial)
        if changes is None:
            return make(
                action=Action.HUMAN_REVIEW
                if rule.otherwise is Action.REVERIFY_ELIGIBILITY
                else rule.otherwise,
                why=f"{why}; the {rule.fix.value} fix cannot be determined from what is on file",
                deadline=_deadline(denial, ctx, corrected=not new_original),
            )
        if kind in ctx.fixes_tried:
            return make(
                action=Action.HUMAN_REVIEW,
                why=f"{why}; the {rule.fix.value} fix was already requested for this claim",
                deadline=_deadline(denial, ctx, corrected=not new_original),
            )
        evidence["fix"] = "; ".join(f"{c.action.value} {c.value or ''}".strip() for c in changes)
        if new_original:
            before = (
                "rejected before adjudication"
                if from_rejection
                else f"unprocessable ({', '.join(unprocessable)}), never adjudicated"
            )
            if _line_alone(denial, ctx, playbook, from_rejection=from_rejection):
                # a new original repeats every line of the claim: the lines the payer took (and
                # may have paid) would come back as duplicates
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; only this line was {before}: bill it alone on a new claim, not the "
                    "claim's other lines again",
                    changes=tuple(changes),
                    deadline=_deadline(denial, ctx, corrected=False),
                )
            return make(
                action=Action.RESUBMIT_ORIGINAL,
                why=f"{why}; {before}, resubmitted as a new original",
                changes=tuple(changes),
                fix_kind=kind,
                correction_method=CorrectionMethod.NEW_ORIGINAL,
            )
        method = rules.corrected_claim_method
        if method is CorrectedClaimMethod.PAPER:
            return make(
                action=Action.HUMAN_REVIEW,
                why=f"{why}; this payer takes corrections on paper or its portal only",
                changes=tuple(changes),
                deadline=_deadline(denial, ctx, corrected=True),
            )
        if method is CorrectedClaimMethod.VOID_AND_REBILL:
            return make(
                action=Action.VOID,
                why=f"{why}; this payer wants a void (frequency 8), then a new original",
                changes=tuple(changes),
                fix_kind=kind,
                correction_method=CorrectionMethod.NEW_ORIGINAL,
            )
        return make(
            action=Action.RESUBMIT_REPLACEMENT,
            why=f"{why}; replacement claim (frequency 7, REF*F8)",
            changes=tuple(changes),
            fix_kind=kind,
            correction_method=CorrectionMethod.REPLACEMENT,
        )

    if action is Action.APPEAL and unprocessable:
        return make(
            action=Action.HUMAN_REVIEW,
            why=f"{why}; unprocessable ({', '.join(unprocessable)}): no appeal rights, correct it "
            "and submit a new claim",
            deadline=_deadline(denial, ctx, corrected=False),
        )

    no_appeal = sorted(set(denial.rarcs).intersection(playbook.no_appeal_rarcs))
    if action is Action.APPEAL and no_appeal:
        return make(
            action=Action.HUMAN_REVIEW,
            why=f"{why}; no appeal rights ({', '.join(no_appeal)}): correct the claim if the error is "
            "ours, else write off",
            deadline=_deadline(denial, ctx, corrected=True),
        )

    if action is Action.APPEAL:
        if rule.category is Category.TIMELY_FILING:
            if ctx.claim is None:
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; {_CLAIM_NOT_ON_FILE}: check it before writing off",
                    deadline=appeal_deadline(playbook, ctx.payer, adjudicated_on or ctx.today),
                )
            proof = timely_filing_proof(
                rules,
                denied_claim_id=ctx.claim.claim_id if ctx.claim else None,
                service_date=service_date,
                acceptances=ctx.acceptances,
            )
            if not proof and _window_from_primary_remit(rules, ctx):
                # the window runs from the prior payer's remit date, which is not on file here: an
                # acceptance judged against the service date alone proves nothing either way
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; this payer's filing window runs from the primary payer's remit date: "
                    "check the proof against it",
                )
            in_time = (
                None
                if proof
                else _had_it_in_time(
                    ctx,
                    rules,
                    service_date=service_date,
                    adjudicated_on=adjudicated_on or ctx.today,
                    evidence=evidence,
                )
            )
            if in_time is not None:
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; {in_time}: a payer error or a wrong window on file, check before "
                    "writing off",
                    deadline=appeal_deadline(playbook, ctx.payer, adjudicated_on or ctx.today),
                )
            if (
                not proof
                and ctx.claim is not None
                and ctx.claim.payer_responsibility is not CoveragePriority.PRIMARY
            ):
                # a later payer's claim waits for the prior payer's remit: most payers count its window
                # from that remit's date, whatever window is on file, and the remit is the proof
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; a {ctx.claim.payer_responsibility.value} claim: its window usually runs "
                    "from the prior payer's remit date; appeal with that remit before writing off",
                    deadline=appeal_deadline(playbook, ctx.payer, adjudicated_on or ctx.today),
                )
            if not proof:
                return make(
                    action=rule.otherwise,
                    why=f"{why}; no proof of timely filing: no earlier submission was accepted in time",
                    write_off_reason=f"{denial.label} without proof of timely filing",
                )
            evidence["proof"] = "; ".join(f"{a.claim_id} accepted {a.received_on.isoformat()}" for a in proof)
        due = appeal_deadline(playbook, ctx.payer, adjudicated_on or ctx.today)
        return make(
            action=Action.APPEAL,
            why=f"{why}; appeal (level 1) by {due.isoformat()}",
            appeal_deadline=due,
            deadline=due,
        )

    if (
        rule.category is Category.DUPLICATE
        and denial.deciding is not None
        and denial.deciding.carc in _DUPLICATE_CLAIM
        and ctx.claim
        and ctx.claim.claim_id != ctx.claim.root_claim_id
    ):
        # A correction of an earlier claim denied as a duplicate: the payer did not take it as the
        # replacement it was (frequency 7 with REF*F8), so the original's error still stands.
        return make(
            action=Action.HUMAN_REVIEW,
            why=f"{why}; this claim corrects {ctx.claim.root_claim_id}: the payer did not take it as "
            "a replacement; check the frequency code and REF*F8, do not send it again as is",
            deadline=_deadline(denial, ctx, corrected=True),
        )

    if action is Action.BILL_SECONDARY:
        # The payer put it on the patient (PR-204, PR-96, PR-119...): a next payer on file is billed
        # first (a Medicaid secondary's member may not be balance-billed); else the patient owes it.
        coverage = ctx.next_coverage()
        if coverage is None:
            return make(action=rule.otherwise, why=f"{why}; no other coverage on file")
        return make(action=action, why=f"{why}; the next payer ({coverage.payer_id}) is billed")

    if action is Action.WRITE_OFF:
        if rule.category is Category.TIMELY_FILING:
            # No appeal rights (CO-29 with N211), and an earlier submission proves nothing (each
            # claim is judged by its own receipt). But the payer's own acknowledgment of this very
            # submission, or its adjudication, within the window says it had the claim in time: the
            # payer's error, for a reopening, not a write-off. A claim not on file is not checked.
            if ctx.claim is None:
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; no appeal rights, but {_CLAIM_NOT_ON_FILE}: check it before writing off",
                    deadline=appeal_deadline(playbook, ctx.payer, adjudicated_on or ctx.today),
                )
            in_time = _had_it_in_time(
                ctx,
                rules,
                service_date=service_date,
                adjudicated_on=adjudicated_on or ctx.today,
                evidence=evidence,
            )
            if in_time is not None:
                return make(
                    action=Action.HUMAN_REVIEW,
                    why=f"{why}; no appeal rights, but {in_time}: ask it to reopen its error before "
                    "writing off",
                    deadline=appeal_deadline(playbook, ctx.payer, adjudicated_on or ctx.today),
                )
        reason = f"{denial.label} " + (f"({', '.join(denial.rarcs)})" if denial.rarcs else "")
        return make(action=action, why=why, write_off_reason=reason.strip())

    if action is Action.REVERIFY_ELIGIBILITY:
        kind = _fix_kind("reverify_eligibility", denial)
        if ctx.claim is None or service_date is None:
            return make(action=Action.HUMAN_REVIEW, why=f"{why}; the claim's coverage is not on file")
        if kind in ctx.fixes_tried:
            return make(
                action=Action.HUMAN_REVIEW,
                why=f"{why}; eligibility was already re-verified for this claim",
                deadline=_deadline(denial, ctx, corrected=not new_original),
            )
        reason = (
            RecheckReason.COB_DENIAL
            if rule.category is Category.COORDINATION_OF_BENEFITS
            else RecheckReason.COVERAGE_DENIAL
        )
        return make(action=action, why=why, fix_kind=kind, recheck_reason=reason)

    if action in AUTOMATIC:
        return make(action=action, why=why)

    if unprocessable:
        # the row's next step may speak of a replacement: there is nothing adjudicated to replace
        why = (
            f"{why}; unprocessable ({', '.join(unprocessable)}): once corrected, send a new claim "
            "(frequency 1), not a replacement; no appeal rights"
        )
    return make(
        action=action,
        why=why,
        deadline=_deadline(denial, ctx, corrected=not new_original),
    )
