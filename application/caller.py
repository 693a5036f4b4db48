"""Who is calling: the identity, what they may do, which companies they see."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.access import Permission, Scope
from domain.base import PermissionDeniedError

# The actor of facts the system records by itself (first administrator, demo data).
SYSTEM_ACTOR = UUID("00000000-0000-5000-8000-000000000001")


@dataclass(frozen=True)
class Caller:
    user_id: UUID
    username: str
    permissions: frozenset[Permission]
    scope: Scope

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDeniedError(
                f"Your roles do not allow this ({permission}). Ask an administrator for the role that does.",
                permission=str(permission))

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


SYSTEM = Caller(SYSTEM_ACTOR, "system", frozenset(Permission), Scope(all_companies=True))
