"""What posting reads, read once per 835 payment instead of once per claim payment.

``ClaimIndex`` holds the claims a transaction's claim payments can match (with their lines and
payer claim numbers): ``load`` reads, in one query per kind, every claim the given claim payments
could name (control number, control number cut to a payer's length, payer claim number), and
``lookup`` answers the matcher's question for one claim payment from memory, as the per-claim
query did. A payer claim number learnt while posting is written at once and added to the index,
so a later claim payment of the same transaction finds the claim by it.

``LineIds`` hands out ``posted_line`` ids drawn from its sequence ahead, so posted lines and their
adjustments can be queued with the transaction's inserts (``Transaction.insert_later``) instead of
one insert per line returning its id; ``posted_for`` (``ingest``) writes the queue out before it
reads them back.

Both live in ``Transaction.memo`` for one transaction: the claims projection only changes in the
consumer's transactions, and a posting transaction changes payer claim numbers through the index.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from rcm.remittance import store as t
from rcm.remittance.domain.matching import ClaimLineRef, ClaimRef
from rcm.remittance.domain.remit import ClaimRemit
from rcm.servicekit import Transaction

__all__ = [
    "MAX_CANDIDATES",
    "ClaimIndex",
    "LineIds",
    "Posted",
    "PostedIndex",
    "claim_index",
    "claims_named",
    "line_ids",
    "posted_index",
]

MAX_CANDIDATES = 50
"""Claims one claim payment is matched against at most (the store narrows, the domain decides)."""

PAYER_ORDER = {"primary": 1, "secondary": 2, "tertiary": 3}
"""claim-created's payer responsibility as the order CLP02 speaks of."""

_TEXTS = ARRAY(sa.Text)
_BEYOND = sa.literal("\U0010ffff", sa.Text)
"""The last code point: a prefix followed by it sorts after every key that starts with the prefix."""
_c, _n, _l = t.claim.c, t.payer_claim_number.c, t.claim_line.c

_prefix = sa.func.unnest(sa.bindparam("prefixes", type_=_TEXTS)).table_valued("prefix").render_derived("p")
_NAMED_BY = {
    "keys": sa.select(_c.claim_id).where(_c.claim_key == sa.any_(sa.bindparam("keys", type_=_TEXTS))),
    # the keys starting with a prefix are one range in byte order (the claim_key_prefix index)
    "prefixes": sa.select(_c.claim_id).join_from(
        _prefix,
        t.claim,
        sa.and_(
            _c.claim_key.collate("C") >= _prefix.c.prefix.collate("C"),
            _c.claim_key.collate("C") < (_prefix.c.prefix + _BEYOND).collate("C"),
        ),
    ),
    "numbers": sa.select(_n.claim_id).where(_n.number_key == sa.any_(sa.bindparam("numbers", type_=_TEXTS))),
}


@functools.cache
def claims_named(*kinds: str) -> sa.Select[Any]:
    """The claims named by the given kinds of name (``keys``, ``prefixes``, ``numbers``), locked
    until the posting transaction ends: two transactions posting to one claim (an 835 and the
    waiting-payments matcher, or two 835s) take turns, so the later one reads what the first posted
    before it decides whether its claim payment repeats it.

    Only the kinds a read has values for are in the statement: a range over an empty list of
    prefixes still counts, for the planner, as a large share of the table, and tips it into
    reading every claim. Built once per mix of kinds."""
    return (
        sa.select(t.claim)
        .where(_c.claim_id.in_(sa.union_all(*(_NAMED_BY[k] for k in kinds))))
        .order_by(_c.created_at, _c.claim_id)
        .with_for_update(of=t.claim)
    )


_CLAIMS_BY_ID = sa.select(t.claim).where(_c.claim_id == sa.any_(sa.bindparam("ids", type_=_TEXTS)))
_LINES = (
    sa.select(t.claim_line)
    .where(_l.claim_id == sa.any_(sa.bindparam("ids", type_=_TEXTS)))
    .order_by(_l.claim_id, _l.line_key)
)
_NUMBERS = sa.select(_n.number_key, _n.claim_id).where(
    _n.claim_id == sa.any_(sa.bindparam("ids", type_=_TEXTS))
)
_REMEMBER = (
    pg_insert(t.payer_claim_number)
    .values(number_key=sa.bindparam("number_key"), claim_id=sa.bindparam("claim_id"))
    .on_conflict_do_nothing()
)
_cp = t.claim_payment.c
_POSTED_OPEN = sa.select(
    _cp.remit_id,
    _cp.cross_key,
    _cp.claim_id,
    _cp.status,
    _cp.charge,
    _cp.paid,
    _cp.patient_responsibility,
    _cp.payer_claim_number,
).where(
    sa.or_(
        _cp.cross_key == sa.any_(sa.bindparam("cross_keys", type_=_TEXTS)),
        _cp.claim_id == sa.any_(sa.bindparam("claim_ids", type_=_TEXTS)),
    ),
    _cp.state == "posted",
    _cp.reversed_by.is_(None),
)
_ORPHANS = sa.select(_cp.claim_id).where(
    _cp.claim_id == sa.any_(sa.bindparam("claim_ids", type_=_TEXTS)), _cp.state == "orphan_reversal"
)
"""The claims, of those given, with a reversal waiting for the claim payment it takes back."""
_NEXT_LINE_IDS = sa.text(
    "SELECT nextval(pg_get_serial_sequence('posted_line', 'id')) FROM generate_series(1, :n)"
).columns(nextval=sa.BigInteger)


@dataclass(frozen=True, slots=True)
class _Names:
    """What one claim payment may name a claim by."""

    keys: frozenset[str]
    prefix: str | None
    numbers: frozenset[str]


def _names(remit: ClaimRemit, cut_lengths: Sequence[int]) -> _Names:
    pcn = remit.patient_control_number.strip().upper()
    keys = frozenset({pcn, (remit.full_control_number or "").strip().upper()} - {""})
    return _Names(
        keys=keys,
        prefix=pcn if len(pcn) in cut_lengths else None,
        numbers=frozenset(
            {(remit.payer_claim_number or "").upper(), (remit.original_reference or "").strip().upper()}
            - {""}
        ),
    )


@dataclass(slots=True)
class ClaimIndex:
    """The claims of one transaction's matching, with what has been read for which names."""

    refs: dict[str, ClaimRef] = field(default_factory=dict)
    """Claims read, in the order read (the order the per-claim query returned them in)."""
    position: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, list[str]] = field(default_factory=dict)
    sorted_keys: list[str] | None = None
    """``by_key``'s keys in order, for prefixes (None: to be sorted again)."""
    by_number: dict[str, set[str]] = field(default_factory=dict)
    keys_read: set[str] = field(default_factory=set)
    prefixes_read: set[str] = field(default_factory=set)
    numbers_read: set[str] = field(default_factory=set)

    async def load(
        self, conn: AsyncConnection, remits: Iterable[ClaimRemit], cut_lengths: Sequence[int]
    ) -> None:
        """Read every claim ``remits`` could name that has not been read for that name yet."""
        keys: set[str] = set()
        prefixes: set[str] = set()
        numbers: set[str] = set()
        for remit in remits:
            names = _names(remit, cut_lengths)
            keys |= names.keys - self.keys_read
            if names.prefix is not None and names.prefix not in self.prefixes_read:
                prefixes.add(names.prefix)
            numbers |= names.numbers - self.numbers_read
        if not (keys or prefixes or numbers):
            return
        wanted = {"keys": sorted(keys), "prefixes": sorted(prefixes), "numbers": sorted(numbers)}
        given = {kind: values for kind, values in wanted.items() if values}
        rows = (await conn.execute(claims_named(*given), given)).all()
        await self._add(conn, [r for r in rows if r.claim_id not in self.refs])
        self.keys_read |= keys
        self.prefixes_read |= prefixes
        self.numbers_read |= numbers

    def lookup(self, remit: ClaimRemit, cut_lengths: Sequence[int]) -> list[str]:
        """The ids of the claims ``remit`` names (``load`` read them), in the order read."""
        names = _names(remit, cut_lengths)
        found: set[str] = set()
        for key in names.keys:
            found.update(self.by_key.get(key, ()))
        if names.prefix is not None:
            found.update(claim_id for key in self._starting(names.prefix) for claim_id in self.by_key[key])
        for number in names.numbers:
            found |= self.by_number.get(number, set())
        return sorted(found, key=self.position.__getitem__)[:MAX_CANDIDATES]

    def _starting(self, prefix: str) -> list[str]:
        if self.sorted_keys is None:
            self.sorted_keys = sorted(self.by_key)
        keys = self.sorted_keys
        out = []
        for key in keys[bisect_left(keys, prefix) :]:
            if not key.startswith(prefix):
                break
            out.append(key)
        return out

    async def claims(self, conn: AsyncConnection, ids: Sequence[str]) -> list[ClaimRef]:
        """The claims ``ids``, read when not read yet; an unknown id is left out."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.refs]
        if missing:
            await self._add(conn, (await conn.execute(_CLAIMS_BY_ID, {"ids": missing})).all())
        return [self.refs[i] for i in dict.fromkeys(ids) if i in self.refs]

    async def remember(self, conn: AsyncConnection, number: str, claim_id: str) -> None:
        """The payer's claim number ``number`` names ``claim_id`` (written unless already known)."""
        key = number.upper()
        known = self.by_number.setdefault(key, set())
        if claim_id in known:
            return
        await conn.execute(_REMEMBER, {"number_key": key, "claim_id": claim_id})
        known.add(claim_id)
        ref = self.refs.get(claim_id)
        if ref is not None:
            self.refs[claim_id] = replace(ref, payer_claim_numbers=ref.payer_claim_numbers | {key})

    async def _add(self, conn: AsyncConnection, rows: Sequence[Any]) -> None:
        if not rows:
            return
        ids = [r.claim_id for r in rows]
        lines: dict[str, list[ClaimLineRef]] = {}
        for ln in await conn.execute(_LINES, {"ids": ids}):
            lines.setdefault(ln.claim_id, []).append(
                ClaimLineRef(
                    line_key=ln.line_key,
                    procedure_code=ln.procedure_code,
                    service_date=ln.service_date,
                    charge=ln.charge,
                    modifiers=tuple(ln.modifiers),
                    units=ln.units,
                )
            )
        numbers: dict[str, set[str]] = {}
        for number_key, claim_id in await conn.execute(_NUMBERS, {"ids": ids}):
            numbers.setdefault(claim_id, set()).add(number_key)
            self.by_number.setdefault(number_key, set()).add(claim_id)
        for r in rows:
            self.refs[r.claim_id] = ClaimRef(
                claim_id=r.claim_id,
                patient_id=r.patient_id,
                payer_id=r.payer_id,
                total_charge=r.total_charge,
                lines=tuple(lines.get(r.claim_id, ())),
                payer_claim_numbers=frozenset(numbers.get(r.claim_id, ())),
                payer_order=PAYER_ORDER.get(r.payer_responsibility, 1),
            )
            self.position[r.claim_id] = len(self.position)
            self.by_key.setdefault(r.claim_key, []).append(r.claim_id)
        self.sorted_keys = None


@dataclass(slots=True)
class LineIds:
    """``posted_line`` ids taken from its sequence ahead of the inserts that use them."""

    free: list[int] = field(default_factory=list)

    async def take(self, conn: AsyncConnection, n: int, *, ahead: int = 0) -> list[int]:
        """``n`` ids, in increasing order; when short, ``ahead`` more are drawn for later calls."""
        if len(self.free) < n:
            more = (await conn.execute(_NEXT_LINE_IDS, {"n": n - len(self.free) + ahead})).scalars()
            self.free.extend(sorted(more))
        taken, self.free = self.free[:n], self.free[n:]
        return taken


@dataclass(slots=True)
class Posted:
    """A claim payment posted and not reversed: what a new one is compared with for repeats."""

    remit_id: str
    cross_key: str
    claim_id: str | None
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str | None


@dataclass(slots=True)
class PostedIndex:
    """The claim payments posted and not reversed, by payer key (``cross_key``) and by claim, for
    the keys and claims read; the transaction's own postings and reversals keep it current."""

    open: dict[str, Posted] = field(default_factory=dict)
    by_key: dict[str, list[str]] = field(default_factory=dict)
    by_claim: dict[str, list[str]] = field(default_factory=dict)
    cross_keys_read: set[str] = field(default_factory=set)
    claims_read: set[str] = field(default_factory=set)
    orphans: set[str] = field(default_factory=set)
    """Claims read (or posted to) that have a reversal waiting for its claim payment."""

    async def load(self, conn: AsyncConnection, cross_keys: Iterable[str], claim_ids: Iterable[str]) -> None:
        """Read the open claim payments of the keys and claims not read yet (and which of those
        claims have a reversal waiting)."""
        keys = set(cross_keys) - self.cross_keys_read
        claims = set(claim_ids) - self.claims_read
        if not (keys or claims):
            return
        for r in await conn.execute(_POSTED_OPEN, {"cross_keys": sorted(keys), "claim_ids": sorted(claims)}):
            if r.remit_id not in self.open:  # one this transaction posted is known already
                self.posted(Posted(*r))
        if claims:
            self.orphans.update((await conn.execute(_ORPHANS, {"claim_ids": sorted(claims)})).scalars())
        self.cross_keys_read |= keys
        self.claims_read |= claims

    def may_wait(self, claim_id: str) -> bool:
        """Whether a reversal may be waiting on ``claim_id`` (True when its claim was not read)."""
        return claim_id not in self.claims_read or claim_id in self.orphans

    def orphaned(self, claim_id: str) -> None:
        """A reversal on ``claim_id`` now waits for the claim payment it takes back."""
        self.orphans.add(claim_id)

    def covers(self, cross_key: str, claim_id: str | None) -> bool:
        """Whether ``repeated`` can answer for this key and claim (``None``: by key alone)."""
        return cross_key in self.cross_keys_read and (claim_id is None or claim_id in self.claims_read)

    def repeated(self, remit_id: str, cross_key: str, same: Posted | None) -> list[Posted]:
        """The open claim payments other than ``remit_id`` with the key ``cross_key`` or, when
        ``same`` is given, with its claim, status and amounts."""
        ids = [*self.by_key.get(cross_key, ())]
        if same is not None and same.claim_id is not None:
            ids += self.by_claim.get(same.claim_id, ())
        out = []
        for rid in dict.fromkeys(ids):
            p = self.open.get(rid)
            if p is None or rid == remit_id:
                continue
            if p.cross_key == cross_key or (
                same is not None
                and p.claim_id == same.claim_id
                and p.status == same.status
                and p.charge == same.charge
                and p.paid == same.paid
                and p.patient_responsibility == same.patient_responsibility
            ):
                out.append(p)
        return out

    def on_claim(self, claim_id: str) -> list[Posted] | None:
        """The open claim payments of ``claim_id`` (None when they were not read)."""
        if claim_id not in self.claims_read:
            return None
        return [self.open[r] for r in dict.fromkeys(self.by_claim.get(claim_id, ())) if r in self.open]

    def posted(self, row: Posted) -> None:
        """``row`` is posted (now, or found so)."""
        self.open[row.remit_id] = row
        self.by_key.setdefault(row.cross_key, []).append(row.remit_id)
        if row.claim_id is not None:
            self.by_claim.setdefault(row.claim_id, []).append(row.remit_id)

    def reversed(self, remit_id: str) -> None:
        """The claim payment ``remit_id`` has been reversed: it is no longer repeated."""
        self.open.pop(remit_id, None)


def claim_index(tx: Transaction) -> ClaimIndex:
    """The transaction's claim index (made on first use)."""
    return tx.memo_of(ClaimIndex)


def posted_index(tx: Transaction) -> PostedIndex:
    """The transaction's index of open claim payments (made on first use)."""
    return tx.memo_of(PostedIndex)


def line_ids(tx: Transaction) -> LineIds:
    """The transaction's pool of ``posted_line`` ids (made on first use)."""
    return tx.memo_of(LineIds)
