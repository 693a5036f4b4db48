"""Hypothesis state machines over the aggregates that hold reference and access data:
users and positions, customers / contacts / customer types and tags, approval rules,
penalty policies and the parts catalogue. Pure domain: no store, no BackOffice.

Each machine keeps its own model, predicts for every command whether it is taken or
refused (and with which code), and after every step checks that:

- the aggregate's state equals the model;
- a refused command recorded nothing and changed nothing (no pending event, same
  version, same attributes);
- the aggregate rebuilt from scratch from every event it recorded (``event.mutate``) has
  exactly the same attributes (``vars``) as the live one.

Entities are chosen by index in creation order and ids are derived from counters, so a
failing run replays exactly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from hypothesis import event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from application.access import AccessService
from domain import customers as customers_module
from domain import ids
from domain.access import ROLE_PERMISSIONS, Position, Role, Scope, User
from domain.approvals import (
    MAX_BANDS,
    MAX_STEPS,
    AmountBand,
    ApprovalRule,
    ApprovalStep,
    DocumentType,
    StepScope,
)
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError
from domain.customers import (
    MAX_TAGS,
    Contact,
    Customer,
    CustomerTag,
    CustomerType,
    PartyKind,
)
from domain.money import MAX_AMOUNT
from domain.organisation import Company
from domain.parts import Part, PartCategory
from domain.receivables import (
    MAX_DAILY_RATE,
    MAX_GRACE_DAYS,
    PenaltyPolicy,
    PenaltyRate,
)

MACHINE_SETTINGS = hsettings(max_examples=50, stateful_step_count=30, deadline=None)
GIVEN_SETTINGS = hsettings(max_examples=50, deadline=None)

ACTOR = UUID("11111111-1111-5111-8111-111111111111")
START = date(2026, 3, 2)
FEN = Decimal("0.01")
HF, CZ, CHZ, AQ = COMPANY_CODES = ("HF", "CZ", "CHZ", "AQ")
COMPANIES = tuple(ids.company_id(c) for c in COMPANY_CODES)


def fen(n: int) -> Decimal:
    return (Decimal(n) / 100).quantize(FEN)


class Ledger:
    """What the event store would hold: every event each aggregate recorded, in order."""

    def __init__(self) -> None:
        self.events: dict[UUID, list[Any]] = {}
        self.commands = 0

    def ctx(self, reason: str | None = None, actor: UUID = ACTOR, day: date = START) -> Context:
        self.commands += 1
        return Context(actor_id=actor, command_id=UUID(int=self.commands), business_date=day, reason=reason)

    def created(self, aggregate: DealerAggregate) -> Any:
        events = list(aggregate.collect_events())
        assert len(events) == 1 and isinstance(events[0], DealerAggregate.Created)
        assert aggregate.id not in self.events, "two aggregates of one id in a pure test"
        self.events[aggregate.id] = events
        return aggregate

    def attempt(self, aggregate: DealerAggregate, command: Callable[[], Any], refusal: str | set[str] | None,
                records: int = 1) -> tuple[Any, list[Any], DomainError | None]:
        """Runs ``command`` on ``aggregate``. The model predicts a refusal (its code, or the
        codes it may have) or none (then exactly ``records`` events). A refusal records
        nothing and changes nothing. Returns (result, events recorded, refusal)."""
        before, version = dict(vars(aggregate)), aggregate.version
        name = type(aggregate).__name__
        try:
            result = command()
        except DomainError as refused:
            assert refusal is not None, f"{name}: refused ({refused.code}: {refused.message}), the model expected it taken"
            assert refused.code in ({refusal} if isinstance(refusal, str) else refusal), \
                f"{name}: refused with {refused.code}, the model expected {refusal}"
            assert refused.message, "a refusal says why"
            assert list(aggregate.collect_events()) == [], f"{name}: a refusal ({refused.code}) recorded an event"
            assert aggregate.version == version and vars(aggregate) == before, f"{name}: a refusal changed state"
            event(f"{name} refused: {refused.code}")
            return None, [], refused
        recorded = list(aggregate.collect_events())
        assert refusal is None, f"{name}: taken ({[type(e).__name__ for e in recorded]}), the model expected {refusal}"
        assert len(recorded) == records and aggregate.version == version + records
        for e in recorded:
            assert e.originator_id == aggregate.id
            event(f"{name}.{type(e).__name__}")
        self.events[aggregate.id].extend(recorded)
        return result, recorded, None

    def check_replay(self, aggregate: DealerAggregate) -> None:
        assert list(aggregate.collect_events()) == [], "an event was recorded behind the model's back"
        rebuilt: Any = None
        for e in self.events[aggregate.id]:
            rebuilt = e.mutate(rebuilt)
        assert type(rebuilt) is type(aggregate)
        assert vars(rebuilt) == vars(aggregate), f"{type(aggregate).__name__}: replay differs from the live state"


def refused_outright(command: Callable[[], Any], code: str | set[str]) -> DomainError:
    """A creation refused: there is no aggregate to have recorded anything."""
    with pytest.raises(DomainError) as refused:
        command()
    assert refused.value.code in ({code} if isinstance(code, str) else code) and refused.value.message
    event(f"creation refused: {refused.value.code}")
    return refused.value


# ====================================================================== users and positions
class _Positions:
    """The store, as far as ``AccessService.scope_of`` asks it."""

    def __init__(self, positions: list[Position]) -> None:
        self.positions = positions

    def find(self, aggregate_id: UUID, cls: type) -> Any:
        assert cls is Position
        return next((p for p in self.positions if p.id == aggregate_id), None)


def _dressed(name: str, how: str) -> str:
    return {"lower": name.lower(), "upper": name.upper(), "title": name.title(), "spaced": f"  {name}\t"}[how]


DRESS = st.sampled_from(["lower", "upper", "title", "spaced"])
# The roles with a rule of their own (an administrator keeps their own role, an auditor alone
# reads every company) come up more often than the others.
ROLES = st.sampled_from([Role.ADMINISTRATOR, Role.AUDITOR, *Role])


class UsersAndPositions(RuleBasedStateMachine):
    MAX_USERS, MAX_POSITIONS = 3, 5

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.positions: list[Position] = []
        self.position_model: list[tuple[bool, frozenset[UUID]]] = []   # (whole group, companies)
        self.users: list[User] = []
        self.roles: list[set[Role]] = []
        self.held: list[set[int]] = []                                  # position indexes held
        self.passwords: list[tuple[str, int]] = []                      # (hash, credentials version)

    @initialize(how=DRESS, whole=st.booleans())
    def a_first_user_and_position(self, how: str, whole: bool) -> None:
        self.create_user(how)
        self.create_position(how, [] if whole else [COMPANIES[0]], whole)

    # ------------------------------------------------------------ positions
    @precondition(lambda self: len(self.positions) < self.MAX_POSITIONS)
    @rule(how=DRESS, companies=st.lists(st.sampled_from(COMPANIES), max_size=5), whole=st.booleans())
    def create_position(self, how: str, companies: list[UUID], whole: bool) -> None:
        name = f"Office {len(self.positions)}"
        typed = _dressed(name, how)
        create = lambda: Position.create(self.ledger.ctx(), typed, companies, whole)
        if whole == bool(companies):      # both, or neither
            assert refused_outright(create, "invalid-value").details == {"field": "company_ids"}
            return
        position = self.ledger.created(create())
        assert position.id == ids.position_id(name) and position.name == typed.strip()
        self.positions.append(position)
        self.position_model.append((whole, frozenset(companies)))

    @precondition(lambda self: self.positions)
    @rule(p=st.integers(0, 9), companies=st.lists(st.sampled_from(COMPANIES), max_size=5), whole=st.booleans())
    def change_position_companies(self, p: int, companies: list[UUID], whole: bool) -> None:
        p %= len(self.positions)
        position, wanted = self.positions[p], (whole, frozenset(companies))
        refusal = ("invalid-value" if whole == bool(companies) else
                   "nothing-changed" if wanted == self.position_model[p] else None)
        _, recorded, _ = self.ledger.attempt(position, lambda: position.change_companies(self.ledger.ctx(), companies,
                                                                                      whole), refusal)
        if recorded:
            assert list(recorded[0].company_ids) == sorted(set(companies))   # no duplicates, in a stable order
            self.position_model[p] = wanted

    # ------------------------------------------------------------ users
    @precondition(lambda self: len(self.users) < self.MAX_USERS)
    @rule(how=DRESS)
    def create_user(self, how: str) -> None:
        name = f"keeper.{len(self.users)}"
        typed = _dressed(name, how)
        user = self.ledger.created(User.create(self.ledger.ctx(), typed, f"Keeper {len(self.users)}", "hash-0"))
        assert user.username == name and user.id == ids.user_id(name) == ids.user_id(typed)
        self.users.append(user)
        self.roles.append(set())
        self.held.append(set())
        self.passwords.append(("hash-0", 1))

    def _user(self, u: int) -> tuple[int, User]:
        u %= len(self.users)
        return u, self.users[u]

    @precondition(lambda self: self.users)
    @rule(u=st.integers(0, 9), role=ROLES)
    def grant_role(self, u: int, role: Role) -> None:
        u, user = self._user(u)
        refusal = "role-already-granted" if role in self.roles[u] else None
        _, recorded, _ = self.ledger.attempt(user, lambda: user.grant_role(self.ledger.ctx(), role), refusal)
        if recorded:
            assert isinstance(recorded[0], User.RoleGranted) and recorded[0].role is role
            self.roles[u].add(role)

    @precondition(lambda self: self.users)
    @rule(u=st.integers(0, 9), role=ROLES, by_themself=st.booleans(), held=st.booleans(), pick=st.integers(0, 8))
    def revoke_role(self, u: int, role: Role, by_themself: bool, held: bool, pick: int) -> None:
        """Revokes a role the user holds (``held``, when they hold any), or any role."""
        u, user = self._user(u)
        if held and self.roles[u]:
            role = sorted(self.roles[u])[pick % len(self.roles[u])]
        refusal = ("role-not-granted" if role not in self.roles[u] else
                   "last-administrator" if role is Role.ADMINISTRATOR and by_themself else None)
        context = self.ledger.ctx(actor=user.id if by_themself else ACTOR)
        _, recorded, _ = self.ledger.attempt(user, lambda: user.revoke_role(context, role), refusal)
        if recorded:
            assert isinstance(recorded[0], User.RoleRevoked) and recorded[0].actor_id == context.actor_id
            self.roles[u].discard(role)

    @precondition(lambda self: self.users)
    @rule(u=st.integers(0, 9), another_takes_it=st.booleans())
    def an_administrator_gives_up_administration(self, u: int, another_takes_it: bool) -> None:
        """Refused when they do it themself; another administrator may."""
        u, _ = self._user(u)
        if Role.ADMINISTRATOR not in self.roles[u]:
            self.grant_role(u, Role.ADMINISTRATOR)
        self.revoke_role(u, Role.ADMINISTRATOR, by_themself=True, held=False, pick=0)
        if another_takes_it:
            self.revoke_role(u, Role.ADMINISTRATOR, by_themself=False, held=False, pick=0)

    @precondition(lambda self: self.users and self.positions)
    @rule(u=st.integers(0, 9), p=st.integers(0, 9))
    def assign_position(self, u: int, p: int) -> None:
        u, user = self._user(u)
        p %= len(self.positions)
        position = self.positions[p]
        refusal = "position-already-assigned" if p in self.held[u] else None
        _, recorded, _ = self.ledger.attempt(user, lambda: user.assign_position(self.ledger.ctx(), position), refusal)
        if recorded:
            assert (recorded[0].position_id, recorded[0].position_name) == (position.id, position.name)
            self.held[u].add(p)

    @precondition(lambda self: self.users and self.positions)
    @rule(u=st.integers(0, 9), p=st.integers(0, 9), held=st.booleans())
    def unassign_position(self, u: int, p: int, held: bool) -> None:
        """Unassigns a position the user holds (``held``, when they hold any), or any position."""
        u, user = self._user(u)
        p = sorted(self.held[u])[p % len(self.held[u])] if held and self.held[u] else p % len(self.positions)
        position = self.positions[p]
        refusal = "position-not-assigned" if p not in self.held[u] else None
        _, recorded, _ = self.ledger.attempt(user, lambda: user.unassign_position(self.ledger.ctx(), position.id),
                                          refusal)
        if recorded:
            self.held[u].discard(p)

    @precondition(lambda self: self.users)
    @rule(u=st.integers(0, 9))
    def change_password(self, u: int) -> None:
        u, user = self._user(u)
        _, version = self.passwords[u]
        new = f"hash-{version}"
        self.ledger.attempt(user, lambda: user.change_password(self.ledger.ctx(), new), None)
        self.passwords[u] = (new, version + 1)

    # ------------------------------------------------------------ invariants
    @invariant()
    def positions_grant_what_the_model_says(self) -> None:
        for position, (whole, companies) in zip(self.positions, self.position_model, strict=True):
            assert (position.all_companies, position.company_ids) == (whole, companies)
            assert position.scope == Scope(whole, companies)
            assert whole != bool(companies), "a position grants some companies or the whole group, not both nor neither"
            self.ledger.check_replay(position)

    @invariant()
    def users_hold_what_the_model_says(self) -> None:
        access = SimpleNamespace(runner=_Positions(self.positions))
        access.scope_of = lambda user: AccessService.scope_of(access, user)
        for u, user in enumerate(self.users):
            roles, held = self.roles[u], self.held[u]
            assert user.roles == roles
            assert user.position_ids == {self.positions[p].id for p in held}
            assert user.permissions == frozenset().union(*(ROLE_PERMISSIONS[r] for r in roles))
            assert (user.password_hash, user.credentials_version) == self.passwords[u]
            # The data scope: the union of the held positions, as they grant now.
            whole = any(self.position_model[p][0] for p in held)
            companies = frozenset().union(*(self.position_model[p][1] for p in held))
            scope = AccessService.scope_of(access, user)
            assert scope == Scope(whole, companies)
            assert scope.includes(None)
            for company in COMPANIES:
                assert scope.includes(company) == (whole or company in companies)
            caller = AccessService.caller_of(access, user)
            # An auditor and nothing else reads every company.
            assert caller.scope == (Scope(all_companies=True) if roles == {Role.AUDITOR} else scope)
            assert (caller.permissions, caller.roles) == (user.permissions, user.roles)
            self.ledger.check_replay(user)


TestUsersAndPositions = UsersAndPositions.TestCase
TestUsersAndPositions.settings = MACHINE_SETTINGS


@GIVEN_SETTINGS
@given(typed=st.one_of(st.text(max_size=70), st.from_regex(r"\s?[A-Za-z0-9._\-]{1,62}\s?", fullmatch=True)))
def test_a_user_name_is_found_again_by_what_was_typed(typed: str) -> None:
    """Whatever is typed at sign-in finds the user created under it: one id per name."""
    try:
        name = User.check_username(typed)
    except InvalidValueError as refused:
        assert refused.details == {"field": "username"}
        event("user name refused")
        return
    assert name == name.lower() and 0 < len(name) <= 60
    assert all(c.isalnum() or c in "._-" for c in name)
    assert User.check_username(name) == name
    assert ids.user_id(typed) == ids.user_id(name) == User.create(Ledger().ctx(), typed, "X", "h").id


# ====================================================================== customers, contacts, types, tags
class Customers(RuleBasedStateMachine):
    MAX_CUSTOMERS, MAX_CONTACTS = 4, 5

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        created = self.ledger.created
        self.companies = [created(Company.create(self.ledger.ctx(), code, f"Company {code}")) for code in (HF, CZ)]
        self.types = [created(CustomerType.define(self.ledger.ctx(), code, name))
                      for code, name in (("first", "First-time"), ("formal", "Formal"))]
        self.tags = [created(CustomerTag.define(self.ledger.ctx(), f"t {n}", f"Tag {n}")) for n in range(MAX_TAGS + 3)]
        self.customers: list[Customer] = []
        self.customer_company: list[int] = []
        self.tagged: list[set[int]] = []
        self.linked: list[set[int]] = []
        self.contacts: list[Contact] = []
        self.contact_company: list[int] = []
        self.ids = 0

    def _new_id(self) -> UUID:
        self.ids += 1
        return UUID(int=(1 << 64) + self.ids)

    @initialize(company=st.integers(0, 1), contact_company=st.integers(0, 1))
    def a_first_customer_and_contact(self, company: int, contact_company: int) -> None:
        self.register_customer(company, PartyKind.ORGANISATION, 0, None, None)
        self.register_contact(contact_company, None)

    @precondition(lambda self: len(self.customers) < self.MAX_CUSTOMERS)
    @rule(company=st.integers(0, 1), kind=st.sampled_from(list(PartyKind)), customer_type=st.integers(0, 1),
          id_number=st.sampled_from([None, "", "  ", "91340100 mA2 x", "340102199001011234"]),
          phone=st.sampled_from([None, "", "138 0000 0000", "+86-551-1234567", "12", "call me", "１３８００００００００"]))
    def register_customer(self, company: int, kind: PartyKind, customer_type: int, id_number: str | None,
                          phone: str | None) -> None:
        register = lambda: Customer.register(
            self.ledger.ctx(), self._new_id(), self.companies[company], UUID(int=7), f"Customer {len(self.customers)}",
            kind, self.types[customer_type], id_number=id_number, phone=phone)
        if phone in ("12", "call me", "１３８００００００００"):   # too short, letters, full-width digits
            assert refused_outright(register, "invalid-value").details == {"field": "phone"}
            return
        customer = self.ledger.created(register())
        assert customer.company_id == self.companies[company].id
        assert customer.customer_type_id == self.types[customer_type].id
        assert customer.id_number == (ids.normalise_key(id_number) if id_number and id_number.strip() else None)
        assert customer.phone == (phone or None) and (customer.tag_ids, customer.contact_ids) == (frozenset(),) * 2
        self.customers.append(customer)
        self.customer_company.append(company)
        self.tagged.append(set())
        self.linked.append(set())

    @precondition(lambda self: len(self.contacts) < self.MAX_CONTACTS)
    @rule(company=st.integers(0, 1), title=st.sampled_from([None, "  ", "法人代表"]))
    def register_contact(self, company: int, title: str | None) -> None:
        contact = self.ledger.created(Contact.register(self.ledger.ctx(), self._new_id(), self.companies[company],
                                                       UUID(int=7), f"Contact {len(self.contacts)}", "139-0000-0000",
                                                       title))
        assert contact.company_id == self.companies[company].id and contact.title == (title.strip() or None
                                                                                      if title else None)
        self.contacts.append(contact)
        self.contact_company.append(company)

    def _customer(self, c: int) -> tuple[int, Customer]:
        c %= len(self.customers)
        return c, self.customers[c]

    def _tag(self, c: int, t: int) -> None:
        customer, tag = self.customers[c], self.tags[t]
        refusal = ("tag-already-on-customer" if t in self.tagged[c] else
                   "invalid-value" if len(self.tagged[c]) >= MAX_TAGS else None)
        _, recorded, _ = self.ledger.attempt(customer, lambda: customer.tag(self.ledger.ctx(), tag), refusal)
        if recorded:
            assert (recorded[0].tag_id, recorded[0].tag_code, recorded[0].company_id) == (
                tag.id, tag.code, customer.company_id)
            self.tagged[c].add(t)

    @precondition(lambda self: self.customers)
    @rule(c=st.integers(0, 9), t=st.integers(0, MAX_TAGS + 2))
    def tag(self, c: int, t: int) -> None:
        self._tag(self._customer(c)[0], t)

    @precondition(lambda self: self.customers)
    @rule(c=st.integers(0, 9), first=st.integers(0, MAX_TAGS + 2), count=st.integers(5, 20))
    def tag_many(self, c: int, first: int, count: int) -> None:
        """A salesperson ticks many tags at once (so that the limit is reached in a run)."""
        c, _ = self._customer(c)
        for n in range(count):
            self._tag(c, (first + n) % len(self.tags))

    @precondition(lambda self: self.customers)
    @rule(c=st.integers(0, 9), t=st.integers(0, MAX_TAGS + 2), held=st.booleans())
    def untag(self, c: int, t: int, held: bool) -> None:
        """Takes off a tag the customer has (``held``, when it has any), or any tag."""
        c, customer = self._customer(c)
        if held and self.tagged[c]:
            t = sorted(self.tagged[c])[t % len(self.tagged[c])]
        tag = self.tags[t]
        refusal = "tag-not-on-customer" if t not in self.tagged[c] else None
        _, recorded, _ = self.ledger.attempt(customer, lambda: customer.untag(self.ledger.ctx(), tag), refusal)
        if recorded:
            self.tagged[c].discard(t)

    @precondition(lambda self: self.customers and self.contacts)
    @rule(c=st.integers(0, 9), k=st.integers(0, 9), by_contract=st.booleans())
    def link_contact(self, c: int, k: int, by_contract: bool) -> None:
        c, customer = self._customer(c)
        k %= len(self.contacts)
        contact, linked = self.contacts[k], k in self.linked[c]
        other_company = self.contact_company[k] != self.customer_company[c]
        if by_contract:   # approving a contract naming both: links once, quietly if linked already
            contract_id = self._new_id()
            refusal = None if linked else "other-company" if other_company else None
            done, recorded, _ = self.ledger.attempt(
                customer, lambda: customer.link_contact_of_contract(self.ledger.ctx(), contact, contract_id), refusal,
                records=0 if linked else 1)
            if refusal is None:
                assert done is (not linked)
        else:
            contract_id = None
            refusal = "contact-already-linked" if linked else "other-company" if other_company else None
            _, recorded, _ = self.ledger.attempt(customer, lambda: customer.link_contact(self.ledger.ctx(), contact),
                                              refusal)
        if recorded:
            assert (recorded[0].contact_id, recorded[0].contact_name, recorded[0].by_contract_id) == (
                contact.id, contact.name, contract_id)
            self.linked[c].add(k)

    @invariant()
    def customers_are_what_the_model_says(self) -> None:
        for c, customer in enumerate(self.customers):
            assert customer.tag_ids == {self.tags[t].id for t in self.tagged[c]}
            assert len(customer.tag_ids) <= MAX_TAGS
            assert customer.contact_ids == {self.contacts[k].id for k in self.linked[c]}
            assert all(self.contacts[k].company_id == customer.company_id for k in self.linked[c]), \
                "a contact of another member company was linked"
            self.ledger.check_replay(customer)

    @invariant()
    def contacts_and_reference_data_never_change(self) -> None:
        for aggregate in (*self.contacts, *self.companies, *self.types, *self.tags):
            assert aggregate.version == 1 and len(self.ledger.events[aggregate.id]) == 1
            self.ledger.check_replay(aggregate)


TestCustomers = Customers.TestCase
TestCustomers.settings = MACHINE_SETTINGS


def test_customer_types_and_tags_are_reference_data_with_no_event_but_their_definition():
    """They are cached once read (application/ledger.py), like the organisation's."""
    classes = [c for _, c in inspect.getmembers(customers_module, inspect.isclass)
               if issubclass(c, DealerAggregate) and c.is_reference_data and c.__module__ == customers_module.__name__]
    assert {c.__name__ for c in classes} == {"CustomerType", "CustomerTag"}
    for cls in classes:
        events = [v for v in vars(cls).values() if isinstance(v, type) and issubclass(v, DealerAggregate.Event)
                  and v is not cls.Event]   # the per-aggregate base class, never stored itself
        assert events and all(issubclass(e, DealerAggregate.Created) for e in events), cls


@GIVEN_SETTINGS
@given(typed=st.one_of(st.text(max_size=25), st.from_regex(r"\s*[a-zA-Z0-9 \-ß]{1,24}\s*", fullmatch=True)),
       cls=st.sampled_from([CustomerType, CustomerTag]))
def test_a_type_or_tag_code_is_one_key_however_it_is_typed(typed: str, cls: type) -> None:
    key_id = ids.customer_type_id if cls is CustomerType else ids.customer_tag_id
    ledger = Ledger()
    try:
        defined = ledger.created(cls.define(ledger.ctx(), typed, "Name"))
    except InvalidValueError as refused:
        assert refused.details == {"field": "code"}
        event("code refused")
        return
    assert defined.code == ids.normalise_key(defined.code) and 0 < len(defined.code) <= 20
    assert defined.id == key_id(typed) == key_id(defined.code)
    if typed.isascii():
        assert key_id(typed.lower()) == defined.id
    ledger.check_replay(defined)


# ====================================================================== approval rules
RULE_KEYS = ((DocumentType.SALES_CONTRACT, None), (DocumentType.SALES_CONTRACT, COMPANIES[0]),
             (DocumentType.TOW, COMPANIES[1]))
STEPS = st.lists(st.builds(ApprovalStep, st.sampled_from(["Head", "Finance", "General manager"]),
                           st.sampled_from(list(Role)), st.sampled_from(list(StepScope))), min_size=1, max_size=3)
FLAWS = ("first-not-zero", "not-ascending", "three-places", "negative", "over-max", "no-steps", "too-many-steps",
         "too-many-bands", "blank-step-name", "no-band")
Band = tuple[Decimal, tuple[tuple[str, Role, StepScope], ...]]   # the model's band: start, (name, role, scope)…


def _as_model(bands: tuple[AmountBand, ...]) -> tuple[Band, ...]:
    return tuple((b.from_amount, tuple((s.name, s.role, s.scope) for s in b.steps)) for b in bands)


def _typed_like_a_clerk(bands: tuple[Band, ...]) -> list[AmountBand]:
    """The same bands as a client may send them: one decimal place where it suffices,
    names padded, roles and scopes as plain strings."""
    def amount(a: Decimal) -> Decimal:
        return a.quantize(Decimal("0.1")) if a == a.quantize(Decimal("0.1")) else a
    return [AmountBand(amount(start), tuple(ApprovalStep(f" {n} ", str(r), str(s)) for n, r, s in steps))  # type: ignore[arg-type]
            for start, steps in bands]


class ApprovalRules(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.rules: dict[int, ApprovalRule] = {}
        self.model: dict[int, tuple[tuple[Band, ...], int]] = {}    # key index -> (bands, revision)

    @rule(key=st.integers(0, len(RULE_KEYS) - 1), gaps=st.lists(st.integers(1, 500_000_00), max_size=4),
          steps=st.lists(STEPS, min_size=1, max_size=5), flaw=st.sampled_from((None,) * 8 + ("same",) + FLAWS),
          nth=st.integers(0, 30), dressed=st.booleans())
    def set_rule(self, key: int, gaps: list[int], steps: list[list[ApprovalStep]], flaw: str | None, nth: int,
                 dressed: bool) -> None:
        starts, total = [0], 0
        for gap in gaps:
            total += gap
            starts.append(total)
        good: tuple[Band, ...] = tuple((fen(s), tuple((x.name, x.role, x.scope) for x in steps[i % len(steps)]))
                                       for i, s in enumerate(starts))
        if flaw == "same" and key in self.model:
            good = self.model[key][0]
        bands = _typed_like_a_clerk(good) if dressed or flaw == "same" else [
            AmountBand(start, tuple(ApprovalStep(*s) for s in band_steps)) for start, band_steps in good]
        k = nth % len(bands)
        if flaw == "first-not-zero":
            bands[0] = AmountBand(fen(1 + nth), bands[0].steps)
        elif flaw == "not-ascending":
            bands.insert(k + 1, AmountBand(bands[k].from_amount - (nth % 2) * FEN, bands[k].steps))
        elif flaw == "three-places":
            bands[k] = AmountBand(bands[k].from_amount + Decimal("0.001"), bands[k].steps)
        elif flaw == "negative":
            bands[k] = AmountBand(Decimal("-0.01"), bands[k].steps)
        elif flaw == "over-max":
            bands.append(AmountBand(MAX_AMOUNT + FEN, bands[-1].steps))
        elif flaw == "no-steps":
            bands[k] = AmountBand(bands[k].from_amount, ())
        elif flaw == "too-many-steps":
            bands[k] = AmountBand(bands[k].from_amount, bands[k].steps * (MAX_STEPS + 1))
        elif flaw == "too-many-bands":
            bands = [AmountBand(fen(n * 100), bands[0].steps) for n in range(MAX_BANDS + 1)]
        elif flaw == "blank-step-name":
            bands[k] = AmountBand(bands[k].from_amount, (ApprovalStep(" \t ", Role.APPROVER),))
        elif flaw == "no-band":
            bands = []
        invalid = flaw not in (None, "same")
        document_type, company_id = RULE_KEYS[key]
        if key not in self.rules:
            create = lambda: ApprovalRule.set_new(self.ledger.ctx(), document_type, company_id, bands)
            if invalid:
                refused_outright(create, "invalid-value")
                return
            self.rules[key] = self.ledger.created(create())
            self.model[key] = (good, 1)
            return
        rule_, (current, revision) = self.rules[key], self.model[key]
        refusal = "invalid-value" if invalid else "nothing-changed" if good == current else None
        self.ledger.attempt(rule_, lambda: rule_.revise(self.ledger.ctx(), bands), refusal)
        if refusal is None:
            self.model[key] = (good, revision + 1)

    def _expected_steps(self, key: int, amount: Decimal) -> tuple:
        bands = self.model[key][0]
        chosen = [b for b in bands if b[0] <= amount]
        assert chosen, "every amount from 0.00 has a band"
        return max(chosen, key=lambda b: b[0])[1]

    def _check_route(self, key: int, amount: Decimal) -> None:
        rule_ = self.rules[key]
        route = rule_.route_for(amount)
        assert (route.rule_id, route.revision) == (rule_.id, self.model[key][1])
        assert tuple((s.name, s.role, s.scope) for s in route.steps) == self._expected_steps(key, amount), amount

    @rule(key=st.integers(0, len(RULE_KEYS) - 1), amount=st.integers(0, int(MAX_AMOUNT * 100)))
    def route_a_document(self, key: int, amount: int) -> None:
        if key in self.rules:
            self._check_route(key, fen(amount))

    @invariant()
    def rules_are_what_the_model_says(self) -> None:
        for key, rule_ in self.rules.items():
            bands, revision = self.model[key]
            document_type, company_id = RULE_KEYS[key]
            assert rule_.id == ids.approval_rule_id(document_type, company_id)
            assert (rule_.document_type, rule_.company_id, rule_.revision) == (document_type, company_id, revision)
            assert _as_model(rule_.bands) == bands
            assert all(b.from_amount.as_tuple().exponent == -2 for b in rule_.bands)
            for start, _ in bands:   # every band's edges, the start of the scale and its end
                for amount in {start - FEN, start, start + FEN, Decimal("0.00"), MAX_AMOUNT} - {Decimal("-0.01")}:
                    self._check_route(key, amount)
            self.ledger.check_replay(rule_)


TestApprovalRules = ApprovalRules.TestCase
TestApprovalRules.settings = MACHINE_SETTINGS


# ====================================================================== penalty policy
COMPANY = COMPANIES[0]
EIGHT_PLACES = Decimal("0.00000001")
# (as typed, acceptable?)
VALID_RATES = st.integers(0, int(MAX_DAILY_RATE / EIGHT_PLACES)).flatmap(lambda n: st.sampled_from([
    (Decimal(n) * EIGHT_PLACES, True), (format(Decimal(n) * EIGHT_PLACES, "f") + "000", True)]))
ODD_RATES = st.sampled_from([("0.000000001", False), ("0.01000001", False), ("-0.0001", False), ("NaN", False),
                             ("Infinity", False), ("-Infinity", False), ("0.02", False), ("1", False),
                             ("-0", True), ("0E-20", True), ("1E-8", True), ("0.01", True)])


class PenaltyRates(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.today = START
        self.policy: PenaltyPolicy | None = None
        self.model: dict[date, tuple[Decimal, int]] = {}   # effective from -> (daily rate, grace days)
        self.seen: dict[date, PenaltyRate | None] = {}     # the rate a day had once it was no longer future

    @rule(days=st.integers(1, 12))
    def a_day_goes_by(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(offset=st.one_of(st.integers(-3, 1), st.integers(1, 45)), typed=st.one_of(VALID_RATES, ODD_RATES),
          grace=st.one_of(st.integers(0, MAX_GRACE_DAYS), st.sampled_from([-1, MAX_GRACE_DAYS + 1, 365])),
          replace=st.booleans())
    def set_rate(self, offset: int, typed: tuple[Any, bool], grace: int, replace: bool) -> None:
        rate_text, rate_ok = typed
        effective = self.today + timedelta(days=offset)
        future = sorted(d for d in self.model if d > self.today)
        if replace and future:   # a date that already has a rate, while it is still in the future
            effective = future[offset % len(future)]
        wrong = {"daily_rate"} if not rate_ok else set()
        wrong |= {"grace_days"} if not 0 <= grace <= MAX_GRACE_DAYS else set()
        wrong |= {"effective_from"} if effective <= self.today else set()
        # Which fault is told first is the domain's choice; the refusal names one of them.
        codes = {"penalty-rate-not-in-future" if w == "effective_from" else "invalid-value" for w in wrong}
        context = self.ledger.ctx(day=self.today)

        def command() -> PenaltyPolicy | None:
            rate = PenaltyPolicy.check_rate(context, effective, rate_text, grace)
            if self.policy is None:
                return PenaltyPolicy.start(context, COMPANY, rate)
            self.policy.set_rate(context, rate)
            return None

        if self.policy is None:
            if wrong:
                refused = refused_outright(command, codes)
            else:
                self.policy = self.ledger.created(command())
                assert self.policy.id == ids.penalty_policy_id(COMPANY) and self.policy.company_id == COMPANY
                refused = None
        else:
            _, _, refused = self.ledger.attempt(self.policy, command, codes or None)
        if refused is not None:
            field = refused.details.get("field")
            assert field in wrong and (refused.code == "penalty-rate-not-in-future") == (field == "effective_from")
            return
        if effective in self.model:
            event("a future rate replaced")
        self.model[effective] = (Decimal(str(rate_text)), grace)

    @invariant()
    def the_rate_of_a_day_is_the_latest_in_force_on_it(self) -> None:
        if self.policy is None:
            return
        rates = self.policy.rates
        starts = [r.effective_from for r in rates.rates]
        assert starts == sorted(self.model) and len(set(starts)) == len(starts)
        for r in rates.rates:
            assert (r.daily_rate, r.grace_days) == self.model[r.effective_from]
            assert not r.daily_rate.is_signed() and r.daily_rate == r.daily_rate.normalize()
        first = min(self.model)
        for n in range(-2, (max(self.model) - first).days + 3):
            day = first + timedelta(days=n)
            in_force = rates.on(day)
            latest = max((d for d in self.model if d <= day), default=None)
            assert (in_force.effective_from if in_force else None) == latest, day
            if day <= self.today:   # days already past (and today) keep the rate they had
                assert self.seen.setdefault(day, in_force) == in_force, f"{day} was re-rated after it began"
        for day, had in self.seen.items():
            assert rates.on(day) == had, f"{day} was re-rated after it began"
        self.ledger.check_replay(self.policy)


TestPenaltyRates = PenaltyRates.TestCase
TestPenaltyRates.settings = MACHINE_SETTINGS


# ====================================================================== parts catalogue
PRICES = st.one_of(
    st.integers(0, 2_000_000).map(lambda n: (fen(n), True)),
    st.integers(0, 20_000).map(lambda n: (str(Decimal(n) / 10), True)),      # "12.5": one place is fine
    st.sampled_from([(0, True), ("7", True), (MAX_AMOUNT, True), ("-0.01", False), ("0.001", False),
                     ("12.345", False), (MAX_AMOUNT + FEN, False), ("NaN", False), ("Infinity", False),
                     ("abc", False), ("", False)]))
REASONS = st.sampled_from([(None, False), ("", False), (" \t", False), ("x" * 501, False),
                           ("supplier price list 2026", True), ("  typo in the list price ", True)])


class PartsCatalogue(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.parts: list[Part] = []
        self.prices: list[tuple[Decimal, Decimal]] = []

    @initialize(purchase=st.integers(0, 100_000), sale=st.integers(0, 100_000))
    def a_first_part(self, purchase: int, sale: int) -> None:
        self.register("SY-{n}-01", (fen(purchase), True), (fen(sale), True), PartCategory.WEAR)

    @rule(how=st.sampled_from(["SY-{n}-01", "sy-{n}-01", " sy-{n}-0 1 "]), purchase=PRICES, sale=PRICES,
          category=st.sampled_from(list(PartCategory)))
    def register(self, how: str, purchase: tuple[Any, bool], sale: tuple[Any, bool], category: PartCategory) -> None:
        if len(self.parts) >= 3:
            return
        typed = how.format(n=len(self.parts))
        register = lambda: Part.register(self.ledger.ctx(), typed, "Bucket tooth", "pc", category,
                                         purchase[0], sale[0])
        if not (purchase[1] and sale[1]):
            refused_outright(register, "invalid-value")
            return
        part = self.ledger.created(register())
        assert part.part_no == f"SY-{len(self.parts)}-01" and part.id == ids.part_id(typed)
        self.parts.append(part)
        self.prices.append((Decimal(str(purchase[0])), Decimal(str(sale[0]))))

    @precondition(lambda self: self.parts)
    @rule(p=st.integers(0, 9), purchase=PRICES, sale=PRICES, reason=REASONS, keep=st.sampled_from([None, 0, 1]))
    def change_prices(self, p: int, purchase: tuple[Any, bool], sale: tuple[Any, bool],
                      reason: tuple[str | None, bool], keep: int | None) -> None:
        p %= len(self.parts)
        part = self.parts[p]
        new = [purchase, sale]
        if keep is not None:   # one of the two, or (both kept by chance) neither, is what it was
            new[keep] = (str(self.prices[p][keep]), True)
        ok = new[0][1] and new[1][1] and reason[1]
        wanted = (Decimal(str(new[0][0])), Decimal(str(new[1][0]))) if ok else None
        refusal = "invalid-value" if not ok else "nothing-changed" if wanted == self.prices[p] else None
        self.ledger.attempt(part, lambda: part.change_prices(self.ledger.ctx(reason=reason[0]), new[0][0], new[1][0]),
                            refusal)
        if refusal is None:
            self.prices[p] = wanted

    @invariant()
    def parts_have_the_models_prices(self) -> None:
        for part, prices in zip(self.parts, self.prices, strict=True):
            assert (part.purchase_price, part.sale_price) == prices
            for price in (part.purchase_price, part.sale_price):
                assert price.as_tuple().exponent == -2 and not price.is_signed(), price   # yuan to the fen
            self.ledger.check_replay(part)


TestPartsCatalogue = PartsCatalogue.TestCase
TestPartsCatalogue.settings = MACHINE_SETTINGS


def test_a_price_of_minus_zero_is_kept_as_zero():
    ledger = Ledger()
    part = ledger.created(Part.register(ledger.ctx(), "SY-9", "Filter", "pc", PartCategory.FILTER, "1.00", "2.00"))
    part.change_prices(ledger.ctx(reason="free of charge"), Decimal("-0"), "2.00")
    assert str(part.purchase_price) == "0.00"
