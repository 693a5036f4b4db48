"""Sign-in, users and positions over HTTP."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Router, get, post
from litestar.params import JSONBody
from msgspec import Meta

from application.access.commands import (
    AssignPosition,
    ChangePassword,
    ChangePositionCompanies,
    CreatePosition,
    CreateUser,
    GrantRole,
    RevokeRole,
    UnassignPosition,
)
from application.reading import ScopeRule, list_of, listed
from domain.access import Permission
from interfaces.http.kit import CallerDep, OfficeDep, ReaderDep, command_endpoint, reads
from projections import access_directory
from projections.access_directory import PositionRow, UserRow

DIRECTORY = reads("access_directory", Permission.MANAGE_USERS, ScopeRule.GROUP)


class Credentials(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=60)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]


class SignedIn(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_at: int
    user_id: UUID


class Me(msgspec.Struct, kw_only=True):
    user_id: UUID
    username: str
    permissions: list[str]
    all_companies: bool
    company_ids: list[UUID]


@post("/login", operation_id="Login", sync_to_thread=True, security=[{}], exclude_from_auth=True,
      status_code=200, summary="Sign in: exchange user name and password for a bearer token")
def login(data: JSONBody[Credentials], backoffice: OfficeDep) -> SignedIn:
    token = backoffice.access.login(data.username, data.password)
    return SignedIn(access_token=token.access_token, token_type="Bearer", expires_at=token.expires_at,
                    user_id=token.user_id)


@get("/me", operation_id="GetMe", sync_to_thread=True, summary="Who I am, my permissions and my companies")
def get_me(caller: CallerDep) -> Me:
    return Me(user_id=caller.user_id, username=caller.username, permissions=sorted(caller.permissions),
              all_companies=caller.scope.all_companies, company_ids=sorted(caller.scope.companies))


@get("/", operation_id="ListUsers", sync_to_thread=True, opt=DIRECTORY,
     summary="Users with their roles and positions")
def list_users(read: ReaderDep) -> list_of(UserRow):  # type: ignore[valid-type]
    return listed(UserRow, read(access_directory.list_users))


@get("/", operation_id="ListPositions", sync_to_thread=True, opt=DIRECTORY,
     summary="Positions and the companies they grant")
def list_positions(read: ReaderDep) -> list_of(PositionRow):  # type: ignore[valid-type]
    return listed(PositionRow, read(access_directory.list_positions))


ACCESS_ROUTERS: list[Any] = [
    Router("/auth", tags=["access"], route_handlers=[
        login, get_me,
        command_endpoint("/change-password", ChangePassword,
                         "Change my own password (tokens issued before stop working)")]),
    Router("/users", tags=["access"], route_handlers=[
        command_endpoint("/", CreateUser, "Create a user with roles and positions"),
        list_users,
        command_endpoint("/{user_id:uuid}/grant-role", GrantRole, "Grant a role"),
        command_endpoint("/{user_id:uuid}/revoke-role", RevokeRole, "Revoke a role"),
        command_endpoint("/{user_id:uuid}/assign-position", AssignPosition,
                         "Give a user a position (the companies whose data they see)"),
        command_endpoint("/{user_id:uuid}/unassign-position", UnassignPosition, "Take a position from a user")]),
    Router("/positions", tags=["access"], route_handlers=[
        command_endpoint("/", CreatePosition, "Create a position granting some companies, or the whole group"),
        list_positions,
        command_endpoint("/{position_id:uuid}/change-companies", ChangePositionCompanies,
                         "Change which companies a position grants")]),
]
