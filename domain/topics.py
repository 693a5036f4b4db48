"""Stored topics that no longer match a class's module:qualname.

The event store keeps each event's topic (``module:QualName``). When an
aggregate or event class is moved or renamed, register its old topic here so
that history stays readable, e.g.::

    register_topic("domain.machines:MachineUnit.Received", MachineUnit.Received)

``tests/unit/test_event_topics.py`` pins the topic of every event class, so a
move that forgets this fails the tests before it reaches a database.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic  # noqa: F401  (used when a class moves)

# Nothing has moved yet.
