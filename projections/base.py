"""What a read model is: tables, and how each event changes them.

A ``Projection`` never opens a transaction nor decides a position: the runner
gives it a cursor inside the transaction that also advances the read model's
position. It only turns events into SQL on that cursor.

Events are dispatched by class, never by the text of their stored topic: a
stored topic is resolved (``eventsourcing.utils.resolve_topic``, which knows the
old topics registered in ``domain/topics.py`` when a class moves) once per topic
string, and the handler found for the resolved class is kept in a dict keyed by
that string, so each event costs one dict lookup.

Tables are written with type placeholders (``{uuid}``, ``{money}``, …) so the
same DDL serves SQLite and PostgreSQL. A new table layout is a new ``version``:
the runner drops the tables and rebuilds them from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

from eventsourcing.utils import TopicError, _topic_cache, _topic_cache_lock, resolve_topic

import domain.topics  # noqa: F401  (registers the old topics of moved classes wherever read models run)
from domain.access import Scope

Handler = Callable[[Any, Any], None]


class Projection:
    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[str, ...]]
    ddl: ClassVar[tuple[str, ...]]   # CREATE TABLE / INDEX statements with type placeholders

    def __init__(self) -> None:
        # The classes named in ``@handles``, by class object and by text. The library redefines
        # an aggregate's nested event classes, so one topic can stand for two class objects (the
        # redefined one subclasses the original): a class matches a declared one by identity or
        # by its ``module:qualname`` text.
        self._declared: dict[type, Handler] = {}
        self._declared_names: dict[str, Handler] = {}
        for attr in dir(type(self)):
            event_classes = getattr(getattr(type(self), attr, None), "_handles", ())  # not self's properties
            method = getattr(self, attr) if event_classes else None
            for event_class in event_classes:
                self._declared[event_class] = method
                self._declared_names[_name(event_class)] = method
        # Stored topic string -> its handler (None: not applied here). Filled as topics are met.
        self._by_topic: dict[str, Handler | None] = {}

    # ------------------------------------------------------------ dispatch
    def handler(self, topic: str) -> Handler | None:
        """The method applying events stored under ``topic``, or None. One dict lookup once the
        topic has been met; the first time, the topic is resolved to its class."""
        try:
            return self._by_topic[topic]
        except KeyError:
            found = self._by_topic[topic] = self._for_class(_resolve(topic))
            return found

    def handles(self, topic: str) -> bool:
        return self.handler(topic) is not None

    def apply(self, cur: Any, event: Any, topic: str | None = None) -> None:
        """Applies ``event`` (stored under ``topic``; without it, dispatched by the event's class)."""
        found = self.handler(topic) if topic is not None else self._for_class(type(event))
        if found is None:
            raise KeyError(topic or _name(type(event)))
        found(cur, event)

    def _for_class(self, cls: Any) -> Handler | None:
        """The handler of the nearest class in ``cls``'s MRO declared with ``@handles`` (a handler
        of a base event, e.g. ``ApprovalRequested``, applies every document's own subclass of it,
        ``Contract.SubmittedForApproval``; one declared for the subclass itself comes first)."""
        if not isinstance(cls, type):
            return None
        for klass in cls.__mro__:
            found = self._declared.get(klass) or self._declared_names.get(_name(klass))
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------ which topics
    @property
    def topics(self) -> frozenset[str]:
        """Every topic string known now to stand for an event this read model applies: each
        class's own topic (the declared classes and their subclasses) and every old topic
        registered for one of them, directly or under a registered old module or aggregate topic
        (``eventsourcing.utils._topic_cache``). For reports and tests: the log is never filtered
        by it, since a topic registered later still resolves when the runner meets it."""
        classes: list[type] = []
        for declared in self._declared:
            classes.extend(c for c in _with_subclasses(declared) if c not in classes)
        found = {_name(c) for c in classes}
        found.update(topic for topic, h in list(self._by_topic.items()) if h is not None)
        with _topic_cache_lock:
            registered = list(_topic_cache.items())
        candidates: set[str] = set()
        for topic, obj in registered:
            if isinstance(obj, type) and self._for_class(obj) is not None:
                found.add(topic)
            candidates.update(_aliases_under(topic, obj, classes))
        for topic in candidates - found:
            try:
                if self._for_class(resolve_topic(topic)) is not None:
                    found.add(topic)
            except TopicError:
                continue
        return frozenset(found)


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(topic: str) -> Any:
    try:
        return resolve_topic(topic)
    except TopicError as error:
        raise TopicError(f"stored topic {topic!r} resolves to no class: a class was moved or renamed without "
                         "registering its old topic in domain/topics.py (read models stop here rather than skip "
                         f"its events): {error}") from error


def _aliases_under(topic: str, obj: Any, classes: list[type]) -> list[str]:
    """The topics ``resolve_topic`` finds under a registered prefix: an old module (or package)
    name registered for a module, or an old class topic registered for an aggregate class."""
    if isinstance(obj, ModuleType) and ":" not in topic:
        module = obj.__name__
        return [f"{topic}{c.__module__[len(module):]}:{c.__qualname__}" for c in classes
                if c.__module__ == module or c.__module__.startswith(module + ".")]
    if isinstance(obj, type) and ":" in topic:
        prefix = obj.__qualname__ + "."
        return [topic + c.__qualname__[len(obj.__qualname__):] for c in classes
                if c.__module__ == obj.__module__ and c.__qualname__.startswith(prefix)]
    return []


def _with_subclasses(cls: type) -> list[type]:
    """A declared class and every subclass of it defined now (their topics are a read model's)."""
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(c for c in _with_subclasses(sub) if c not in found)
    return found


def handles(*event_classes: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Marks a projection method as the one applying these event classes."""
    def mark(method: Callable[..., None]) -> Callable[..., None]:
        method._handles = event_classes  # type: ignore[attr-defined]
        return method
    return mark


def scope_filter(scope: Scope, column: str) -> tuple[str, list[Any]]:
    """The one place where reads apply a caller's data scope: an SQL condition
    keeping only rows of the companies the caller sees."""
    if scope.all_companies:
        return "1 = 1", []
    if not scope.companies:
        return "1 = 0", []
    companies = sorted(scope.companies)
    return f"{column} IN ({', '.join(['%s'] * len(companies))})", list(companies)


def visible_filter(scope: Scope, company_column: str, owner_column: str | None = None,
                   own_only: Any = None) -> tuple[str, list[Any]]:
    """Data scope plus, for a salesperson who sees only their own (``own_only`` is
    their user id), the owner condition."""
    where, params = scope_filter(scope, company_column)
    if owner_column and own_only is not None:
        where += f" AND {owner_column} = %s"
        params.append(own_only)
    return where, params


def like_contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, with its own wildcards taken literally (ESCAPE '!')."""
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    return page_size, (page - 1) * page_size
