"""Commands of users, roles and positions, and their answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar
from uuid import UUID

from msgspec import Meta

from application.fields import PLAIN, Password, Username
from application.handling import Answer, Command
from domain.access import Role


class UserCreated(Answer):
    user_id: UUID
    username: str


class UserChanged(Answer):
    user_id: UUID


class PositionCreated(Answer):
    position_id: UUID
    name: str


class PositionChanged(Answer):
    position_id: UUID


class CreateUser(Command):
    """Create a user with roles and positions."""

    answer_type: ClassVar = UserCreated
    creates: ClassVar = True
    username: Username
    display_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    password: Password
    roles: Annotated[list[Role], Meta(max_length=20)] = []
    position_ids: Annotated[list[UUID], Meta(max_length=50)] = []

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"username": self.username, "display_name": self.display_name, "roles": self.roles,
                "position_ids": self.position_ids, "password": digest(self.password)}


class GrantRole(Command):
    """Grant a user a role (what they may do)."""

    answer_type: ClassVar = UserChanged
    user_id: UUID
    role: Role


class RevokeRole(Command):
    """Take a role from a user."""

    answer_type: ClassVar = UserChanged
    user_id: UUID
    role: Role


class AssignPosition(Command):
    """Give a user a position (the member companies whose data they see)."""

    answer_type: ClassVar = UserChanged
    user_id: UUID
    position_id: UUID


class UnassignPosition(Command):
    """Take a position from a user."""

    answer_type: ClassVar = UserChanged
    user_id: UUID
    position_id: UUID


class ChangePassword(Command):
    """Change my own password; tokens issued before stop working."""

    answer_type: ClassVar = UserChanged
    allowed_to_auditors: ClassVar = True
    current_password: Annotated[str, Meta(min_length=1, max_length=200)]
    new_password: Password

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"user_id": caller_id, "new_password": digest(self.new_password)}


class CreatePosition(Command):
    """Create a position granting some member companies, or the whole group."""

    answer_type: ClassVar = PositionCreated
    creates: ClassVar = True
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    company_ids: Annotated[list[UUID], Meta(max_length=500)] = []
    all_companies: bool = False


class ChangePositionCompanies(Command):
    """Change which member companies a position grants."""

    answer_type: ClassVar = PositionChanged
    position_id: UUID
    company_ids: Annotated[list[UUID], Meta(max_length=500)] = []
    all_companies: bool = False
