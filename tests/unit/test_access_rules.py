"""Users, roles, positions and scopes: every command and every refusal."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain import ids
from domain.access import (
    ROLE_PERMISSIONS,
    LastAdministratorError,
    Permission,
    Position,
    PositionAlreadyAssignedError,
    PositionNotAssignedError,
    Role,
    RoleAlreadyGrantedError,
    RoleNotGrantedError,
    Scope,
    User,
)
from domain.base import DomainError, InvalidValueError
from tests.unit.given import ACTOR, ctx, given, then_events, then_metadata, then_refused

HEFEI, CHUZHOU, CHIZHOU = (ids.company_id(c) for c in ("HF", "CZ", "CHZ"))


def a_user(*roles: Role, positions: tuple[Position, ...] = ()) -> User:
    user = User.create(ctx(), "Keeper.HF", "Keeper Hefei", "argon2-hash")
    for role in roles:
        user.grant_role(ctx(), role)
    for position in positions:
        user.assign_position(ctx(), position)
    return given(user)


def a_position(name: str = "Hefei", companies: tuple[UUID, ...] = (HEFEI,), whole: bool = False) -> Position:
    return given(Position.create(ctx(), name, list(companies), whole))


# ------------------------------------------------------------------ positions and scope
def test_a_position_grants_its_companies():
    context = ctx()
    position = Position.create(context, "Chuzhou+Chizhou", [CHIZHOU, CHUZHOU, CHUZHOU], False)
    [created] = then_events(position, Position.Created)
    assert (created.name, set(created.company_ids), created.all_companies) == (
        "Chuzhou+Chizhou", {CHUZHOU, CHIZHOU}, False)
    assert len(created.company_ids) == 2  # duplicates dropped
    then_metadata(created, context, None)
    assert position.id == ids.position_id("chuzhou+chizhou")
    assert position.scope == Scope(False, frozenset({CHUZHOU, CHIZHOU}))


def test_a_whole_group_position_grants_every_company():
    scope = a_position("Whole group", (), True).scope
    assert scope.all_companies and all(scope.includes(c) for c in (HEFEI, CHUZHOU, CHIZHOU))


@pytest.mark.parametrize(("companies", "whole"), [((), False), ((HEFEI,), True)],
                         ids=["no-company", "whole-group-with-companies"])
def test_a_position_grants_some_companies_or_the_whole_group_not_both_nor_neither(companies, whole):
    refusal = then_refused(None, lambda: Position.create(ctx(), "Odd", list(companies), whole),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "company_ids"}


@pytest.mark.parametrize("name", ["", "  ", "p" * 101])
def test_a_position_needs_a_name(name):
    then_refused(None, lambda: Position.create(ctx(), name, [HEFEI], False), InvalidValueError, "invalid-value", 422)


def test_changing_a_positions_companies_is_recorded():
    position = a_position()
    context = ctx()
    position.change_companies(context, [HEFEI, CHUZHOU], False)
    [changed] = then_events(position, Position.CompaniesChanged)
    assert set(changed.company_ids) == {HEFEI, CHUZHOU} and not changed.all_companies
    then_metadata(changed, context, None)
    assert position.scope.includes(CHUZHOU)
    position.change_companies(ctx(), [], True)
    then_events(position, Position.CompaniesChanged)
    assert position.scope.all_companies


def test_changing_a_position_to_what_it_already_grants_is_refused():
    position = a_position()
    then_refused(position, lambda: position.change_companies(ctx(), [HEFEI], False),
                 DomainError, "nothing-changed", 409)


def test_changing_a_position_to_nothing_is_refused():
    position = a_position()
    then_refused(position, lambda: position.change_companies(ctx(), [], False),
                 InvalidValueError, "invalid-value", 422)


def test_a_scope_includes_its_companies_and_group_wide_facts_only():
    scope = Scope(False, frozenset({HEFEI}))
    assert scope.includes(HEFEI) and scope.includes(None)
    assert not scope.includes(CHUZHOU)
    assert not Scope().includes(HEFEI)


def test_scopes_add_up_across_positions():
    both = Scope(False, frozenset({HEFEI})).union(Scope(False, frozenset({CHUZHOU})))
    assert both == Scope(False, frozenset({HEFEI, CHUZHOU}))
    assert Scope(False, frozenset({HEFEI})).union(Scope(True)).all_companies


# ------------------------------------------------------------------ users
def test_a_user_is_created_with_no_role_and_no_position():
    context = ctx()
    user = User.create(context, " Keeper.HF ", " Keeper Hefei ", "argon2-hash")
    [created] = then_events(user, User.Created)
    assert (created.username, created.display_name, created.password_hash) == (
        "keeper.hf", "Keeper Hefei", "argon2-hash")
    then_metadata(created, context, None)
    assert user.id == ids.user_id("KEEPER.HF")
    assert (user.roles, user.position_ids, user.permissions, user.credentials_version) == (
        frozenset(), frozenset(), frozenset(), 1)


@pytest.mark.parametrize("username", ["", "   ", "u" * 61, "wang wei", "wang@hf", "王伟/hf"])
def test_a_user_name_of_letters_digits_dot_dash_underscore_only(username):
    then_refused(None, lambda: User.create(ctx(), username, "Wang", "h"), InvalidValueError, "invalid-value", 422)


@pytest.mark.parametrize("display_name", ["", "  ", "d" * 101])
def test_a_user_needs_a_display_name(display_name):
    then_refused(None, lambda: User.create(ctx(), "wang", display_name, "h"), InvalidValueError,
                 "invalid-value", 422)


@pytest.mark.parametrize("role", list(Role))
def test_granting_a_role_gives_its_permissions(role):
    user = a_user()
    context = ctx()
    user.grant_role(context, role)
    [granted] = then_events(user, User.RoleGranted)
    assert granted.role is role
    then_metadata(granted, context, None)
    assert user.roles == {role} and user.permissions == ROLE_PERMISSIONS[role]


def test_permissions_are_the_union_of_the_roles():
    user = a_user(Role.SALESPERSON, Role.WAREHOUSE_KEEPER)
    assert user.permissions == ROLE_PERMISSIONS[Role.SALESPERSON] | ROLE_PERMISSIONS[Role.WAREHOUSE_KEEPER]
    assert Permission.RECEIVE_MACHINE in user.permissions and Permission.MANAGE_USERS not in user.permissions


def test_every_role_has_its_permissions_written_down_and_only_the_administrator_manages_users():
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert [r for r, p in ROLE_PERMISSIONS.items() if Permission.MANAGE_USERS in p] == [Role.ADMINISTRATOR]


def test_the_parts_permissions_go_to_the_roles_that_do_the_work():
    """配件: the office (sales clerk) keeps the catalogue, buys, sells and handles technicians'
    requests; the warehouse keeper receives and ships; a technician requests and uses parts
    for their own van and sees nothing else but the organisation and parts; every role reads parts."""
    holders = {p: {r for r, granted in ROLE_PERMISSIONS.items() if p in granted} for p in (
        Permission.MANAGE_PARTS_CATALOGUE, Permission.VIEW_PARTS, Permission.PURCHASE_PARTS,
        Permission.RECEIVE_PARTS, Permission.SELL_PARTS, Permission.SHIP_PARTS, Permission.HANDLE_PARTS_REQUESTS,
        Permission.REQUEST_PARTS)}
    office, keeper = {Role.ADMINISTRATOR, Role.SALES_CLERK}, {Role.ADMINISTRATOR, Role.WAREHOUSE_KEEPER}
    assert holders == {
        Permission.MANAGE_PARTS_CATALOGUE: office, Permission.VIEW_PARTS: set(Role),
        Permission.PURCHASE_PARTS: office, Permission.RECEIVE_PARTS: keeper, Permission.SELL_PARTS: office,
        Permission.SHIP_PARTS: keeper, Permission.HANDLE_PARTS_REQUESTS: office,
        Permission.REQUEST_PARTS: {Role.ADMINISTRATOR, Role.TECHNICIAN}}
    assert ROLE_PERMISSIONS[Role.TECHNICIAN] == {Permission.VIEW_ORGANISATION, Permission.VIEW_PARTS,
                                                 Permission.REQUEST_PARTS}


def test_granting_a_role_held_already_is_refused():
    user = a_user(Role.SALESPERSON)
    then_refused(user, lambda: user.grant_role(ctx(), Role.SALESPERSON), RoleAlreadyGrantedError,
                 "role-already-granted", 409)


def test_revoking_a_role_takes_its_permissions_away():
    user = a_user(Role.WAREHOUSE_KEEPER, Role.SALESPERSON)
    context = ctx()
    user.revoke_role(context, Role.WAREHOUSE_KEEPER)
    [revoked] = then_events(user, User.RoleRevoked)
    assert revoked.role is Role.WAREHOUSE_KEEPER
    then_metadata(revoked, context, None)
    assert user.roles == {Role.SALESPERSON} and Permission.RECEIVE_MACHINE not in user.permissions


def test_revoking_a_role_not_held_is_refused():
    user = a_user(Role.SALESPERSON)
    then_refused(user, lambda: user.revoke_role(ctx(), Role.FINANCE), RoleNotGrantedError, "role-not-granted", 409)


def test_an_administrator_cannot_take_the_administrator_role_from_themself():
    user = a_user(Role.ADMINISTRATOR)
    then_refused(user, lambda: user.revoke_role(ctx(actor=user.id), Role.ADMINISTRATOR),
                 LastAdministratorError, "last-administrator", 409)
    user.revoke_role(ctx(actor=ACTOR), Role.ADMINISTRATOR)  # another administrator may
    then_events(user, User.RoleRevoked)


def test_assigning_a_position_records_its_name_for_the_audit_trail():
    user, position = a_user(), a_position()
    context = ctx()
    user.assign_position(context, position)
    [assigned] = then_events(user, User.PositionAssigned)
    assert (assigned.position_id, assigned.position_name) == (position.id, "Hefei")
    then_metadata(assigned, context, None)
    assert user.position_ids == {position.id}


def test_assigning_a_position_held_already_is_refused():
    position = a_position()
    user = a_user(positions=(position,))
    then_refused(user, lambda: user.assign_position(ctx(), position), PositionAlreadyAssignedError,
                 "position-already-assigned", 409)


def test_unassigning_a_position():
    position = a_position()
    user = a_user(positions=(position,))
    user.unassign_position(ctx(), position.id)
    [unassigned] = then_events(user, User.PositionUnassigned)
    assert unassigned.position_id == position.id and user.position_ids == frozenset()


def test_unassigning_a_position_not_held_is_refused():
    user = a_user()
    then_refused(user, lambda: user.unassign_position(ctx(), a_position().id), PositionNotAssignedError,
                 "position-not-assigned", 409)


def test_a_password_change_ends_the_tokens_issued_before():
    user = a_user()
    context = ctx()
    user.change_password(context, "new-argon2-hash")
    [changed] = then_events(user, User.PasswordChanged)
    then_metadata(changed, context, None)
    assert (user.password_hash, user.credentials_version) == ("new-argon2-hash", 2)
    user.change_password(ctx(), "newer-hash")
    then_events(user, User.PasswordChanged)
    assert user.credentials_version == 3


@pytest.mark.parametrize(("typed", "kept"), [("wang.wei_2-hf", "wang.wei_2-hf"), ("WangWei", "wangwei"),
                                             ("王伟", "王伟"), ("u" * 60, "u" * 60)])
def test_a_user_name_is_kept_in_lower_case(typed, kept):
    user = given(User.create(ctx(), typed, "Wang", "h"))
    assert user.username == kept and user.id == ids.user_id(kept)


def test_roles_and_positions_change_without_ending_the_users_sessions():
    # Roles and positions are read from the user on every request; only a new password ends tokens.
    position = a_position()
    user = a_user(Role.SALESPERSON)
    user.grant_role(ctx(), Role.FINANCE)
    user.revoke_role(ctx(), Role.SALESPERSON)
    user.assign_position(ctx(), position)
    user.unassign_position(ctx(), position.id)
    assert len(user.collect_events()) == 4 and user.credentials_version == 1


def test_a_user_may_give_up_a_role_other_than_administrator():
    user = a_user(Role.ADMINISTRATOR, Role.AUDITOR)
    context = ctx(actor=user.id)
    user.revoke_role(context, Role.AUDITOR)
    [revoked] = then_events(user, User.RoleRevoked)
    assert revoked.actor_id == user.id and user.roles == {Role.ADMINISTRATOR}


def test_a_whole_group_position_can_be_narrowed_to_companies():
    position = a_position("Whole group", (), True)
    context = ctx()
    position.change_companies(context, [CHUZHOU, HEFEI], False)
    [changed] = then_events(position, Position.CompaniesChanged)
    assert (changed.company_ids, changed.all_companies) == (tuple(sorted({HEFEI, CHUZHOU})), False)
    then_metadata(changed, context, None)
    assert position.scope == Scope(False, frozenset({HEFEI, CHUZHOU}))
    assert not position.scope.includes(CHIZHOU)


def test_changing_a_whole_group_position_to_the_whole_group_is_refused():
    position = a_position("Whole group", (), True)
    then_refused(position, lambda: position.change_companies(ctx(), [], True), DomainError, "nothing-changed", 409)


def test_changing_a_position_to_the_whole_group_and_companies_is_refused():
    position = a_position()
    refusal = then_refused(position, lambda: position.change_companies(ctx(), [CHUZHOU], True),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "company_ids"}
