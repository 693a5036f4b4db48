"""Who is calling: the identity, what they may do, which companies they see."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from domain.access import Permission, Role, Scope
from domain.base import PermissionDeniedError

READ_ONLY_ROLES = frozenset({Role.AUDITOR})
# Commands a read-only caller may still give: about their own sign-in, not the business.
READ_ONLY_MAY = frozenset({"ChangePassword"})

# The actor of facts the system records by itself (first administrator, demo data).
SYSTEM_ACTOR = UUID("00000000-0000-5000-8000-000000000001")


@dataclass(frozen=True)
class Caller:
    user_id: UUID
    username: str
    permissions: frozenset[Permission]
    scope: Scope
    roles: frozenset[Role] = field(default=frozenset())

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDeniedError(
                f"Your roles do not allow this ({permission}). Ask an administrator for the role that does.",
                permission=str(permission))

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def read_only(self) -> bool:
        """An auditor and nothing else: reads the whole group, records nothing (but their password)."""
        return self.roles == READ_ONLY_ROLES

    @property
    def own_sales_only(self) -> bool:
        """A salesperson sees only the customers, contacts and contracts they own;
        clerks, department heads and scopes above see all of their companies'."""
        return Permission.VIEW_ALL_SALES not in self.permissions

    @property
    def own_only(self) -> UUID | None:
        """For reads: the owner every row must have (a salesperson's own id), or None."""
        return self.user_id if self.own_sales_only else None

    def sees(self, company_id: UUID | None, owner_id: UUID | None = None) -> bool:
        """The one rule of data scope: the record's company is in the caller's
        positions, and a record owned by a salesperson is theirs unless the caller
        sees all sales of their companies."""
        if not self.scope.includes(company_id):
            return False
        return owner_id is None or not self.own_sales_only or owner_id == self.user_id


SYSTEM = Caller(SYSTEM_ACTOR, "system", frozenset(Permission), Scope(all_companies=True), frozenset(Role))
