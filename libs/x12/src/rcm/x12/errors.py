"""Errors of the X12 engine.

``X12Error`` is the one exception type the library raises on bad input; callers
that feed it untrusted files catch only this.
"""

from __future__ import annotations

__all__ = ["X12Error"]


class X12Error(Exception):
    """Bad X12 input or a model that cannot be written as valid X12."""
