"""Stored topics that no longer match a class's module:qualname.

The event store keeps each event's topic (``module:QualName``), and keeps it as
written: the hash chain (``projections/audit.py``) seals the topic's text, so a
move never rewrites stored topics. When an aggregate or event class is moved or
renamed, register its old topic here so that history stays readable, e.g.::

    register_topic("domain.machines:MachineUnit.Received", MachineUnit.Received)

Register the aggregate's old topic too (every creation event stores it as
``originator_topic``). ``resolve_topic`` also resolves under a registered prefix:
an old aggregate topic covers the old topics of its nested events
(``register_topic("domain.machines:MachineUnit", MachineUnit)``), and an old
module name registered for the module covers everything that was in it.

Registering is all a move needs. The event store resolves stored topics through
these registrations, and read models dispatch by the class a stored topic
resolves to, never by its text (``projections/base.py``): a rebuild applies the
events stored under the old topic exactly as those under the new one. A stored
topic that resolves to no class stops the read models with a ``TopicError``
naming this file rather than being skipped.

This module is imported by ``projections.base`` (so by every process that runs
read models) and by the tests. ``tests/unit/test_event_topics.py`` pins the
topic of every event class, so a move that forgets this fails the tests before
it reaches a database.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic  # noqa: F401  (used when a class moves)

# Nothing has moved yet.
