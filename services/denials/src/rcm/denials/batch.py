"""The rows a batch's handlers read, loaded for the whole batch at once and kept current by its handlers.

Reading them event by event (a claim, its chain's acknowledgments, the fixes tried, the open
denials, the patient's state, coverages and authorizations, the payer, the contract rates) cost
about ten statements per remit. The runtime applies a Kafka batch in one transaction and runs
:func:`prepare` with the whole batch first: it reads what the batch's events name, one query per
table, into a :class:`BatchFacts` kept in ``tx.memo``.

What keeps the answers the same as a query at the moment of each event:

- an entry, once present, is complete for its key (every row of that key, including the rows this
  batch queued); a key that is not present is read from the database when asked for, with the
  same query for that one key, so ``prepare`` only decides how many keys one query reads;
- a handler that writes rows of a key updates the entry when it knows the outcome exactly
  (``note_*``) and drops it otherwise (``forget_*``), so the next reader reads through;
- claims, acknowledgments and adjudications are queued with :meth:`BatchFacts.insert_later` and
  written after the batch's last handler, one ``INSERT ... ON CONFLICT DO NOTHING`` per table
  (:meth:`BatchFacts.write`), patients' states with one upsert; nothing in the transaction reads
  those tables but this class, and a queued row goes into an entry that was loaded first, so it
  is never missing from an answer.

Those rows are facts of their key (a claim as billed, an acknowledgment file, a remit's line): a
row already there is the same row. Another consumer can hold the same facts in an open batch (a
rebalance hands a partition over mid-batch; a re-sent claim, file or 835 carries an event id of
its own, which the inbox does not know), so "not on file" when read is no promise at the insert:
the insert waits for the other transaction and then skips the rows it wrote, instead of failing
the batch with a unique violation. Rows go out sorted by key, so two such batches take their
locks in the same order.

Everything lives in one transaction's memo: reference rows (payers, coverages, rates) change in
other replicas' transactions, so nothing is kept from one batch to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.denials import store
from rcm.denials.domain.facts import (
    Acceptance,
    AuthorizationOnFile,
    ClaimFacts,
    ClaimLineFacts,
    CoverageOnFile,
    PayerFacts,
)
from rcm.denials.domain.underpayment import ContractRate
from rcm.events.models import (
    AckStatus,
    ClaimAcknowledged,
    ClaimCreated,
    ClaimVoided,
    CoveragePriority,
    PayerBillingRules,
    RemitReceived,
)
from rcm.servicekit import Delivered, Transaction

__all__ = ["AckOnFile", "BatchFacts", "claim_facts", "prepare"]


def _keys(name: str) -> Any:
    """A text-array parameter: ``column = ANY(:name)`` is one statement text whatever the key count."""
    return sa.any_(sa.bindparam(name, type_=ARRAY(sa.Text)))


_c, _a, _f, _d = store.claim.c, store.acknowledgment.c, store.fix_attempt.c, store.denial.c

# A claim with its whole replacement chain: the claims asked for, the claims whose root is one of
# them (the root of a claim not on file is its own id) and the claims sharing a root with them.
# Three index lookups joined by UNION ALL: the same condition written with OR is read by scanning
# the whole table, which grows with every claim on file.
_kin = store.claim.alias("kin")
_CLAIMS_WITH_CHAINS = sa.select(store.claim).where(
    _c.claim_id.in_(
        sa.union_all(
            sa.select(_c.claim_id).where(_c.claim_id == _keys("ids")),
            sa.select(_c.claim_id).where(_c.root_claim_id == _keys("ids")),
            sa.select(_kin.c.claim_id)
            .join_from(store.claim, _kin, _kin.c.root_claim_id == _c.root_claim_id)
            .where(_c.claim_id == _keys("ids")),
        )
    )
)
_CLAIMS = sa.select(store.claim).where(_c.claim_id == _keys("ids"))
_CHAINS = sa.select(_c.claim_id, _c.root_claim_id).where(_c.root_claim_id == _keys("ids"))
_ACKS = sa.select(_a.claim_id, _a.file_name, _a.status, _a.received_on).where(_a.claim_id == _keys("ids"))
_FIXES = sa.select(_f.root_claim_id, _f.fix_kind).where(_f.root_claim_id == _keys("ids"))
_OPEN_DENIALS = sa.select(store.denial).where(_d.root_claim_id == _keys("ids"), _d.status == "open")
_STATES = sa.select(store.patient_state).where(store.patient_state.c.patient_id == _keys("ids"))
_PAYERS = sa.select(store.payer).where(store.payer.c.payer_id == _keys("ids"))
_COVERAGES = sa.select(store.coverage).where(
    store.coverage.c.patient_id == _keys("ids"), store.coverage.c.deleted.is_(False)
)
_AUTHORIZATIONS = sa.select(store.authorization).where(store.authorization.c.patient_id == _keys("ids"))
_RATES = sa.select(store.contract_rate).where(
    store.contract_rate.c.payer_id == _keys("payers"),
    store.contract_rate.c.procedure_code == _keys("codes"),
)
_ADJUDICATED = sa.select(store.adjudication.c.remit_id, store.adjudication.c.position).where(
    store.adjudication.c.remit_id == _keys("ids")
)


# The queued tables, and their inserts: a row with a key on file is the same fact, and is skipped.
_INSERT_ONCE = {
    table: pg_insert(table).on_conflict_do_nothing()
    for table in (store.claim, store.acknowledgment, store.adjudication, store.next_payer_wait)
}


def _key(table: sa.Table) -> Any:
    columns = [c.name for c in table.primary_key.columns]
    return lambda row: tuple(str(row[c]) for c in columns)


@dataclass(frozen=True, slots=True)
class AckOnFile:
    """One acknowledgment file of a claim: its file name dedupes a re-sent file."""

    file_name: str
    status: str
    received_on: date


def claim_facts(row: Mapping[str, Any]) -> ClaimFacts:
    """A claim row (as read, or as queued from ``claim-created``) as the facts triage looks at."""
    lines = tuple(
        ClaimLineFacts(
            line_key=ln["line_key"],
            procedure_code=ln["procedure_code"],
            modifiers=tuple(ln["modifiers"]),
            place_of_service=ln["place_of_service"],
            service_date=date.fromisoformat(ln["service_date"]),
            units=ln["units"],
            charge=Decimal(ln["charge"]),
            rendering_provider_id=ln.get("rendering_provider_id"),
        )
        for ln in row["lines"]
    )
    return ClaimFacts(
        claim_id=row["claim_id"],
        root_claim_id=row["root_claim_id"],
        patient_id=row["patient_id"],
        payer_id=row["payer_id"],
        coverage_id=row["coverage_id"],
        rendering_provider_id=row["rendering_provider_id"],
        lines=lines,
        authorization_number=row["authorization_number"],
        payer_responsibility=CoveragePriority(row["payer_responsibility"]),
    )


def _missing(known: Mapping[Any, Any], keys: Iterable[Any]) -> list[Any]:
    return sorted({k for k in keys if k not in known})


class BatchFacts:
    """One transaction's view of the rows its handlers read (see the module's rules)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._claims: dict[str, ClaimFacts | None] = {}
        self._chains: dict[str, set[str]] = {}  # root claim id -> the claim ids of its chain
        self._acks: dict[str, list[AckOnFile]] = {}
        self._fixes: dict[str, set[str]] = {}  # root claim id -> fix kinds requested
        self._open_denials: dict[str, list[Any]] = {}  # root claim id -> open denial rows
        self._states: dict[str, str | None] = {}
        self._payers: dict[str, PayerFacts | None] = {}
        self._coverages: dict[str, tuple[CoverageOnFile, ...]] = {}
        self._authorizations: dict[str, tuple[AuthorizationOnFile, ...]] = {}
        self._rates: dict[tuple[str, str], list[ContractRate]] = {}
        self._adjudicated: dict[str, set[int]] = {}  # remit id -> positions on file
        self._state_writes: dict[str, str | None] = {}  # patient id -> state, written with the batch
        self._inserts: dict[sa.Table, list[dict[str, Any]]] = {}  # written with the batch, once

    @classmethod
    def of(cls, tx: Transaction) -> BatchFacts:
        """The transaction's facts (empty, read on demand, when no ``prepare`` ran)."""
        return tx.memo_of(cls, lambda: cls(tx.conn))

    async def _rows(self, stmt: Any, **params: Any) -> list[Any]:
        return list((await self.conn.execute(stmt, params)).all())

    # ------------------------------------------------------------------ the batch's writes
    def insert_later(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Queue a claim, acknowledgment, adjudication or next-payer wait row for the batch's one
        insert per table."""
        if table not in _INSERT_ONCE:
            raise ValueError(f"{table.name} is not written with the batch")
        self._inserts.setdefault(table, []).append(row)

    async def write(self) -> None:
        """The queued rows, one statement per table; rows whose key is on file (written by another
        transaction meanwhile) are skipped, not an error. Called once the batch's handlers ran."""
        inserts, self._inserts = self._inserts, {}
        for table, rows in inserts.items():
            await self.conn.execute(_INSERT_ONCE[table], sorted(rows, key=_key(table)))

    # ------------------------------------------------------------------ claims and chains
    async def load_claims(self, claim_ids: Iterable[str]) -> None:
        """The claims and their whole chains, in one query."""
        ids = _missing(self._claims, claim_ids)
        if not ids:
            return
        rows = await self._rows(_CLAIMS_WITH_CHAINS, ids=ids)
        found = {r.claim_id: r for r in rows}
        for claim_id in ids:
            row = found.get(claim_id)
            self._claims[claim_id] = claim_facts(row._mapping) if row is not None else None
        by_root: dict[str, set[str]] = {}
        for r in rows:
            by_root.setdefault(r.root_claim_id, set()).add(r.claim_id)
        for claim_id in ids:
            root = self.root_of(claim_id)
            if root not in self._chains:
                self._chains[root] = by_root.get(root, set())

    async def claim(self, claim_id: str) -> ClaimFacts | None:
        if claim_id not in self._claims:
            rows = await self._rows(_CLAIMS, ids=[claim_id])
            self._claims[claim_id] = claim_facts(rows[0]._mapping) if rows else None
        return self._claims[claim_id]

    def root_of(self, claim_id: str) -> str:
        """The chain's root of a loaded claim; a claim not on file is its own root."""
        claim = self._claims.get(claim_id)
        return claim.root_claim_id if claim is not None else claim_id

    async def chain(self, root: str) -> set[str]:
        if root not in self._chains:
            rows = await self._rows(_CHAINS, ids=[root])
            self._chains[root] = {r.claim_id for r in rows}
        return self._chains[root]

    async def note_claim(self, row: dict[str, Any]) -> None:
        """A claim this batch queued for insertion (its id known not to be on file)."""
        chain = await self.chain(row["root_claim_id"])
        chain.add(row["claim_id"])
        self._claims[row["claim_id"]] = claim_facts(row)

    # ------------------------------------------------------------------ acknowledgments
    async def load_acks(self, claim_ids: Iterable[str]) -> None:
        ids = _missing(self._acks, claim_ids)
        if not ids:
            return
        for claim_id in ids:
            self._acks[claim_id] = []
        for r in await self._rows(_ACKS, ids=ids):
            self._acks[r.claim_id].append(AckOnFile(r.file_name, r.status, r.received_on))

    async def acks(self, claim_id: str) -> list[AckOnFile]:
        await self.load_acks([claim_id])
        return self._acks[claim_id]

    async def acceptances(self, claim_id: str) -> tuple[Acceptance, ...]:
        """The accepting acknowledgments of the claim and of every submission in its chain."""
        ids = {claim_id} | await self.chain(self.root_of(claim_id))
        await self.load_acks(ids)
        found = [
            Acceptance(claim_id=i, received_on=a.received_on)
            for i in ids
            for a in self._acks[i]
            if a.status != AckStatus.REJECTED.value
        ]
        return tuple(sorted(found, key=lambda a: (a.received_on, a.claim_id)))

    # ------------------------------------------------------------------ fixes and denials
    async def load_fixes(self, roots: Iterable[str]) -> None:
        ids = _missing(self._fixes, roots)
        if not ids:
            return
        for root in ids:
            self._fixes[root] = set()
        for r in await self._rows(_FIXES, ids=ids):
            self._fixes[r.root_claim_id].add(r.fix_kind)

    async def fixes_tried(self, root: str) -> frozenset[str]:
        await self.load_fixes([root])
        return frozenset(self._fixes[root])

    async def fix_requested(self, root: str, fix_kind: str) -> bool:
        """Whether this fix is on file for the chain: claiming it again would find it taken."""
        await self.load_fixes([root])
        return fix_kind in self._fixes[root]

    def note_fix(self, root: str, fix_kind: str) -> None:
        if root in self._fixes:
            self._fixes[root].add(fix_kind)

    async def load_open_denials(self, roots: Iterable[str]) -> None:
        ids = _missing(self._open_denials, roots)
        if not ids:
            return
        for root in ids:
            self._open_denials[root] = []
        for r in await self._rows(_OPEN_DENIALS, ids=ids):
            self._open_denials[r.root_claim_id].append(r)

    async def open_denials(self, root: str) -> list[Any]:
        await self.load_open_denials([root])
        return list(self._open_denials[root])

    def forget_denials(self, root: str) -> None:
        """This chain's denials were written: the next reader reads them again."""
        self._open_denials.pop(root, None)

    # ------------------------------------------------------------------ patients
    async def load_states(self, patient_ids: Iterable[str]) -> None:
        ids = _missing(self._states, patient_ids)
        if not ids:
            return
        for patient_id in ids:
            self._states[patient_id] = None
        for r in await self._rows(_STATES, ids=ids):
            self._states[r.patient_id] = r.state

    async def state(self, patient_id: str) -> str | None:
        await self.load_states([patient_id])
        return self._states[patient_id]

    def note_state(self, patient_id: str, state: str | None) -> None:
        """The patient's state is now ``state``: answered from here on, and written once, with the
        batch (:meth:`state_writes`); nothing else reads the table."""
        self._states[patient_id] = state
        self._state_writes[patient_id] = state

    def state_writes(self) -> list[dict[str, Any]]:
        """The patients' states to upsert for the batch (the latest per patient), each once."""
        writes, self._state_writes = self._state_writes, {}
        return [{"patient_id": k, "state": writes[k]} for k in sorted(writes)]

    async def load_coverages(self, patient_ids: Iterable[str]) -> None:
        ids = _missing(self._coverages, patient_ids)
        if not ids:
            return
        found: dict[str, list[CoverageOnFile]] = {i: [] for i in ids}
        for r in await self._rows(_COVERAGES, ids=ids):
            found[r.patient_id].append(
                CoverageOnFile(
                    coverage_id=r.coverage_id,
                    payer_id=r.payer_id,
                    priority=CoveragePriority(r.priority),
                    start=r.start_date,
                    end=r.end_date,
                )
            )
        self._coverages.update({k: tuple(v) for k, v in found.items()})

    async def coverages(self, patient_id: str) -> tuple[CoverageOnFile, ...]:
        await self.load_coverages([patient_id])
        return self._coverages[patient_id]

    def forget_coverage(self, patient_id: str, coverage_id: str) -> None:
        """A coverage was upserted (perhaps not, when older): its patients' lists are read again."""
        for key in [k for k, v in self._coverages.items() if any(c.coverage_id == coverage_id for c in v)]:
            del self._coverages[key]
        self._coverages.pop(patient_id, None)

    async def load_authorizations(self, patient_ids: Iterable[str]) -> None:
        ids = _missing(self._authorizations, patient_ids)
        if not ids:
            return
        found: dict[str, list[AuthorizationOnFile]] = {i: [] for i in ids}
        for r in await self._rows(_AUTHORIZATIONS, ids=ids):
            found[r.patient_id].append(
                AuthorizationOnFile(
                    authorization_id=r.authorization_id,
                    auth_number=r.auth_number,
                    payer_id=r.payer_id,
                    start=r.start_date,
                    end=r.end_date,
                    procedure_codes=tuple(r.procedure_codes),
                    provider_id=r.provider_id,
                )
            )
        self._authorizations.update({k: tuple(v) for k, v in found.items()})

    async def authorizations(self, patient_id: str) -> tuple[AuthorizationOnFile, ...]:
        await self.load_authorizations([patient_id])
        return self._authorizations[patient_id]

    def forget_authorization(self, patient_id: str, authorization_id: str) -> None:
        stale = [
            k
            for k, v in self._authorizations.items()
            if any(a.authorization_id == authorization_id for a in v)
        ]
        for key in stale:
            del self._authorizations[key]
        self._authorizations.pop(patient_id, None)

    # ------------------------------------------------------------------ payers and contracts
    async def load_payers(self, payer_ids: Iterable[str]) -> None:
        ids = _missing(self._payers, payer_ids)
        if not ids:
            return
        for payer_id in ids:
            self._payers[payer_id] = None
        for r in await self._rows(_PAYERS, ids=ids):
            self._payers[r.payer_id] = PayerFacts(
                payer_id=r.payer_id, payer_type=r.payer_type, rules=PayerBillingRules.model_validate(r.rules)
            )

    async def payer(self, payer_id: str) -> PayerFacts | None:
        await self.load_payers([payer_id])
        return self._payers[payer_id]

    def forget_payer(self, payer_id: str) -> None:
        """A payer was upserted (perhaps not, when older): it is read again."""
        self._payers.pop(payer_id, None)

    async def load_rates(self, payer_ids: Iterable[str], codes: Iterable[str]) -> None:
        """Every (payer, procedure code) pair of the two lists: one query for the cross product."""
        pairs = {(p, c) for p in payer_ids for c in codes if (p, c) not in self._rates}
        if not pairs:
            return
        payers, wanted = sorted({p for p, _ in pairs}), sorted({c for _, c in pairs})
        rows = await self._rows(_RATES, payers=payers, codes=wanted)
        for pair in pairs:
            self._rates[pair] = []
        for r in rows:
            if (r.payer_id, r.procedure_code) not in pairs:
                continue  # a pair loaded before: its rows are there already
            self._rates[(r.payer_id, r.procedure_code)].append(
                ContractRate(
                    payer_id=r.payer_id,
                    procedure_code=r.procedure_code,
                    amount=r.amount,
                    start=r.start_date,
                    end=r.end_date,
                    modifiers=frozenset(r.modifiers),
                    place_of_service=r.place_of_service,
                )
            )

    async def rates(self, payer_id: str, codes: Iterable[str]) -> list[ContractRate]:
        wanted = sorted(set(codes))
        await self.load_rates([payer_id], wanted)
        return [rate for code in wanted for rate in self._rates[(payer_id, code)]]

    def forget_rates(self) -> None:
        """A fee schedule was replaced: every rate is read again."""
        self._rates.clear()

    # ------------------------------------------------------------------ adjudications
    async def load_adjudicated(self, remit_ids: Iterable[str]) -> None:
        ids = _missing(self._adjudicated, remit_ids)
        if not ids:
            return
        for remit_id in ids:
            self._adjudicated[remit_id] = set()
        for r in await self._rows(_ADJUDICATED, ids=ids):
            self._adjudicated[r.remit_id].add(r.position)

    async def adjudicated(self, remit_id: str) -> set[int]:
        """The positions of this remit on file (the set itself: the caller adds what it queues)."""
        await self.load_adjudicated([remit_id])
        return self._adjudicated[remit_id]


async def prepare(tx: Transaction, events: list[Delivered[Any]]) -> None:
    """Read what the batch's events will look at, one query per table (see the module)."""
    facts = BatchFacts.of(tx)
    remits = [d.event for d in events if isinstance(d.event, RemitReceived)]
    acks = [d.event for d in events if isinstance(d.event, ClaimAcknowledged)]
    rejected = [e for e in acks if e.status is AckStatus.REJECTED]
    voided = [d.event for d in events if isinstance(d.event, ClaimVoided)]
    created = [d.event for d in events if isinstance(d.event, ClaimCreated)]

    triaged = [e.claim_id for e in remits] + [e.claim_id for e in rejected]
    await facts.load_claims(
        [
            *triaged,
            *(e.claim_id for e in acks),
            *(e.claim_id for e in voided),
            *(e.claim_id for e in created),
            *(e.replaces_claim_id for e in created if e.replaces_claim_id),
        ]
    )
    roots = {facts.root_of(c) for c in triaged}
    in_chains = {c for root in roots for c in await facts.chain(root)}
    await facts.load_acks([*in_chains, *triaged, *(e.claim_id for e in acks), *(e.claim_id for e in voided)])
    await facts.load_fixes(roots)
    await facts.load_open_denials([*(facts.root_of(e.claim_id) for e in remits + voided)])
    patients = [e.patient_id for e in remits + rejected]
    await facts.load_states(patients)
    await facts.load_coverages(patients)
    await facts.load_authorizations(patients)
    claims = [await facts.claim(e.claim_id) for e in rejected]
    await facts.load_payers([*(e.payer_id for e in remits), *(c.payer_id for c in claims if c)])
    await facts.load_rates(
        {e.payer_id for e in remits}, {ln.procedure_code for e in remits for ln in e.lines}
    )
    await facts.load_adjudicated(e.remit_id for e in remits)
