"""Users, roles, positions; sign-in and the caller behind a bearer token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from application.caller import READ_ONLY_ROLES, SYSTEM, Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission, Position, Role, Scope, User
from domain.base import Context, DomainError, InvalidValueError
from domain.commands import IdempotencyKeyReusedError
from domain.organisation import Company

ADMIN_USERNAME = "admin"
WHOLE_GROUP_POSITION = "Whole group"


class AuthenticationError(DomainError):
    code = "unauthenticated"
    status = 401


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

    def _secret_digest(self, secret: str) -> str:
        """Stands for a password in an idempotency fingerprint: a keyed hash, so the
        same key with another password is told apart, and the stored fingerprint
        reveals nothing that could be tried offline without the server's key."""
        return hmac.new(self.token_secret.encode(), b"password\0" + secret.encode(), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------ first start
    def ensure_administrator(self, password: str | None) -> str | None:
        """Creates the first administrator if there is none. Returns the generated
        password when none was given (to be printed once), else None."""
        if self.runner.find(ids.user_id(ADMIN_USERNAME), User) is not None:
            return None
        generated = None if password else secrets.token_urlsafe(12)
        if self.runner.find(ids.position_id(WHOLE_GROUP_POSITION), Position) is None:
            self.create_position(SYSTEM, WHOLE_GROUP_POSITION, [], all_companies=True,
                                 idempotency_key="bootstrap:position")
        try:
            result = self.create_user(SYSTEM, ADMIN_USERNAME, "Administrator", password or generated or "",
                                      roles=[Role.ADMINISTRATOR],
                                      position_ids=[ids.position_id(WHOLE_GROUP_POSITION)],
                                      idempotency_key="bootstrap:admin")
        except IdempotencyKeyReusedError:
            # Another process, with another generated password, created it at the same instant.
            return None
        # Another process may have created the administrator at the same instant.
        return None if result.replayed else generated

    # ------------------------------------------------------------ commands
    def create_user(self, caller: Caller, username: str, display_name: str, password: str,
                    roles: list[Role] | None = None, position_ids: list[UUID] | None = None,
                    idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_USERS)
        self._check_password(password)
        password_hash = self.hasher.hash(password)
        request = {"username": username, "display_name": display_name, "roles": roles or [],
                   "position_ids": position_ids or [], "password": self._secret_digest(password)}

        def handle(ctx: Context) -> Outcome:
            user = User.create(ctx, username, display_name, password_hash)
            if self.runner.find(user.id, User):
                raise user.refuse_second_creation()
            for role in dict.fromkeys(roles or []):
                user.grant_role(ctx, role)
            for position_id in dict.fromkeys(position_ids or []):
                user.assign_position(ctx, self.runner.get(position_id, Position, f"Position {position_id}"))
            return Outcome([user], {"user_id": str(user.id), "username": user.username}, 201)

        return self.runner.run(caller, "CreateUser", request, handle, idempotency_key)

    def grant_role(self, caller: Caller, user_id: UUID, role: Role,
                   idempotency_key: str | None = None) -> CommandResult:
        return self._change_user(caller, "GrantRole", user_id, {"role": role},
                                 lambda ctx, user: user.grant_role(ctx, role), idempotency_key)

    def revoke_role(self, caller: Caller, user_id: UUID, role: Role,
                    idempotency_key: str | None = None) -> CommandResult:
        return self._change_user(caller, "RevokeRole", user_id, {"role": role},
                                 lambda ctx, user: user.revoke_role(ctx, role), idempotency_key)

    def assign_position(self, caller: Caller, user_id: UUID, position_id: UUID,
                        idempotency_key: str | None = None) -> CommandResult:
        def change(ctx: Context, user: User) -> None:
            user.assign_position(ctx, self.runner.get(position_id, Position, f"Position {position_id}"))

        return self._change_user(caller, "AssignPosition", user_id, {"position_id": position_id}, change,
                                 idempotency_key)

    def unassign_position(self, caller: Caller, user_id: UUID, position_id: UUID,
                          idempotency_key: str | None = None) -> CommandResult:
        return self._change_user(caller, "UnassignPosition", user_id, {"position_id": position_id},
                                 lambda ctx, user: user.unassign_position(ctx, position_id), idempotency_key)

    def change_password(self, caller: Caller, current_password: str, new_password: str,
                        idempotency_key: str | None = None) -> CommandResult:
        """A user changes their own password; tokens issued before stop working.
        The current password is checked inside the command, so that a retry of a
        change that went through (whose current password is now the old one) is
        answered from its idempotency record instead of refused."""
        self._check_password(new_password)
        new_hash = self.hasher.hash(new_password)

        def handle(ctx: Context) -> Outcome:
            me = self.runner.get(caller.user_id, User, "User")
            try:
                self.hasher.verify(me.password_hash, current_password)
            except (VerificationError, InvalidHashError):
                raise AuthenticationError("The current password is wrong.", code="invalid-credentials") from None
            me.change_password(ctx, new_hash)
            return Outcome([me], {"user_id": str(me.id)})

        request = {"user_id": caller.user_id, "new_password": self._secret_digest(new_password)}
        return self.runner.run(caller, "ChangePassword", request, handle, idempotency_key)

    def create_position(self, caller: Caller, name: str, company_ids: list[UUID], all_companies: bool,
                        idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_USERS)

        def handle(ctx: Context) -> Outcome:
            for company_id in company_ids:
                self.runner.get(company_id, Company, f"Company {company_id}")
            position = Position.create(ctx, name, company_ids, all_companies)
            if self.runner.find(position.id, Position):
                raise position.refuse_second_creation()
            return Outcome([position], {"position_id": str(position.id), "name": position.name}, 201)

        request = {"name": name, "company_ids": company_ids, "all_companies": all_companies}
        return self.runner.run(caller, "CreatePosition", request, handle, idempotency_key)

    def change_position_companies(self, caller: Caller, position_id: UUID, company_ids: list[UUID],
                                  all_companies: bool, idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_USERS)

        def handle(ctx: Context) -> Outcome:
            for company_id in company_ids:
                self.runner.get(company_id, Company, f"Company {company_id}")
            position = self.runner.get(position_id, Position, f"Position {position_id}")
            position.change_companies(ctx, company_ids, all_companies)
            return Outcome([position], {"position_id": str(position.id)})

        request = {"position_id": position_id, "company_ids": company_ids, "all_companies": all_companies}
        return self.runner.run(caller, "ChangePositionCompanies", request, handle, idempotency_key)

    def _change_user(self, caller: Caller, operation: str, user_id: UUID, request: dict, change,
                     idempotency_key: str | None) -> CommandResult:
        caller.require(Permission.MANAGE_USERS)

        def handle(ctx: Context) -> Outcome:
            user = self.runner.get(user_id, User, f"User {user_id}")
            change(ctx, user)
            return Outcome([user], {"user_id": str(user.id)})

        return self.runner.run(caller, operation, {"user_id": user_id, **request}, handle, idempotency_key)

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < 8:
            raise InvalidValueError("A password has at least 8 characters.", field="password")
        if len(password) > 200:
            raise InvalidValueError("A password has at most 200 characters.", field="password")
