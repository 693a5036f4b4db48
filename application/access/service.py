"""Users, roles, positions; sign-in and the caller behind a bearer token."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from application.caller import READ_ONLY_ROLES, SYSTEM, Caller
from application.access.commands import (
    AssignPosition,
    ChangePassword,
    ChangePositionCompanies,
    CreatePosition,
    CreateUser,
    GrantRole,
    PositionChanged,
    PositionCreated,
    RevokeRole,
    UnassignPosition,
    UserChanged,
    UserCreated,
)
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from domain import ids
from domain.access import Permission, Position, Role, Scope, User
from domain.base import DomainError, InvalidValueError
from domain.commands import IdempotencyKeyReusedError
from domain.organisation import Company

ADMIN_USERNAME = "admin"
WHOLE_GROUP_POSITION = "Whole group"


class AuthenticationError(DomainError):
    """No valid sign-in: a missing, expired or revoked token, or wrong credentials."""

    code = "unauthenticated"


class WrongPasswordError(InvalidValueError):
    """The current password given to change it is wrong (the caller is signed in)."""

    code = "invalid-credentials"


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: int
    user_id: UUID


class AccessService:
    def __init__(self, runner: CommandRunner, token_secret: str, token_ttl_seconds: int = 12 * 3600,
                 hasher: PasswordHasher | None = None) -> None:
        self.runner = runner
        self.token_secret = token_secret
        self.token_ttl_seconds = token_ttl_seconds
        # argon2id at OWASP's 19 MiB / 2 passes / 1 lane, which OWASP rates as strong as its
        # 46 MiB / 1 pass: the library's default (64 MiB, 4 lanes) made each sign-in hold 64 MiB
        # and pushed an API process past 150 MB. Hashes keep their own parameters, so the
        # passwords hashed before still verify.
        self.hasher = hasher or PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self._dummy_hash = self.hasher.hash(secrets.token_hex(8))

    # ------------------------------------------------------------ sign-in
    def login(self, username: str, password: str) -> Token:
        user = None
        try:
            user = self.runner.find(ids.user_id(User.check_username(username)), User)
        except InvalidValueError:
            pass
        try:
            # Verify against a dummy hash for unknown users so that timing does not tell them apart.
            self.hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None:
            raise AuthenticationError("Wrong user name or password.", code="invalid-credentials")
        expires_at = int(time.time()) + self.token_ttl_seconds
        token = jwt.encode({"sub": str(user.id), "cv": user.credentials_version, "exp": expires_at},
                           self.token_secret, algorithm="HS256")
        return Token(token, expires_at, user.id)

    def authenticate(self, bearer_token: str) -> Caller:
        """The caller behind a token, with the roles and positions they hold now:
        a revoked role or position takes effect on the next request."""
        try:
            claims = jwt.decode(bearer_token, self.token_secret, algorithms=["HS256"],
                                options={"require": ["sub", "exp", "cv"]})
            user_id = UUID(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError):
            raise AuthenticationError("The sign-in token is missing, expired or invalid; sign in again.") from None
        user = self.runner.find(user_id, User)
        if user is None or user.credentials_version != claims["cv"]:
            raise AuthenticationError("The sign-in token is no longer valid; sign in again.")
        return self.caller_of(user)

    def caller_of(self, user: User) -> Caller:
        # An auditor and nothing else reads across every company (and may change nothing).
        scope = Scope(all_companies=True) if user.roles == READ_ONLY_ROLES else self.scope_of(user)
        return Caller(user.id, user.username, user.permissions, scope, user.roles)

    def scope_of(self, user: User) -> Scope:
        scope = Scope()
        for position_id in user.position_ids:
            position = self.runner.find(position_id, Position)
            if position is not None:
                scope = scope.union(position.scope)
        return scope

    # ------------------------------------------------------------ first start
    def ensure_administrator(self, password: str | None) -> str | None:
        """Creates the first administrator if there is none. Returns the generated
        password when none was given (to be printed once), else None."""
        if self.runner.find(ids.user_id(ADMIN_USERNAME), User) is not None:
            return None
        generated = None if password else secrets.token_urlsafe(12)
        if self.runner.find(ids.position_id(WHOLE_GROUP_POSITION), Position) is None:
            self.runner.execute(SYSTEM, CreatePosition(name=WHOLE_GROUP_POSITION, company_ids=[],
                                                       all_companies=True), "bootstrap:position")
        try:
            result = self.runner.execute(SYSTEM, CreateUser(
                username=ADMIN_USERNAME, display_name="Administrator", password=password or generated or "",
                roles=[Role.ADMINISTRATOR], position_ids=[ids.position_id(WHOLE_GROUP_POSITION)]),
                "bootstrap:admin")
        except IdempotencyKeyReusedError:
            # Another process, with another generated password, created it at the same instant.
            return None
        # Another process may have created the administrator at the same instant.
        return None if result.replayed else generated

    # ------------------------------------------------------------ commands
    @handles(CreateUser, permission=Permission.MANAGE_USERS)
    def create_user(self, ctx: CommandContext, cmd: CreateUser) -> Outcome:
        self._check_password(cmd.password)
        user = User.create(ctx.meta, cmd.username, cmd.display_name, self.hasher.hash(cmd.password))
        if ctx.find(User, user.id):
            raise user.refuse_second_creation()
        for role in dict.fromkeys(cmd.roles):
            user.grant_role(ctx.meta, role)
        for position_id in dict.fromkeys(cmd.position_ids):
            user.assign_position(ctx.meta, ctx.load(Position, position_id, f"Position {position_id}"))
        return ctx.save(user, answer=UserCreated(user_id=user.id, username=user.username))

    @handles(GrantRole, permission=Permission.MANAGE_USERS)
    def grant_role(self, ctx: CommandContext, cmd: GrantRole) -> Outcome:
        user = ctx.load(User, cmd.user_id, f"User {cmd.user_id}")
        user.grant_role(ctx.meta, cmd.role)
        return ctx.save(user, answer=UserChanged(user_id=user.id))

    @handles(RevokeRole, permission=Permission.MANAGE_USERS)
    def revoke_role(self, ctx: CommandContext, cmd: RevokeRole) -> Outcome:
        user = ctx.load(User, cmd.user_id, f"User {cmd.user_id}")
        user.revoke_role(ctx.meta, cmd.role)
        return ctx.save(user, answer=UserChanged(user_id=user.id))

    @handles(AssignPosition, permission=Permission.MANAGE_USERS)
    def assign_position(self, ctx: CommandContext, cmd: AssignPosition) -> Outcome:
        user = ctx.load(User, cmd.user_id, f"User {cmd.user_id}")
        user.assign_position(ctx.meta, ctx.load(Position, cmd.position_id, f"Position {cmd.position_id}"))
        return ctx.save(user, answer=UserChanged(user_id=user.id))

    @handles(UnassignPosition, permission=Permission.MANAGE_USERS)
    def unassign_position(self, ctx: CommandContext, cmd: UnassignPosition) -> Outcome:
        user = ctx.load(User, cmd.user_id, f"User {cmd.user_id}")
        user.unassign_position(ctx.meta, cmd.position_id)
        return ctx.save(user, answer=UserChanged(user_id=user.id))

    @handles(ChangePassword)
    def change_password(self, ctx: CommandContext, cmd: ChangePassword) -> Outcome:
        """A user changes their own password; tokens issued before stop working.
        The current password is checked inside the command, so that a retry of a
        change that went through (whose current password is now the old one) is
        answered from its idempotency record instead of refused."""
        self._check_password(cmd.new_password)
        me = ctx.load(User, ctx.caller.user_id, "User")
        try:
            self.hasher.verify(me.password_hash, cmd.current_password)
        except (VerificationError, InvalidHashError):
            raise WrongPasswordError("The current password is wrong.", field="current_password") from None
        me.change_password(ctx.meta, self.hasher.hash(cmd.new_password))
        return ctx.save(me, answer=UserChanged(user_id=me.id))

    @handles(CreatePosition, permission=Permission.MANAGE_USERS)
    def create_position(self, ctx: CommandContext, cmd: CreatePosition) -> Outcome:
        for company_id in cmd.company_ids:
            ctx.load(Company, company_id, f"Company {company_id}")
        position = Position.create(ctx.meta, cmd.name, cmd.company_ids, cmd.all_companies)
        if ctx.find(Position, position.id):
            raise position.refuse_second_creation()
        return ctx.save(position, answer=PositionCreated(position_id=position.id, name=position.name))

    @handles(ChangePositionCompanies, permission=Permission.MANAGE_USERS)
    def change_position_companies(self, ctx: CommandContext, cmd: ChangePositionCompanies) -> Outcome:
        for company_id in cmd.company_ids:
            ctx.load(Company, company_id, f"Company {company_id}")
        position = ctx.load(Position, cmd.position_id, f"Position {cmd.position_id}")
        position.change_companies(ctx.meta, cmd.company_ids, cmd.all_companies)
        return ctx.save(position, answer=PositionChanged(position_id=position.id))

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < 8:
            raise InvalidValueError("A password has at least 8 characters.", field="password")
        if len(password) > 200:
            raise InvalidValueError("A password has at most 200 characters.", field="password")
