"""The remits applied to each claim (``claim_remit``): each recorded once, read back per claim.

A transaction keeps the parts it read or applied, by claim, so a batch reads every remitted
claim's parts in one query (``load_parts``) and writes the remits it applied in one statement
at its commit; a second remit of the same claim in the batch finds the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from rcm.claims.domain.adjudication import AdjudicatedLine, RemitPart
from rcm.claims.store import claim_remit
from rcm.servicekit import Transaction, among

__all__ = ["applied_parts", "load_parts", "record_part"]

_PARTS = "claims.remit_parts"
_INSERT = pg_insert(claim_remit).on_conflict_do_nothing(constraint="claim_remit_once")


def _memo(tx: Transaction) -> dict[str, list[RemitPart]]:
    found: dict[str, list[RemitPart]] = tx.memo.setdefault(_PARTS, {})
    return found


def _part(row: Any) -> RemitPart:
    return RemitPart(
        remit_id=row.remit_id,
        status=row.status,
        payer_claim_number=row.payer_claim_number,
        paid=row.paid,
        patient_responsibility=row.patient_responsibility,
        contractual=row.contractual,
        refused=row.refused,
        lines=tuple(
            AdjudicatedLine(
                line_key=line["line_key"],
                **{k: Decimal(line[k]) for k in ("paid", "patient_responsibility", "contractual", "refused")},
            )
            for line in row.lines
        ),
    )


async def load_parts(tx: Transaction, claim_ids: Iterable[str]) -> None:
    """Read the applied remits of the claims this transaction has not read yet, in one query."""
    memo = _memo(tx)
    wanted = sorted(set(claim_ids) - memo.keys())
    if not wanted:
        return
    for claim_id in wanted:
        memo[claim_id] = []
    for row in await tx.conn.execute(
        sa.select(claim_remit).where(among(claim_remit.c.claim_id, wanted)).order_by(claim_remit.c.id)
    ):
        memo[row.claim_id].append(_part(row))


async def applied_parts(tx: Transaction, claim_id: str) -> list[RemitPart]:
    """The remits applied to the claim, in the order they were applied."""
    await load_parts(tx, [claim_id])
    return list(_memo(tx)[claim_id])


def record_part(tx: Transaction, claim_id: str, part: RemitPart, *, payment_date: date, at: datetime) -> None:
    """Record ``part`` as applied to the claim (written with the transaction's commit); the
    caller read the claim's parts first (``applied_parts``) and found it not yet among them."""
    _memo(tx).setdefault(claim_id, []).append(part)
    tx.insert_later(
        _INSERT,
        {
            "claim_id": claim_id,
            "remit_id": part.remit_id,
            "status": part.status,
            "payer_claim_number": part.payer_claim_number,
            "paid": part.paid,
            "patient_responsibility": part.patient_responsibility,
            "contractual": part.contractual,
            "refused": part.refused,
            "lines": [
                {
                    "line_key": line.line_key,
                    "paid": str(line.paid),
                    "patient_responsibility": str(line.patient_responsibility),
                    "contractual": str(line.contractual),
                    "refused": str(line.refused),
                }
                for line in part.lines
            ],
            "payment_date": payment_date,
            "applied_at": at,
        },
    )
