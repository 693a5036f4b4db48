"""Everything random or clock-dependent in a recorded command, made deterministic.

What varies between two runs of the same commands, and how it is fixed here:

- **ids** (``uuid.uuid4``): replaced by a seeded generator, in ``uuid`` itself and in *every
  loaded module* that holds a reference to it (``from uuid import uuid4``), found by scanning
  ``sys.modules`` for attributes that *are* the original function. The scan does not name any
  module of the product, so it survives modules being renamed or moved.
- **event timestamps**: eventsourcing 9.5.6 stamps every event with
  ``eventsourcing.domain.datetime_now_with_tzinfo()`` (``CanCreateTimestamp.create_timestamp``
  calls it; ``eventsourcing.application`` imports it by name). Every module attribute that is
  that function is replaced by a deterministic clock.
- **password hashes**: argon2's ``PasswordHasher.hash`` draws a random salt from
  ``os.urandom``; it is given a salt derived from the password instead (class-level patch,
  so every hasher instance is covered). Hashes are therefore byte-identical and nothing is
  masked. (Token secrets and the administrator's password are fixed through the settings
  the workload uses; bearer tokens themselves are never stored.)
- **the business date**: fixed by the workload (``BackOffice(today=...)``), not here.

The generators are *re-seeded* at two kinds of moments, so that a command that records
nothing (refused, or a retry answered from its idempotency record) cannot shift the ids and
timestamps of every command after it if a refactor makes it draw a different number of ids:

- after every successful ``eventsourcing.application.Application.save`` (class-level wrap;
  any subclass that saves through the library is covered);
- at the start of every HTTP request of the workload (``new_epoch``).

The seed is ``(epoch, saves)``; the clock reads ``T0 + saves`` seconds, so all events of one
command share a timestamp and each command is one second after the one before. Within one
command, ids are drawn in call order: a refactor that reorders the ``uuid4()`` calls inside
one command changes which id goes where, and the byte comparison says so.
"""

from __future__ import annotations

import hashlib
import random
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import eventsourcing.application
import eventsourcing.domain
from argon2 import PasswordHasher

T0 = datetime(2026, 5, 11, 1, 0, 0, tzinfo=timezone.utc)   # 09:00 at the dealer's UTC+8


class Determinism:
    def __init__(self, label: str = "ironledger-golden") -> None:
        self.label = label
        self.epoch = 0
        self.saves = 0
        self.draws = 0
        self._random = random.Random()
        self._reseed()
        self._patched: list[tuple[Any, str, Any]] = []
        self.original_uuid4 = uuid.uuid4
        self.original_now = eventsourcing.domain.datetime_now_with_tzinfo

    # ------------------------------------------------------------ the generators
    def _reseed(self) -> None:
        seed = hashlib.sha256(f"{self.label}:{self.epoch}:{self.saves}".encode()).digest()
        self._random.seed(int.from_bytes(seed, "big"), version=2)

    def uuid4(self) -> uuid.UUID:
        self.draws += 1
        return uuid.UUID(int=self._random.getrandbits(128), version=4)

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.saves)

    def new_epoch(self) -> None:
        """A new HTTP request of the workload begins."""
        self.epoch += 1
        self._reseed()

    def saved(self) -> None:
        self.saves += 1
        self._reseed()

    # ------------------------------------------------------------ patching
    def _set(self, owner: Any, name: str, value: Any) -> None:
        self._patched.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def scan(self) -> int:
        """Replaces every module-level reference to the real ``uuid4`` and event clock that
        is not replaced yet (modules imported since the last scan). Answers how many."""
        replaced = 0
        targets = {id(self.original_uuid4): self.uuid4, id(self.original_now): self.now}
        for module in list(sys.modules.values()):
            if module is None or module is sys.modules.get(__name__):
                continue
            try:
                names = list(vars(module).items())
            except TypeError:
                continue
            for name, value in names:
                replacement = targets.get(id(value))
                if replacement is not None and (value is self.original_uuid4 or value is self.original_now):
                    self._set(module, name, replacement)
                    replaced += 1
        return replaced

    def leftovers(self) -> list[str]:
        """Modules that still hold the real ``uuid4`` or clock (imported after the last scan)."""
        found = []
        for module_name, module in list(sys.modules.items()):
            if module is None or module_name == __name__:
                continue
            try:
                values = list(vars(module).items())
            except TypeError:
                continue
            found += [f"{module_name}.{n}" for n, v in values if v is self.original_uuid4 or v is self.original_now]
        return found

    def install(self) -> None:
        determinism = self
        original_save = eventsourcing.application.Application.save

        def save(app: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_save(app, *args, **kwargs)
            determinism.saved()
            return result

        save.__wrapped__ = original_save  # type: ignore[attr-defined]
        self._set(eventsourcing.application.Application, "save", save)

        original_hash = PasswordHasher.hash

        def hash_(hasher: PasswordHasher, password: str | bytes, *, salt: bytes | None = None) -> str:
            secret = password.encode() if isinstance(password, str) else password
            fixed = hashlib.sha256(b"ironledger-golden-salt\0" + secret).digest()[:hasher.salt_len]
            return original_hash(hasher, password, salt=salt or fixed)

        self._set(PasswordHasher, "hash", hash_)
        self.scan()

    def uninstall(self) -> None:
        while self._patched:
            owner, name, value = self._patched.pop()
            setattr(owner, name, value)


@contextmanager
def deterministic(label: str = "ironledger-golden") -> Iterator[Determinism]:
    """Ids, event timestamps and password salts made deterministic for the block."""
    determinism = Determinism(label)
    determinism.install()
    try:
        yield determinism
    finally:
        determinism.uninstall()
