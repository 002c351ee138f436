"""A service task: claim payments that arrived before their claim are posted once it is known."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from rcm.remittance.ingest import rematch_waiting
from rcm.remittance.metrics import RemitMetrics
from rcm.remittance.sftp_polling import Task
from rcm.servicekit import Service

__all__ = ["rematcher"]

log = logging.getLogger(__name__)


def rematcher(*, interval_s: float, metrics: RemitMetrics, cut_lengths: Sequence[int]) -> Task:
    """A ``service.add_task`` loop: every ``interval_s``, post the waiting claim payments it can."""

    async def run(service: Service, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                posted = 1
                while posted and not stop.is_set():  # drain in bounded transactions
                    async with service.transaction() as tx:
                        posted = await rematch_waiting(tx, metrics=metrics, cut_lengths=cut_lengths)
            except Exception:
                log.exception("matching waiting claim payments failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)

    return run
