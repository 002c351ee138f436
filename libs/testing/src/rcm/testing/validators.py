"""pyx12 as an independent X12 validator for tests (it keeps the implementation guides as data).

pyx12 comes with the workspace's development dependencies; it is imported when used.
"""

from __future__ import annotations

import io
import logging

__all__ = ["pyx12_errors"]


def pyx12_errors(text: str) -> list[str]:
    """What pyx12 reports at ERROR level for the interchange ``text`` (no 999 is written: pyx12
    cannot write one for an 835, whose ST03 is not used)."""
    import pyx12.params
    import pyx12.x12n_document

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("pyx12")
    handler = Collect(level=logging.ERROR)
    level, disabled = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    logger.disabled = False
    try:
        valid = pyx12.x12n_document.x12n_document(pyx12.params.ParamsUnix(), io.StringIO(text), None, None)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    return messages if valid else [*messages, "pyx12 reports the interchange invalid"]
