"""Sales contracts: list and detail by status, salesperson, customer, company, date."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from domain.access import Scope
from domain.contracts import Contract, ContractLine, ContractStatus, PaymentMethod, ScheduleMethod
from domain.money import ZERO
from projections.base import Projection, handles, page_bounds, visible_filter
from projections.rows import Row

_json = msgspec.json.Encoder(decimal_format="string")


class ContractsProjection(Projection):
    name = "contracts"
    version = 2   # 2: lines say whether a same-type substitute may be delivered
    tables = ("contracts", "contract_lines")
    ddl = (
        "CREATE TABLE IF NOT EXISTS contracts (contract_id {uuid} PRIMARY KEY, number TEXT NOT NULL,"
        " company_id {uuid} NOT NULL, owner_id {uuid} NOT NULL, customer_id {uuid} NOT NULL, contact_id {uuid},"
        " status TEXT NOT NULL, machines_amount {money} NOT NULL, total_amount {money} NOT NULL,"
        " payment_method TEXT, down_payment {money}, warranty_deposit {money}, terms_json TEXT,"
        " drafted_on {date} NOT NULL, submitted_on {date}, approved_on {date}, last_change_on {date} NOT NULL,"
        " last_reason TEXT, version INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS contracts_company_status ON contracts (company_id, status, drafted_on)",
        "CREATE INDEX IF NOT EXISTS contracts_owner ON contracts (owner_id)",
        "CREATE INDEX IF NOT EXISTS contracts_customer ON contracts (customer_id)",
        "CREATE TABLE IF NOT EXISTS contract_lines (contract_id {uuid} NOT NULL, line_no INTEGER NOT NULL,"
        " model_id {uuid} NOT NULL, model_code TEXT NOT NULL, quantity INTEGER NOT NULL,"
        " unit_price {money} NOT NULL, substitute_allowed {bool} NOT NULL, PRIMARY KEY (contract_id, line_no))",
    )

    @handles(Contract.Drafted)
    def drafted(self, cur: Any, e: Contract.Drafted) -> None:
        amount = _machines(e.lines)
        cur.execute("INSERT INTO contracts (contract_id, number, company_id, owner_id, customer_id, contact_id,"
                    " status, machines_amount, total_amount, drafted_on, last_change_on, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, 'draft', %s, %s, %s, %s, %s)",
                    (e.originator_id, e.number, e.company_id, e.owner_id, e.customer_id, e.contact_id, amount,
                     amount, e.business_date, e.business_date, e.originator_version))
        self._lines(cur, e.originator_id, e.lines)

    @handles(Contract.DraftRevised)
    def revised(self, cur: Any, e: Contract.DraftRevised) -> None:
        amount = _machines(e.lines)
        cur.execute("UPDATE contracts SET customer_id = %s, contact_id = %s, machines_amount = %s,"
                    " total_amount = %s, last_change_on = %s, version = %s WHERE contract_id = %s",
                    (e.customer_id, e.contact_id, amount, amount, e.business_date, e.originator_version,
                     e.originator_id))
        cur.execute("DELETE FROM contract_lines WHERE contract_id = %s", (e.originator_id,))
        self._lines(cur, e.originator_id, e.lines)

    @handles(Contract.TermsCleared)
    def terms_cleared(self, cur: Any, e: Contract.TermsCleared) -> None:
        cur.execute("UPDATE contracts SET total_amount = machines_amount, payment_method = NULL, down_payment = NULL,"
                    " warranty_deposit = NULL, terms_json = NULL, last_change_on = %s, version = %s"
                    " WHERE contract_id = %s", (e.business_date, e.originator_version, e.originator_id))

    @handles(Contract.TermsCompleted)
    def terms(self, cur: Any, e: Contract.TermsCompleted) -> None:
        t = e.terms
        # Money is added up here, never in SQL: SQLite would add text amounts as floats.
        cur.execute("SELECT machines_amount FROM contracts WHERE contract_id = %s", (e.originator_id,))
        machines = Decimal(str(cur.fetchone()["machines_amount"]))
        total = machines + sum((a.unit_price * a.quantity for a in t.accessories), ZERO)
        cur.execute("UPDATE contracts SET total_amount = %s, payment_method = %s,"
                    " down_payment = %s, warranty_deposit = %s, terms_json = %s, last_change_on = %s, version = %s"
                    " WHERE contract_id = %s",
                    (total, str(t.payment), t.down_payment, t.warranty_deposit, _json.encode(t).decode(),
                     e.business_date, e.originator_version, e.originator_id))

    @handles(Contract.SubmittedToClerk, Contract.ReturnedToSalesperson, Contract.SubmittedForApproval,
             Contract.ApprovalStepPassed, Contract.Approved, Contract.Rejected, Contract.Unapproved)
    def moved(self, cur: Any, e: Any) -> None:
        status = {Contract.SubmittedToClerk: "with_clerk", Contract.ReturnedToSalesperson: "draft",
                  Contract.SubmittedForApproval: "in_approval", Contract.ApprovalStepPassed: "in_approval",
                  Contract.Approved: "approved", Contract.Rejected: "with_clerk",
                  Contract.Unapproved: "with_clerk"}[_kind(e)]
        extra = ""
        params: list[Any] = [status, e.business_date, e.originator_version]
        if isinstance(e, Contract.SubmittedForApproval):
            extra = ", submitted_on = %s"
            params.append(e.business_date)
        elif isinstance(e, Contract.Approved):
            extra = ", approved_on = %s"
            params.append(e.business_date)
        elif isinstance(e, Contract.Unapproved):
            extra = ", approved_on = NULL"
        if e.reason is not None:
            extra += ", last_reason = %s"
            params.append(e.reason)
        cur.execute(f"UPDATE contracts SET status = %s, last_change_on = %s, version = %s{extra}"
                    " WHERE contract_id = %s", [*params, e.originator_id])

    @staticmethod
    def _lines(cur: Any, contract_id: UUID, lines: tuple[ContractLine, ...]) -> None:
        cur.executemany("INSERT INTO contract_lines (contract_id, line_no, model_id, model_code, quantity, unit_price,"
                        " substitute_allowed) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(contract_id, n, line.model_id, line.model_code, line.quantity, line.unit_price,
                          line.substitute_allowed)
                         for n, line in enumerate(lines, 1)])


_KINDS = (Contract.SubmittedToClerk, Contract.ReturnedToSalesperson, Contract.SubmittedForApproval,
          Contract.ApprovalStepPassed, Contract.Approved, Contract.Rejected, Contract.Unapproved)


def _kind(e: Any) -> type:
    return next(k for k in _KINDS if isinstance(e, k))


def _machines(lines: tuple[ContractLine, ...]) -> Any:
    return sum((line.unit_price * line.quantity for line in lines), ZERO)


@dataclass(frozen=True)
class ContractFilter:
    company_id: UUID | None = None
    status: str | None = None
    owner_id: UUID | None = None
    customer_id: UUID | None = None
    drafted_from: date | None = None
    drafted_to: date | None = None

    def where(self, scope: Scope, own_only: UUID | None) -> tuple[str, list[Any]]:
        where, params = visible_filter(scope, "k.company_id", "k.owner_id", own_only)
        for column, value in (("k.company_id", self.company_id), ("k.status", self.status),
                              ("k.owner_id", self.owner_id), ("k.customer_id", self.customer_id)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        if self.drafted_from is not None:
            where += " AND k.drafted_on >= %s"
            params.append(self.drafted_from)
        if self.drafted_to is not None:
            where += " AND k.drafted_on <= %s"
            params.append(self.drafted_to)
        return where, params

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = ("k.contract_id, k.number, k.status, k.company_id, c.code AS company_code, k.owner_id,"
            " u.username AS salesperson, k.customer_id, cu.name AS customer_name, k.contact_id,"
            " k.machines_amount, k.total_amount, k.payment_method, k.down_payment, k.warranty_deposit,"
            " k.drafted_on, k.submitted_on, k.approved_on, k.last_change_on, k.last_reason")
_FROM = ("contracts k LEFT JOIN org_companies c ON c.company_id = k.company_id"
         " LEFT JOIN access_users u ON u.user_id = k.owner_id"
         " LEFT JOIN customers cu ON cu.customer_id = k.customer_id")
EXPORT_COLUMNS = ("number", "status", "company_code", "salesperson", "customer_name", "machines_amount",
                  "total_amount", "payment_method", "down_payment", "warranty_deposit", "drafted_on",
                  "submitted_on", "approved_on", "last_change_on", "last_reason", "contract_id")
_ORDER = " ORDER BY k.drafted_on DESC, k.number"


# The orders a list may ask for ("-" first: descending); the contract number breaks ties.
SORTS = {"number": "k.number", "drafted_on": "k.drafted_on", "total_amount": "k.total_amount",
         "customer": "cu.name", "status": "k.status"}


def _order(sort: str | None) -> str:
    column = SORTS.get((sort or "").lstrip("-"))
    if column is None:
        return _ORDER
    return f" ORDER BY {column}{' DESC' if (sort or '').startswith('-') else ''}, k.number"


def list_contracts(cur: Any, scope: Scope, own_only: UUID | None, flt: ContractFilter, page: int,
                   page_size: int, sort: str | None = None) -> tuple[list[dict[str, Any]], int]:
    where, params = flt.where(scope, own_only)
    cur.execute(f"SELECT COUNT(*) AS n FROM contracts k WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where}{_order(sort)} LIMIT %s OFFSET %s",
                [*params, limit, offset])
    return cur.fetchall(), total


def count_contracts(cur: Any, scope: Scope, own_only: UUID | None, flt: ContractFilter) -> list[dict[str, Any]]:
    where, params = flt.where(scope, own_only)
    cur.execute(f"SELECT k.company_id, c.code AS company_code, k.status, COUNT(*) AS contracts"
                f" FROM {_FROM} WHERE {where}"
                " GROUP BY k.company_id, c.code, k.status ORDER BY c.code, k.status", params)
    return cur.fetchall()


def export_contracts(cur: Any, scope: Scope, own_only: UUID | None, flt: ContractFilter,
                     batch: int = 1000) -> Iterator[dict[str, Any]]:
    where, params = flt.where(scope, own_only)
    offset = 0
    while True:
        cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where}{_ORDER}, k.contract_id LIMIT %s OFFSET %s",
                    [*params, batch, offset])
        rows = cur.fetchall()
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def list_salespeople(cur: Any, scope: Scope, own_only: UUID | None) -> list[dict[str, Any]]:
    """The salespeople owning contracts the caller sees (a list filter's choices)."""
    where, params = visible_filter(scope, "k.company_id", "k.owner_id", own_only)
    cur.execute("SELECT DISTINCT k.owner_id, u.username AS salesperson FROM contracts k"
                f" LEFT JOIN access_users u ON u.user_id = k.owner_id WHERE {where} ORDER BY u.username", params)
    return cur.fetchall()


def get_contract(cur: Any, scope: Scope, own_only: UUID | None, contract_id: UUID) -> dict[str, Any] | None:
    where, params = visible_filter(scope, "k.company_id", "k.owner_id", own_only)
    cur.execute(f"SELECT {_COLUMNS}, k.terms_json FROM {_FROM} WHERE k.contract_id = %s AND {where}",
                [contract_id, *params])
    row = cur.fetchone()
    if row is None:
        return None
    terms = row.pop("terms_json")
    row["terms"] = msgspec.json.decode(terms) if terms else None
    cur.execute("SELECT line_no, model_id, model_code, quantity, unit_price, substitute_allowed FROM contract_lines"
                " WHERE contract_id = %s ORDER BY line_no", (contract_id,))
    row["lines"] = [{**line, "substitute_allowed": bool(line["substitute_allowed"])} for line in cur.fetchall()]
    return row


# ================================================================ typed rows
class ContractRow(Row):
    contract_id: UUID
    number: str
    status: ContractStatus
    company_id: UUID
    company_code: str | None
    owner_id: UUID
    salesperson: str | None
    customer_id: UUID
    customer_name: str | None
    contact_id: UUID | None
    machines_amount: Decimal
    total_amount: Decimal
    payment_method: PaymentMethod | None
    down_payment: Decimal | None
    warranty_deposit: Decimal | None
    drafted_on: date
    submitted_on: date | None
    approved_on: date | None
    last_change_on: date
    last_reason: str | None


class InstallmentTermsRow(Row):
    months: int
    annual_rate: Decimal
    first_due_date: date
    method: ScheduleMethod


class AgreedAccessoryRow(Row):
    name: str
    quantity: int
    unit_price: Decimal


class GrantedCouponRow(Row):
    face_value: Decimal
    quantity: int
    note: str | None


class ContractTermsRow(Row):
    payment: PaymentMethod
    down_payment: Decimal
    installment: InstallmentTermsRow | None
    warranty_deposit: Decimal
    warranty_due_date: date | None
    accessories: list[AgreedAccessoryRow]
    coupons: list[GrantedCouponRow]


class ContractLineRow(Row):
    line_no: int
    model_id: UUID
    model_code: str
    quantity: int
    unit_price: Decimal
    substitute_allowed: bool


class ContractDetailRow(ContractRow):
    terms: ContractTermsRow | None
    lines: list[ContractLineRow]


class ContractCountRow(Row):
    company_id: UUID
    company_code: str | None
    status: ContractStatus
    contracts: int
