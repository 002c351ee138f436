"""PostgreSQL ``INSERT ... ON CONFLICT`` statements in SQLAlchemy's compiled-statement cache.

SQLAlchemy 2.0 leaves the PostgreSQL ``Insert`` out of its statement cache (the class sets
``inherit_cache = False`` and its ON CONFLICT clauses describe no cache key), so every
``pg_insert(...)`` is compiled again on every execution: about a third of a millisecond of
CPU each, and the services run one or more per event. This module gives those classes
the cache key the rest of SQLAlchemy's statements have:

- the ON CONFLICT target (constraint name, index columns, index predicate) and, for
  DO UPDATE, the SET list (column and expression, in order) and its WHERE clause are
  part of the key; the values of the VALUES clause stay bound parameters as in any INSERT;
- a DO UPDATE whose SET list holds a plain Python value (``set_={"status": "held"}``)
  keeps no cache key, as before: SQLAlchemy turns such a value into a bound parameter only
  while compiling, so a cached statement would carry the first value into later ones.
  Write ``sa.literal(value)`` or ``excluded.column`` to have such a statement cached.

:func:`enable` runs when ``rcm.servicekit`` is imported; it is idempotent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import dml as pg_dml
from sqlalchemy.sql.cache_key import NO_CACHE, HasCacheKey
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["enable"]

_TARGET = [
    ("constraint_target", InternalTraversal.dp_string),
    ("inferred_target_elements", InternalTraversal.dp_multi_list),
    ("inferred_target_whereclause", InternalTraversal.dp_clauseelement),
]
_UPDATE = [
    *_TARGET,
    ("update_values_to_set", InternalTraversal.dp_dml_ordered_values),
    ("update_whereclause", InternalTraversal.dp_clauseelement),
]


def _do_update_cache_key(self: Any, anon_map: Any, bindparams: Any) -> Any:
    if any(not isinstance(value, ClauseElement) for _, value in self.update_values_to_set):
        anon_map[NO_CACHE] = True  # a plain value in SET: compiled each time, as SQLAlchemy does
        return None
    return HasCacheKey._gen_cache_key(self, anon_map, bindparams)


def enable() -> None:
    """Give the PostgreSQL Insert and its ON CONFLICT clauses a cache key (once per process)."""
    if getattr(pg_dml.Insert, "_rcm_cached", False):
        return
    for cls, internals in (
        (pg_dml.OnConflictDoNothing, _TARGET),
        (pg_dml.OnConflictDoUpdate, _UPDATE),
    ):
        cls._traverse_internals = internals
        _forget_dispatch(cls)
    pg_dml.OnConflictDoUpdate._gen_cache_key = _do_update_cache_key  # type: ignore[method-assign]
    pg_dml.Insert.inherit_cache = True
    _forget_dispatch(pg_dml.Insert)
    pg_dml.Insert._rcm_cached = True  # type: ignore[attr-defined]


def _forget_dispatch(cls: type) -> None:
    """Drop a cache-key dispatcher SQLAlchemy made before :func:`enable` (it would say no cache)."""
    if "_generated_cache_key_traversal" in cls.__dict__:
        delattr(cls, "_generated_cache_key_traversal")
