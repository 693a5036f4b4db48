"""The read side: read models kept by their runners, and the freshness a query asks for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from application.caller import Caller
from application.reading import Reader, ReadModelBehindError, Reads
from domain.base import InvalidValueError
from interfaces.persistence.runner import ProjectionRunner
from interfaces.persistence.views import ViewDatabase


class ReadSide:
    def __init__(self, views: ViewDatabase, runners: Mapping[str, ProjectionRunner],
                 last_position: Callable[[], int | None], wait_seconds: float) -> None:
        self.views = views
        self.runners = runners
        self.last_position = last_position
        self.wait_seconds = wait_seconds

    def read(self) -> AbstractContextManager[Any]:
        return self.views.read()

    def wait_for(self, read_model: str, position: int | None) -> bool:
        if not position:
            return True
        return self.runners[read_model].wait_for(position, self.wait_seconds)

    def fresh(self, read_model: str, after: int | None) -> None:
        """Waits (bounded) until ``read_model`` has applied the log up to ``after``."""
        if not after or self.runners[read_model].position() >= after:
            return
        if after > (self.last_position() or 0):
            # A position no command has answered yet: waiting for it could only end in "try again".
            raise InvalidValueError(f"No command has been recorded at position {after} yet; send the position a "
                                    "command answered with.", field="after")
        if not self.wait_for(read_model, after):
            raise ReadModelBehindError(
                f"The {read_model} list has not yet caught up with position {after}; try again in a moment.")

    def reader(self, caller: Caller, spec: Reads, after: int | None = None) -> Reader:
        """The one door of every query: its permission, its freshness, the caller's scope."""
        spec.require(caller)
        self.fresh(spec.read_model, after)
        return Reader(caller, spec, self.views.read)
