"""What the payers remember between runs: their claims, accumulators, duplicates and numbering.

A real payer keeps every claim it adjudicated under its payer claim number (ICN): the claim
with its lines, the outcome (CLP02, adjustments per line), what was paid, and whether it was
later replaced (frequency 7) or voided (frequency 8). The sandbox keeps the same in one SQLite
file in its state directory (``payer-records.sqlite3``), so a sandbox restarted on that
directory still finds the original of a corrected or void claim and answers a 276 for a claim
adjudicated before the restart. Without a path the records live in memory (one run).

Writes go into one open transaction; ``commit`` ends it (the payer office commits once per
batch, after the batch's answers are decided).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

from pydantic import TypeAdapter

from rcm.sandbox.engine.adjudication import Accumulators
from rcm.sandbox.engine.model import ClaimAdjudication

__all__ = ["RECORDS_FILE", "ClaimRecord", "PayerRecords"]

RECORDS_FILE: Final = "payer-records.sqlite3"

#: open: the claim's current adjudication; replaced by a frequency 7; voided by a frequency 8.
ClaimState = Literal["open", "replaced", "voided"]

_ADJUDICATION = TypeAdapter(ClaimAdjudication)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    icn TEXT NOT NULL UNIQUE,
    payer_id TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    status TEXT NOT NULL,
    charge TEXT NOT NULL,
    paid TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    adjudication TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accumulators (
    payer_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    deductible_met TEXT NOT NULL,
    visits_used INTEGER NOT NULL,
    PRIMARY KEY (payer_id, member_id)
);
CREATE TABLE IF NOT EXISTS fingerprints (fingerprint TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """One adjudicated claim as stored, in the order the payer adjudicated them."""

    icn: str
    payer_id: str
    claim_id: str
    state: ClaimState
    adjudication: ClaimAdjudication


class PayerRecords:
    """The payer office's memory, in one SQLite file (or in memory without a path)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path) if path is not None else ":memory:")
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def commit(self) -> None:
        self._db.commit()

    # ------------------------------------------------------------------ reading (at start-up)

    def claims(self) -> Iterator[ClaimRecord]:
        rows = self._db.execute(
            "SELECT icn, payer_id, claim_id, state, adjudication FROM claims ORDER BY seq"
        )
        for icn, payer_id, claim_id, state, adjudication in rows:
            yield ClaimRecord(icn, payer_id, claim_id, state, _ADJUDICATION.validate_json(adjudication))

    def accumulators(self) -> dict[tuple[str, str], Accumulators]:
        rows = self._db.execute("SELECT payer_id, member_id, deductible_met, visits_used FROM accumulators")
        return {(p, m): Accumulators(Decimal(met), used) for p, m, met, used in rows}

    def fingerprints(self) -> set[str]:
        return {fp for (fp,) in self._db.execute("SELECT fingerprint FROM fingerprints")}

    def counter(self, name: str, default: int) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else default

    # ------------------------------------------------------------------ writing

    def save_claim(self, result: ClaimAdjudication) -> None:
        """Store a claim's adjudication under its ICN (a re-adjudication replaces the outcome)."""
        self._db.execute(
            """INSERT INTO claims (icn, payer_id, claim_id, status, charge, paid, adjudication)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (icn) DO UPDATE SET status = excluded.status, charge = excluded.charge,
                   paid = excluded.paid, state = 'open', adjudication = excluded.adjudication""",
            (
                result.icn,
                result.claim.payer_id,
                result.claim.claim_id,
                result.status,
                str(result.charge),
                str(result.paid),
                _ADJUDICATION.dump_json(result).decode(),
            ),
        )

    def close_claim(self, icn: str, state: ClaimState) -> None:
        self._db.execute("UPDATE claims SET state = ? WHERE icn = ?", (state, icn))

    def save_accumulators(self, payer_id: str, member_id: str, acc: Accumulators) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO accumulators VALUES (?, ?, ?, ?)",
            (payer_id, member_id, str(acc.deductible_met), acc.visits_used),
        )

    def add_fingerprint(self, fingerprint: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO fingerprints VALUES (?)", (fingerprint,))

    def set_counter(self, name: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
