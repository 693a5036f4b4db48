"""Access control (权限管理) as business facts.

- A **role** says what a user may do (functional permission).
- A **position** (岗位) grants a set of member companies, or the whole group;
  the companies of a user's positions are the data the user sees (data permission).
Every grant and revoke is an event, so an auditor can say who could do what, when.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, require_text


class Permission(StrEnum):
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATION = "manage_organisation"
    VIEW_ORGANISATION = "view_organisation"
    RECEIVE_MACHINE = "receive_machine"
    TRANSFER_MACHINE = "transfer_machine"
    VIEW_STOCK = "view_stock"
    VIEW_HISTORY = "view_history"
    MANAGE_CUSTOMER_CATALOGUE = "manage_customer_catalogue"   # customer types and tags
    REGISTER_CUSTOMERS = "register_customers"                 # customers and contacts
    TAG_CUSTOMERS = "tag_customers"
    LINK_CONTACTS = "link_contacts"
    VIEW_CUSTOMERS = "view_customers"
    # Sees every customer, contact and contract of their companies, not only their own:
    # clerks, department heads (approvers) and the scopes above them.
    VIEW_ALL_SALES = "view_all_sales"
    DRAFT_CONTRACTS = "draft_contracts"
    PREPARE_CONTRACTS = "prepare_contracts"       # the clerk: terms, return, submit for approval
    UNAPPROVE_CONTRACTS = "unapprove_contracts"   # contract review
    VIEW_CONTRACTS = "view_contracts"
    MANAGE_APPROVAL_RULES = "manage_approval_rules"
    VIEW_APPROVALS = "view_approvals"
    PICK_MACHINES = "pick_machines"               # 推选机号, release a pick
    PREPARE_OUTBOUNDS = "prepare_outbounds"       # accessory outbound lines
    REVIEW_OUTBOUNDS = "review_outbounds"         # 出库单财务审核, return a reviewed outbound
    DISPATCH_MACHINES = "dispatch_machines"       # 出库发车
    SWAP_MACHINES = "swap_machines"               # 销售换机
    VIEW_DELIVERIES = "view_deliveries"
    MANAGE_SCHEDULES = "manage_schedules"         # generate or type a contract's installment schedule
    RECORD_RECEIPTS = "record_receipts"           # 收款
    CONFIRM_RECEIPTS = "confirm_receipts"         # 收款确认; reject or reverse a receipt
    MANAGE_PENALTY_RATES = "manage_penalty_rates" # 罚息率 per member company
    ACCRUE_PENALTIES = "accrue_penalties"         # run the daily penalty accrual by hand
    VIEW_RECEIVABLES = "view_receivables"
    ASSIGN_COLLECTORS = "assign_collectors"       # 催收派工; the office also acts on any debt it sees
    WRITE_COLLECTION_LOGS = "write_collection_logs"
    APPLY_COLLECTION_ACTS = "apply_collection_acts"   # interest waiver, lock, unlock, tow applications
    APPLY_SETTLEMENTS = "apply_settlements"           # 结清申请
    REGISTER_COLLECTION_ACTS = "register_collection_acts"   # 锁机 / 开机 / 拖机登记 once approved
    RELEASE_SETTLEMENT_DOCUMENTS = "release_settlement_documents"   # invoice and 合格证 after settlement
    ISSUE_COUPONS = "issue_coupons"               # 卡券: promotion and gift coupons
    MANAGE_COUPONS = "manage_coupons"             # adjust, change details, void
    VIEW_COUPONS = "view_coupons"
    MANAGE_PARTS_CATALOGUE = "manage_parts_catalogue"   # 配件档案: part numbers, names, list prices
    VIEW_PARTS = "view_parts"                     # the catalogue, parts stock and movements
    PURCHASE_PARTS = "purchase_parts"             # 配件采购单
    RECEIVE_PARTS = "receive_parts"               # 入库 of purchased parts
    SELL_PARTS = "sell_parts"                     # 配件报价, 配件销售, cancel a sale not yet shipped
    SHIP_PARTS = "ship_parts"                     # 配件出库: the warehouse keeper ships an outbound
    HANDLE_PARTS_REQUESTS = "handle_parts_requests"   # the office: 紧急采购 paths, any technician's requests
    REQUEST_PARTS = "request_parts"               # a technician: "my parts", work orders, consumption


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    SALESPERSON = "salesperson"            # 业务员
    SALES_CLERK = "sales_clerk"            # 营业内勤 / sales administrator
    APPROVER = "approver"                  # leader who approves
    FINANCE = "finance"
    WAREHOUSE_KEEPER = "warehouse_keeper"  # 库管
    TECHNICIAN = "technician"              # 技师
    COLLECTOR = "collector"                # 催收人员
    AUDITOR = "auditor"


_READ = {Permission.VIEW_ORGANISATION, Permission.VIEW_STOCK, Permission.VIEW_PARTS}
_SALES_READ = {Permission.VIEW_CUSTOMERS, Permission.VIEW_CONTRACTS, Permission.VIEW_ALL_SALES}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.SALESPERSON: frozenset(_READ | {Permission.REGISTER_CUSTOMERS, Permission.TAG_CUSTOMERS,
                                         Permission.VIEW_CUSTOMERS, Permission.DRAFT_CONTRACTS,
                                         Permission.VIEW_CONTRACTS, Permission.PICK_MACHINES,
                                         Permission.PREPARE_OUTBOUNDS, Permission.VIEW_DELIVERIES,
                                         Permission.VIEW_RECEIVABLES}),
    Role.SALES_CLERK: frozenset(_READ | _SALES_READ | {
        Permission.RECEIVE_MACHINE, Permission.REGISTER_CUSTOMERS, Permission.TAG_CUSTOMERS,
        Permission.LINK_CONTACTS, Permission.PREPARE_CONTRACTS, Permission.VIEW_HISTORY,
        Permission.PICK_MACHINES, Permission.PREPARE_OUTBOUNDS, Permission.DISPATCH_MACHINES,
        Permission.SWAP_MACHINES, Permission.VIEW_DELIVERIES, Permission.MANAGE_SCHEDULES,
        Permission.RECORD_RECEIPTS, Permission.VIEW_RECEIVABLES, Permission.APPLY_SETTLEMENTS,
        Permission.REGISTER_COLLECTION_ACTS, Permission.ISSUE_COUPONS, Permission.VIEW_COUPONS,
        Permission.MANAGE_PARTS_CATALOGUE, Permission.PURCHASE_PARTS, Permission.SELL_PARTS,
        Permission.HANDLE_PARTS_REQUESTS}),
    Role.APPROVER: frozenset(_READ | _SALES_READ | {Permission.VIEW_HISTORY, Permission.VIEW_APPROVALS,
                                                    Permission.UNAPPROVE_CONTRACTS, Permission.VIEW_DELIVERIES,
                                                    Permission.VIEW_RECEIVABLES, Permission.VIEW_COUPONS}),
    Role.FINANCE: frozenset(_READ | _SALES_READ | {Permission.VIEW_HISTORY, Permission.VIEW_APPROVALS,
                                                   Permission.REVIEW_OUTBOUNDS, Permission.VIEW_DELIVERIES,
                                                   Permission.MANAGE_SCHEDULES, Permission.RECORD_RECEIPTS,
                                                   Permission.CONFIRM_RECEIPTS, Permission.ACCRUE_PENALTIES,
                                                   Permission.VIEW_RECEIVABLES, Permission.ASSIGN_COLLECTORS,
                                                   Permission.WRITE_COLLECTION_LOGS,
                                                   Permission.APPLY_COLLECTION_ACTS, Permission.APPLY_SETTLEMENTS,
                                                   Permission.RELEASE_SETTLEMENT_DOCUMENTS,
                                                   Permission.ISSUE_COUPONS, Permission.MANAGE_COUPONS,
                                                   Permission.VIEW_COUPONS}),
    # The warehouse keeper sends out what finance reviewed: every outbound of their
    # companies, not only a salesperson's own (hence VIEW_ALL_SALES), but no customer files.
    Role.WAREHOUSE_KEEPER: frozenset(_READ | {Permission.RECEIVE_MACHINE, Permission.TRANSFER_MACHINE,
                                              Permission.VIEW_HISTORY, Permission.VIEW_ALL_SALES,
                                              Permission.DISPATCH_MACHINES, Permission.VIEW_DELIVERIES,
                                              Permission.RECEIVE_PARTS, Permission.SHIP_PARTS}),
    Role.TECHNICIAN: frozenset({Permission.VIEW_ORGANISATION, Permission.VIEW_PARTS, Permission.REQUEST_PARTS}),
    Role.COLLECTOR: frozenset(_READ | _SALES_READ | {Permission.VIEW_RECEIVABLES, Permission.VIEW_HISTORY,
                                                     Permission.WRITE_COLLECTION_LOGS,
                                                     Permission.APPLY_COLLECTION_ACTS, Permission.VIEW_COUPONS}),
    Role.AUDITOR: frozenset(_READ | _SALES_READ | {Permission.VIEW_HISTORY, Permission.VIEW_DELIVERIES,
                                                   Permission.VIEW_RECEIVABLES, Permission.VIEW_COUPONS}),
}


@dataclass(frozen=True)
class Scope:
    """The member companies whose data a user sees."""

    all_companies: bool = False
    companies: frozenset[UUID] = frozenset()

    def includes(self, company_id: UUID | None) -> bool:
        if company_id is None:  # group-wide facts (models, users) are not company data
            return True
        return self.all_companies or company_id in self.companies

    def union(self, other: Scope) -> Scope:
        return Scope(self.all_companies or other.all_companies, self.companies | other.companies)


class RoleAlreadyGrantedError(DomainError):
    code = "role-already-granted"


class RoleNotGrantedError(DomainError):
    code = "role-not-granted"


class PositionAlreadyAssignedError(DomainError):
    code = "position-already-assigned"


class PositionNotAssignedError(DomainError):
    code = "position-not-assigned"


class LastAdministratorError(DomainError):
    code = "last-administrator"


class Position(DealerAggregate):
    """岗位: grants the data of a set of member companies, or of the whole group."""

    class Created(DealerAggregate.Created):
        name: str
        company_ids: tuple[UUID, ...]
        all_companies: bool

        def apply(self, position: Position) -> None:
            position.name = self.name
            position.company_ids = frozenset(self.company_ids)
            position.all_companies = self.all_companies

    class CompaniesChanged(DealerAggregate.Event):
        company_ids: tuple[UUID, ...]
        all_companies: bool

        def apply(self, position: Position) -> None:
            position.company_ids = frozenset(self.company_ids)
            position.all_companies = self.all_companies

    @classmethod
    def create(cls, ctx: Context, name: str, company_ids: list[UUID], all_companies: bool) -> Position:
        name = require_text(name, "name", 100)
        cls._check_grant(company_ids, all_companies)
        return cls._start(cls.Created, ids.position_id(name), ctx, None, name=name,
                          company_ids=tuple(sorted(set(company_ids))), all_companies=all_companies)

    def change_companies(self, ctx: Context, company_ids: list[UUID], all_companies: bool) -> None:
        self._check_grant(company_ids, all_companies)
        new = tuple(sorted(set(company_ids)))
        if frozenset(new) == self.company_ids and all_companies == self.all_companies:
            raise DomainError(f"Position {self.name} already grants exactly these companies.",
                              code="nothing-changed")
        self._record(self.CompaniesChanged, ctx, None, company_ids=new, all_companies=all_companies)

    @staticmethod
    def _check_grant(company_ids: list[UUID], all_companies: bool) -> None:
        if all_companies and company_ids:
            raise InvalidValueError("A whole-group position lists no companies.", field="company_ids")
        if not all_companies and not company_ids:
            raise InvalidValueError("A position grants at least one company, or the whole group.",
                                    field="company_ids")

    @property
    def scope(self) -> Scope:
        return Scope(self.all_companies, self.company_ids)


class User(DealerAggregate):
    """A person who signs in. The password hash is computed outside the domain."""

    class Created(DealerAggregate.Created):
        username: str
        display_name: str
        password_hash: str

        def apply(self, user: User) -> None:
            user.username = self.username
            user.display_name = self.display_name
            user.password_hash = self.password_hash
            user.roles = frozenset()
            user.position_ids = frozenset()
            user.credentials_version = 1

    class RoleGranted(DealerAggregate.Event):
        role: Role

        def apply(self, user: User) -> None:
            user.roles = user.roles | {self.role}

    class RoleRevoked(DealerAggregate.Event):
        role: Role

        def apply(self, user: User) -> None:
            user.roles = user.roles - {self.role}

    class PositionAssigned(DealerAggregate.Event):
        position_id: UUID
        position_name: str

        def apply(self, user: User) -> None:
            user.position_ids = user.position_ids | {self.position_id}

    class PositionUnassigned(DealerAggregate.Event):
        position_id: UUID

        def apply(self, user: User) -> None:
            user.position_ids = user.position_ids - {self.position_id}

    class PasswordChanged(DealerAggregate.Event):
        password_hash: str

        def apply(self, user: User) -> None:
            user.password_hash = self.password_hash
            user.credentials_version += 1  # tokens issued before are no longer accepted

    @staticmethod
    def check_username(username: str) -> str:
        name = require_text(username, "username", 60).lower()
        if not all(c.isalnum() or c in "._-" for c in name):
            raise InvalidValueError("A user name uses letters, digits, '.', '_' or '-' only.", field="username")
        return name

    @classmethod
    def create(cls, ctx: Context, username: str, display_name: str, password_hash: str) -> User:
        name = cls.check_username(username)
        return cls._start(cls.Created, ids.user_id(name), ctx, None, username=name,
                          display_name=require_text(display_name, "display_name", 100),
                          password_hash=password_hash)

    def grant_role(self, ctx: Context, role: Role) -> None:
        if role in self.roles:
            raise RoleAlreadyGrantedError(f"{self.username} already has the role {role}.")
        self._record(self.RoleGranted, ctx, None, role=role)

    def revoke_role(self, ctx: Context, role: Role) -> None:
        if role not in self.roles:
            raise RoleNotGrantedError(f"{self.username} does not have the role {role}.")
        if role == Role.ADMINISTRATOR and ctx.actor_id == self.id:
            raise LastAdministratorError("An administrator cannot take the administrator role from themself.")
        self._record(self.RoleRevoked, ctx, None, role=role)

    def assign_position(self, ctx: Context, position: Position) -> None:
        if position.id in self.position_ids:
            raise PositionAlreadyAssignedError(f"{self.username} already holds position {position.name}.")
        self._record(self.PositionAssigned, ctx, None, position_id=position.id, position_name=position.name)

    def unassign_position(self, ctx: Context, position_id: UUID) -> None:
        if position_id not in self.position_ids:
            raise PositionNotAssignedError(f"{self.username} does not hold that position.")
        self._record(self.PositionUnassigned, ctx, None, position_id=position_id)

    def change_password(self, ctx: Context, password_hash: str) -> None:
        self._record(self.PasswordChanged, ctx, None, password_hash=password_hash)

    @property
    def permissions(self) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS[role]
        return frozenset(granted)
