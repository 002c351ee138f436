"""The playbook: which category and action each group/CARC (and RARC) gets, as data.

The rows live in ``rcm/denials/playbook.yaml`` (defaults from DOMAIN.md 3.2), with
per-payer overrides under ``payers:``. This module only parses and looks them up; what an
action does with a claim is decided in :mod:`rcm.denials.domain.triage`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from rcm.events.models import DenialAction, DenialCategory

__all__ = [
    "Action",
    "Category",
    "ClaimStatusRule",
    "Fix",
    "Playbook",
    "RejectionRule",
    "Rule",
    "StatusRow",
    "load_playbook",
]

Action = DenialAction
"""The fixed action vocabulary (post_only ... human_review)."""


class Category(StrEnum):
    """Root-cause family of an adjustment; the denial categories plus normal adjudication."""

    AUTHORIZATION = "authorization"
    ELIGIBILITY = "eligibility"
    COORDINATION_OF_BENEFITS = "coordination_of_benefits"
    CODING = "coding"
    MODIFIER = "modifier"
    PLACE_OF_SERVICE = "place_of_service"
    BUNDLING = "bundling"
    MEDICAL_NECESSITY = "medical_necessity"
    CREDENTIALING = "credentialing"
    TIMELY_FILING = "timely_filing"
    DUPLICATE = "duplicate"
    MISSING_INFORMATION = "missing_information"
    NON_COVERED = "non_covered"
    BENEFIT_LIMIT = "benefit_limit"
    FRONT_END_REJECTION = "front_end_rejection"
    PATIENT_RESPONSIBILITY = "patient_responsibility"
    CONTRACTUAL = "contractual"
    OTHER = "other"

    @property
    def as_event(self) -> DenialCategory:
        """The category on ``denial-opened`` (normal-adjudication families become ``other``)."""
        try:
            return DenialCategory(self.value)
        except ValueError:
            return DenialCategory.OTHER


class Fix(StrEnum):
    """A deterministic change to a claim that a resubmission can carry."""

    MISSING_MODIFIER = "missing_modifier"
    PLACE_OF_SERVICE = "place_of_service"
    AUTHORIZATION_NUMBER = "authorization_number"
    REBUILD_COB = "rebuild_cob"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: Category
    action: Action
    fix: Fix | None = None
    otherwise: Action = Action.HUMAN_REVIEW
    denial: bool = True
    next_step: str = Field(min_length=1, max_length=200)


class Rule(_Row):
    """One playbook row for remit adjustments: ``codes`` like ``CO-197``, ``*-45`` or ``PR-*``."""

    codes: list[str] = Field(min_length=1)
    rarcs: list[str] = Field(default_factory=list)

    @field_validator("codes")
    @classmethod
    def _group_dash_carc(cls, codes: list[str]) -> list[str]:
        for code in codes:
            group, dash, carc = code.partition("-")
            if not dash or not group or not carc:
                raise ValueError(f"{code!r} is not GROUP-CARC")
        return [code.upper() for code in codes]

    def specificity(
        self, group: str, carc: str, rarcs: set[str] | frozenset[str], read_as: str | None = None
    ) -> int | None:
        """How closely the row matches (higher is closer), or None when it does not match.

        An exact CARC outranks any group; then the adjustment's own group outranks the group it
        is read as (``read_as``, from the playbook's ``group_fallbacks``: a PI-16 meets the CO-16
        rows), which outranks ``*``. A row naming a RARC the remit carries outranks all of that.
        """
        best: int | None = None
        for code in self.codes:
            row_group, _, row_carc = code.partition("-")
            if row_carc not in ("*", carc):
                continue
            if row_group == group:
                group_score = 2
            elif read_as is not None and row_group == read_as:
                group_score = 1
            elif row_group == "*":
                group_score = 0
            else:
                continue
            score = (row_carc != "*") * 4 + group_score
            best = score if best is None else max(best, score)
        if best is None:
            return None
        if self.rarcs:
            if not rarcs.intersection(self.rarcs):
                return None
            best += 8
        return best


class RejectionRule(_Row):
    """One playbook row for front-end rejections: ``A7:562:85`` patterns or ``999:<code>``."""

    codes: list[str] = Field(min_length=1)

    def specificity(self, code: str) -> int | None:
        best: int | None = None
        parts = code.upper().split(":")
        for pattern in self.codes:
            wanted = pattern.upper().split(":")
            if wanted == ["*"]:
                score = 0
            elif len(wanted) > len(parts) or any(
                w not in ("*", p) for w, p in zip(wanted, parts, strict=False)
            ):
                continue
            else:
                score = 1 + sum(w != "*" for w in wanted)
            best = score if best is None else max(best, score)
        return best


class StatusRow(_Row):
    """The claim-level denial a claim status (CLP02) opens when no adjustment explains it."""


class ClaimStatusRule(BaseModel):
    """How a claim status (CLP02) is read before its adjustments are.

    ``triage: false``: the remit is not adjudication to act on (a reversal, 22, negates an earlier
    payment that its corrected payment replaces; a predetermination, 25, pays nothing): no denial
    is opened, no secondary billed, no underpayment flagged. ``unexplained``: the claim-level
    denial opened when the status says denied (4) or not ours (23) and no adjustment's row opens
    one, so a denial is never dropped for want of a code the playbook knows.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    triage: bool = True
    unexplained: StatusRow | None = None


class PayerPlaybook(BaseModel):
    """Overrides for one payer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    appeal_days: int | None = Field(default=None, ge=1)
    rows: list[Rule] = Field(default_factory=list)
    rejections: list[RejectionRule] = Field(default_factory=list)


_PATIENT_GROUP = "PR"

_TO_THE_PATIENT = frozenset({Action.BILL_SECONDARY, Action.TRANSFER_TO_PATIENT})
"""Actions that bill a PR amount to the patient, or to the next payer in the patient's place."""

_FOUND_KEPT = 4096
"""Answers a playbook keeps before it starts over (the codes a practice meets are far fewer)."""


class Playbook(BaseModel):
    """The whole playbook: default rows, rejection rows, appeal windows and payer overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    appeal_days: dict[str, int] = Field(default_factory=lambda: {"default": 180})
    information_request_days: dict[str, int] = Field(default_factory=lambda: {"default": 30})
    """Days to answer a payer's request for information (a 277 category R) before it may deny the
    claim for want of it, by payer type (``default`` for the rest)."""
    group_fallbacks: dict[str, str] = Field(default_factory=dict)
    """A group whose CARC has no row of its own is read as this group (PI -> CO)."""
    deactivated: dict[str, str] = Field(default_factory=dict)
    """Retired CARCs a payer may still send -> the code whose row gives their meaning."""
    unprocessable_rarcs: list[str] = Field(default_factory=list)
    """RARCs that make a claim unprocessable (no appeal rights): corrections go out as new originals."""
    no_appeal_rarcs: list[str] = Field(default_factory=list)
    """RARCs that take away the appeal rights of an adjudicated claim (N211): no appeal is filed."""
    provider_error_rarcs: list[str] = Field(default_factory=list)
    """RARCs that name a billing, provider or coding error (M62, N290, M51...): beside a denial the
    payer grouped PR, what it put on the patient is not theirs to pay (see ``_not_the_patients``)."""
    no_waiver_modifiers: list[str] = Field(default_factory=list)
    """Line modifiers saying no waiver of liability (ABN) was signed (GZ): a denial of such a line
    the payer grouped PR is not the patient's to pay (see ``triage._no_waiver``)."""
    claim_statuses: dict[str, ClaimStatusRule] = Field(default_factory=dict)
    rows: list[Rule] = Field(min_length=1)
    rejections: list[RejectionRule] = Field(min_length=1)
    payers: dict[str, PayerPlaybook] = Field(default_factory=dict)
    _found: dict[tuple[str, str, frozenset[str], str | None], Rule | None] = PrivateAttr(default_factory=dict)
    """``rule_for``'s answers: the playbook is frozen, and a payer's remits repeat a few codes."""

    @model_validator(mode="after")
    def _has_catch_alls(self) -> Self:
        if self.rule_for("ZZ", "ZZZ", ()) is None:
            raise ValueError("the playbook needs a catch-all row ('*-*')")
        if not any("*" in r.codes for r in self.rejections):
            raise ValueError("the rejection playbook needs a catch-all row ('*')")
        return self

    def rule_for(
        self, group: str, carc: str, rarcs: tuple[str, ...] | list[str], payer_id: str | None = None
    ) -> Rule | None:
        """The closest row for a group/CARC with the claim's or line's RARCs; payer rows first."""
        present = frozenset(r.upper() for r in rarcs)
        group, carc = group.upper(), carc.upper()
        key = (group, carc, present, payer_id)
        if key in self._found:
            return self._found[key]
        if len(self._found) >= _FOUND_KEPT:
            self._found.clear()
        rule = self._rule_for(group, carc, present, payer_id)
        self._found[key] = rule
        return rule

    def _rule_for(self, group: str, carc: str, present: frozenset[str], payer_id: str | None) -> Rule | None:
        return self._not_the_patients(group, self._read(group, carc, present, payer_id), present)

    def _not_the_patients(self, group: str, rule: Rule | None, present: frozenset[str]) -> Rule | None:
        """The row, unless it bills the patient (or the next payer) for a denial the payer grouped
        PR beside a remark naming a billing, provider or coding error (PR-96 with M62, PR-204 with
        N290...). The group says the patient owes it, the remark that the claim was wrong: a
        person corrects the claim, never the patient pays for it. A row naming the remark itself
        (PR-96 with N216) is the playbook's own answer and is kept."""
        if rule is None or group != _PATIENT_GROUP or not rule.denial or rule.action not in _TO_THE_PATIENT:
            return rule
        errors = sorted(
            present.intersection([*self.provider_error_rarcs, *self.unprocessable_rarcs]).difference(
                rule.rarcs
            )
        )
        if not errors:
            return rule
        text = (
            f"Put on the patient with {', '.join(errors)}, a billing, provider or coding error: not the "
            "patient's nor the next payer's. Correct the claim as the remark asks and resubmit it."
        )
        if len(text) > 200:
            text = text[:197].rsplit(" ", 1)[0] + "..."
        return rule.model_copy(
            update={
                "action": Action.HUMAN_REVIEW,
                "otherwise": Action.HUMAN_REVIEW,
                "fix": None,
                "next_step": text,
            }
        )

    def _read(self, group: str, carc: str, present: frozenset[str], payer_id: str | None) -> Rule | None:
        found = self._closest(group, carc, present, payer_id)
        successor = self.deactivated.get(carc)
        if successor is None or (found is not None and found[0] % 8 >= 4):
            return found[1] if found else None  # a current code, or a row names the retired one
        found = self._closest(group, successor, present, payer_id)
        if found is None:
            return None
        rule = found[1]
        if not rule.denial:
            return rule
        # The code is retired: its meaning is known, but what the payer meant by still sending it
        # is not certain enough to correct or write off a claim without a person.
        note = f"CARC {carc} is deactivated (read as {successor}). "
        return rule.model_copy(
            update={"action": Action.HUMAN_REVIEW, "fix": None, "next_step": (note + rule.next_step)[:200]}
        )

    def _closest(
        self, group: str, carc: str, present: frozenset[str], payer_id: str | None
    ) -> tuple[int, Rule] | None:
        read_as = self.group_fallbacks.get(group)
        best: tuple[int, int, Rule] | None = None
        tied: list[Rule] = []
        overrides = self.payers.get(payer_id) if payer_id else None
        for priority, rows in ((1, overrides.rows if overrides else []), (0, self.rows)):
            for row in rows:
                score = row.specificity(group, carc, present, read_as)
                if score is None:
                    continue
                if best is None or (score, priority) > best[:2]:
                    best, tied = (score, priority, row), []
                elif (score, priority) == best[:2]:
                    tied.append(row)
        if best is None:
            return None
        rule = best[2]
        through = present.intersection(rule.rarcs)
        others = [
            r
            for r in tied
            if present.intersection(r.rarcs) - through
            and (r.category, r.action, r.fix) != (rule.category, rule.action, rule.fix)
        ]
        if rule.rarcs and others:
            # two remarks the remit carries call for different things (CO-16 with M62 and N290: an
            # authorization number and a provider identifier): one fix would leave the other defect
            # for a second denial; a person sees both
            also = "; ".join(f"also {r.category.value}: {r.next_step}" for r in others)
            text = f"{rule.next_step} {also}"
            if len(text) > 200:
                text = text[:197].rsplit(" ", 1)[0] + "..."
            rule = rule.model_copy(update={"action": Action.HUMAN_REVIEW, "fix": None, "next_step": text})
        return best[0], rule

    def status_rule(self, status: str) -> ClaimStatusRule:
        """How a CLP02 claim status is read (the default: triage the adjustments, nothing more)."""
        return self.claim_statuses.get(status, ClaimStatusRule())

    def rejection_rule_for(self, codes: list[str], payer_id: str | None = None) -> RejectionRule:
        """The closest rejection row over all the acknowledgment's codes; payer rows first."""
        overrides = self.payers.get(payer_id) if payer_id else None
        best: tuple[int, int, RejectionRule] | None = None
        for priority, rows in ((1, overrides.rejections if overrides else []), (0, self.rejections)):
            for row in rows:
                for code in codes or ["*"]:
                    score = row.specificity(code)
                    if score is not None and (best is None or (score, priority) > best[:2]):
                        best = (score, priority, row)
        assert best is not None  # the catch-all row always matches
        return best[2]

    def appeal_days_for(self, payer_id: str | None, payer_type: str | None) -> int:
        """First-level appeal window: the payer's own, else its type's, else the default."""
        override = self.payers.get(payer_id) if payer_id else None
        if override is not None and override.appeal_days is not None:
            return override.appeal_days
        if payer_type is not None and payer_type in self.appeal_days:
            return self.appeal_days[payer_type]
        return self.appeal_days.get("default", 180)

    def information_request_days_for(self, payer_type: str | None) -> int:
        """Days to answer a request for information: the payer type's, else the default."""
        if payer_type is not None and payer_type in self.information_request_days:
            return self.information_request_days[payer_type]
        return self.information_request_days.get("default", 30)


def load_playbook(text: str) -> Playbook:
    """Parse a playbook from its YAML text (see ``playbook.yaml``)."""
    data: Any = yaml.safe_load(text)
    return Playbook.model_validate(data)
