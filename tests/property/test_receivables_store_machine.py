"""A hypothesis state machine over the real application on SQLite: an installment sale and a
cash sale, days passing with the nightly penalty run, receipts recorded (often backdated),
confirmed, rejected and reversed. Whatever the sequence:

- the receivables read model equals the debts themselves, figure by figure (items, receipts
  and their splits, penalty);
- money is conserved in the read model: charged = paid + outstanding, for every item;
- a refused command records nothing;
- at the end, the read model rebuilt from the log equals the live one.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from application.caller import SYSTEM, Caller
from application.sales import ContractLineRequest
from domain import ids
from domain.access import Permission, Role, Scope
from domain.approvals import AmountBand, ApprovalStep, DocumentType
from domain.base import DomainError
from domain.contracts import CommercialTerms, InstallmentTerms, PaymentMethod, ScheduleMethod
from domain.customers import PartyKind
from domain.receivables import Debt, ReceiptMethod, ReceiptStatus
from interfaces.composition import BackOffice
from interfaces.settings import Settings
from projections import receivables
from tests.conftest import seed_group
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, CreateCustomer, DefineCustomerType, DraftContract, SubmitContractForApproval, SubmitContractToClerk
from application.receivables.commands import ConfirmReceipt, RecordReceipt, RejectReceipt, ReverseReceipt, SetPenaltyRate

D = Decimal
START = date(2025, 12, 15)
EVERYTHING = Scope(all_companies=True)


def _person(name: str) -> Caller:
    return Caller(uuid4(), name, frozenset(Permission), EVERYTHING, frozenset({Role.FINANCE, Role.APPROVER}))


class ReceivablesOnTheStore(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.day = START
        self.office = office = BackOffice(Settings(data_dir=self.folder, admin_password="admin-pass-2026",
                                                   secret_key="k" * 40, run_penalty_accrual=False),
                                          today=lambda: self.day)
        office.access.ensure_administrator("admin-pass-2026")
        group = seed_group(office)
        self.clerk, self.finance, approver = _person("clerk"), _person("finance"), _person("approver")
        self.day = date(2025, 12, 1)
        office.execute(SYSTEM, SetPenaltyRate(
            company_id=group.hefei, effective_from=date(2025, 12, 20), daily_rate=D("0.0005")))
        office.execute(SYSTEM, SetPenaltyRate(
            company_id=group.hefei, effective_from=date(2026, 2, 1), daily_rate=D("0.0007"), grace_days=2))
        self.day = START
        office.execute(SYSTEM, SetApprovalRule(
            document_type=DocumentType.SALES_CONTRACT, company_id=None,
            bands=[
            AmountBand(D("0.00"), (ApprovalStep("Manager", Role.APPROVER),))]))
        office.execute(SYSTEM, DefineCustomerType(code="FORMAL", name="Formal"))
        customer = UUID(office.execute(SYSTEM, CreateCustomer(
            company_id=group.hefei, name="Buyer", kind=PartyKind.ORGANISATION,
            customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])
        self.contracts: list[UUID] = []
        for terms, price in (
                (CommercialTerms(PaymentMethod.INSTALLMENT, D("20000.00"),
                                 InstallmentTerms(6, D("0.06"), date(2026, 1, 10), ScheduleMethod.EQUAL_INSTALLMENT),
                                 D("5000.00"), date(2026, 3, 1), (), ()), "120000.00"),
                (CommercialTerms(PaymentMethod.CASH, D("0.00"), None, D("0.00"), None, (), ()), "30000.00")):
            contract = UUID(office.execute(SYSTEM, DraftContract(
                company_id=group.hefei, customer_id=customer, contact_id=None,
                lines=[
                ContractLineRequest(group.excavator, 1, D(price))])).body["contract_id"])
            office.execute(SYSTEM, SubmitContractToClerk(contract_id=contract))
            office.execute(SYSTEM, CompleteContractTerms.of(contract, terms))
            office.execute(SYSTEM, SubmitContractForApproval(contract_id=contract))
            office.execute(approver, ApproveContract(contract_id=contract))
            self.contracts.append(contract)
        self.waiting: list[tuple[UUID, UUID]] = []     # (contract, receipt) recorded, not decided
        self.confirmed: list[tuple[UUID, UUID]] = []

    def teardown(self) -> None:
        try:
            live = self._dump()
            self.office.projections["receivables"].reset()
            assert self._dump() == live, "the read model rebuilt from the log differs from the live one"
        finally:
            self.office.stop()
            shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------ helpers
    def _debt(self, contract: UUID) -> Debt:
        debt = self.office.commands.find(ids.debt_id(contract), Debt)
        assert debt is not None
        return debt

    def _events(self) -> int:
        return self.office.ledger.recorder.max_notification_id() or 0

    def _attempt(self, command) -> bool:
        before = self._events()
        try:
            command()
        except DomainError:
            assert self._events() == before, "a refused command recorded something"
            return False
        return True

    def _dump(self) -> dict[str, list]:
        self.office.catch_up()
        with self.office.read() as cur:
            tables = {}
            for table in receivables.ReceivablesProjection.tables:
                cur.execute(f"SELECT * FROM {table}")
                tables[table] = sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in cur.fetchall())
        return tables

    # ------------------------------------------------------------ rules
    @rule(days=st.integers(1, 15))
    def a_few_days_pass_with_the_nightly_run(self, days: int) -> None:
        for _ in range(days):
            self.day += timedelta(days=1)
            self.office.accrue_penalties(SYSTEM, self.day - timedelta(days=1))

    @rule(n=st.integers(0, 1), back=st.integers(0, 40), share=st.integers(1, 100), directed=st.booleans())
    def a_receipt_is_recorded(self, n: int, back: int, share: int, directed: bool) -> None:
        contract = self.contracts[n]
        debt = self._debt(contract)
        value_date = max(self.day - timedelta(days=back), START)
        order = debt.item_order()
        targets = [order[0]] if directed else []
        amount = (debt.total_outstanding * share / 100).quantize(D("0.01"))
        if amount <= 0:
            return
        recorded: dict[str, str] = {}

        def record() -> None:
            recorded.update(self.office.execute(self.clerk, RecordReceipt(
                contract_id=contract, amount=amount, value_date=value_date,
                method=ReceiptMethod.BANK_TRANSFER, allocate_to=targets)).body)

        if self._attempt(record):
            self.waiting.append((contract, UUID(recorded["receipt_id"])))

    @rule(pick=st.integers(0, 10), how=st.sampled_from(["confirm", "confirm", "confirm", "reject", "own"]))
    def finance_decides(self, pick: int, how: str) -> None:
        if not self.waiting:
            return
        contract, receipt = self.waiting[pick % len(self.waiting)]
        if how == "own":     # the clerk who recorded it may not confirm it
            assert not self._attempt(lambda: self.office.execute(self.clerk, ConfirmReceipt(
                contract_id=contract, receipt_id=receipt)))
            return
        if how == "reject":
            assert self._attempt(lambda: self.office.execute(self.finance, RejectReceipt(
                contract_id=contract, receipt_id=receipt, reason="Wrong slip")))
            self.waiting.remove((contract, receipt))
            return
        if self._attempt(lambda: self.office.execute(self.finance, ConfirmReceipt(
            contract_id=contract, receipt_id=receipt))):
            self.confirmed.append((contract, receipt))
            self.waiting.remove((contract, receipt))

    @rule(pick=st.integers(0, 10))
    def finance_reverses(self, pick: int) -> None:
        if not self.confirmed:
            return
        contract, receipt = self.confirmed.pop(pick % len(self.confirmed))
        assert self._attempt(lambda: self.office.execute(self.finance, ReverseReceipt(
            contract_id=contract, receipt_id=receipt, reason="Bounced")))

    # ------------------------------------------------------------ invariants
    @invariant()
    def the_read_model_equals_the_debts(self) -> None:
        self.office.catch_up()
        with self.office.read() as cur:
            for contract in self.contracts:
                debt = self._debt(contract)
                row = receivables.get_receivable(cur, EVERYTHING, None, contract, self.day)
                assert row is not None
                assert row["received"] == debt.received
                assert row["penalty_accrued"] == sum(debt.penalty_charged.values(), D("0.00"))
                assert row["penalty_received"] == sum((p.penalty for p in debt.paid.values()), D("0.00"))
                assert row["outstanding"] == sum((debt.outstanding(k) for k in debt.items), D("0.00"))
                items = {i["item"]: i for i in row["items"]}
                assert set(items) == set(debt.items)
                for key, item in items.items():
                    paid = debt.paid[key]
                    assert (item["principal_paid"], item["interest_paid"], item["penalty_paid"]) == (
                        paid.principal, paid.interest, paid.penalty)
                    assert (item["unpaid"], item["penalty_accrued"]) == (debt.outstanding(key),
                                                                          debt.penalty_charged[key])
                    assert item["principal"] + item["interest"] == item["principal_paid"] + item["interest_paid"] \
                        + item["unpaid"], "money is conserved on every item"
                receipts = {str(r["receipt_id"]): r for r in row["receipts"]}
                assert set(receipts) == {str(k) for k in debt.receipts}
                for receipt_id, receipt in debt.receipts.items():
                    shown = receipts[str(receipt_id)]
                    assert shown["status"] == str(receipt.status)
                    split = {(a["item"], a["penalty"], a["interest"], a["principal"]) for a in shown["allocations"]}
                    active = receipt.allocations if receipt.status == ReceiptStatus.CONFIRMED else ()
                    assert split == {(a.item_key, a.penalty, a.interest, a.principal) for a in active}

    @invariant()
    def recorded_penalty_is_the_replay(self) -> None:
        rates = self.office.receivables.rates_of(self._debt(self.contracts[0]).company_id)
        for contract in self.contracts:
            debt = self._debt(contract)
            replay = debt._replay(debt.active_receipts, rates, debt.accrued_through)
            assert debt.recorded_penalty() == {k: v[2] for k, v in replay.penalty.items()}


TestReceivablesOnTheStore = ReceivablesOnTheStore.TestCase
TestReceivablesOnTheStore.settings = hsettings(max_examples=12, stateful_step_count=20, deadline=None)
