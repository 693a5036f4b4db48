"""Typed rows: what a read model's query answers, one Struct per shape of row.

A query function returns plain rows (dicts) as the database gives them; the read side
turns them into these types, so that every answer is described (OpenAPI) and a column a
query returns but its type forgot fails at once instead of vanishing from the answer."""

from __future__ import annotations

import msgspec


class Row(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A row of a read model as a query answers it."""
