"""A hypothesis state machine over the real application on SQLite: picks, releases,
finance reviews, dispatches, swaps and un-approvals across several contracts and
units, valid or not. Whatever the sequence:

- no unit is ever reserved by, or out under, two contracts;
- the stock read model equals the units' own states, row by row and in its counts;
- each command is allowed exactly when a simple model of the business says so,
  and a refused command records nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
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
from domain.contracts import CommercialTerms, Contract, PaymentMethod
from domain.customers import PartyKind
from domain.machines import MachineNature, MachineUnit
from interfaces.composition import BackOffice
from interfaces.settings import Settings
from projections.machine_stock import StockFilter, count_stock, list_stock
from tests.conftest import TODAY, seed_group
from application.stock.commands import ReceiveMachine
from application.delivery.commands import DispatchMachine, PickMachine, ReleaseMachine, ReviewOutbound, SwapMachine
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, CreateCustomer, DefineCustomerType, DraftContract, SubmitContractForApproval, SubmitContractToClerk, UnapproveContract

SERIALS = [f"U{n}" for n in range(5)]
CONTRACTS = 3
QUANTITY = 2


@dataclass
class ContractModel:
    """What the business says about one contract's delivery."""

    outbounds: dict[int, str] = field(default_factory=dict)      # number -> open/reviewed/dispatched/cancelled
    picks: dict[str, int] = field(default_factory=dict)          # serial -> outbound number
    dispatched: set[str] = field(default_factory=set)

    def open_outbound(self) -> int:
        last = max(self.outbounds, default=0)
        return last if last and self.outbounds[last] == "open" else last + 1


class Delivery(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.office = office = BackOffice(Settings(data_dir=self.folder, admin_password="admin-pass-2026",
                                                   secret_key="k" * 40), today=lambda: TODAY)
        office.access.ensure_administrator("admin-pass-2026")
        group = seed_group(office)
        everything = Scope(all_companies=True)
        self.approver = Caller(uuid4(), "approver", frozenset(Permission), everything, frozenset({Role.APPROVER}))
        office.execute(SYSTEM, SetApprovalRule(
            document_type=DocumentType.SALES_CONTRACT, company_id=None,
            bands=[
            AmountBand(Decimal("0.00"), (ApprovalStep("Manager", Role.APPROVER),))]))
        office.execute(SYSTEM, DefineCustomerType(code="FORMAL", name="Formal"))
        customer = UUID(office.execute(SYSTEM, CreateCustomer(
            company_id=group.hefei, name="Buyer", kind=PartyKind.ORGANISATION,
            customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])
        self.contracts: list[UUID] = []
        for _ in range(CONTRACTS):
            contract = UUID(office.execute(SYSTEM, DraftContract(
                company_id=group.hefei, customer_id=customer, contact_id=None,
                lines=[
                ContractLineRequest(group.excavator, QUANTITY, Decimal("100000.00"))])).body["contract_id"])
            office.execute(SYSTEM, SubmitContractToClerk(contract_id=contract))
            office.execute(SYSTEM, CompleteContractTerms.of(contract, CommercialTerms(
                PaymentMethod.CASH, Decimal("0.00"), None, Decimal("0.00"), None, (), ())))
            self._approve(contract)
            self.contracts.append(contract)
        for serial in SERIALS:
            office.execute(SYSTEM, ReceiveMachine(
                serial_number=serial, model_id=group.excavator, warehouse_id=group.hefei_main,
                nature=MachineNature.PURCHASED_SAMPLE))
        self.model = {c: ContractModel() for c in self.contracts}

    def _approve(self, contract: UUID) -> None:
        self.office.execute(SYSTEM, SubmitContractForApproval(contract_id=contract))
        self.office.execute(self.approver, ApproveContract(contract_id=contract))

    def teardown(self) -> None:
        self.office.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------ the model's view
    def _holder(self, serial: str) -> UUID | None:
        holders = [c for c, m in self.model.items() if serial in m.picks]
        assert len(holders) <= 1
        return holders[0] if holders else None

    def _events(self) -> int:
        return self.office.ledger.recorder.max_notification_id() or 0

    def _attempt(self, allowed: bool, command) -> bool:
        before = self._events()
        try:
            command()
        except DomainError as refused:
            assert not allowed, f"refused but allowed: {refused.code}: {refused.message}"
            assert self._events() == before, "a refused command recorded something"
            return False
        assert allowed, "accepted but the business forbids it"
        return True

    # ------------------------------------------------------------ rules
    @rule(n=st.integers(0, CONTRACTS - 1), serial=st.sampled_from(SERIALS))
    def pick(self, n: int, serial: str) -> None:
        contract, m = self.contracts[n], self.model[self.contracts[n]]
        allowed = self._holder(serial) is None and len(m.picks) < QUANTITY
        if self._attempt(allowed, lambda: self.office.execute(SYSTEM, PickMachine(
            contract_id=contract, serial_number=serial))):
            number = m.open_outbound()
            m.outbounds.setdefault(number, "open")
            m.picks[serial] = number

    @rule(n=st.integers(0, CONTRACTS - 1), serial=st.sampled_from(SERIALS))
    def release(self, n: int, serial: str) -> None:
        contract, m = self.contracts[n], self.model[self.contracts[n]]
        allowed = serial in m.picks and serial not in m.dispatched and m.outbounds[m.picks[serial]] == "open"
        if self._attempt(allowed, lambda: self.office.execute(SYSTEM, ReleaseMachine(
            contract_id=contract, serial_number=serial, reason="pick changed"))):
            del m.picks[serial]

    @rule(n=st.integers(0, CONTRACTS - 1))
    def review(self, n: int) -> None:
        contract, m = self.contracts[n], self.model[self.contracts[n]]
        number = max(m.outbounds, default=1)
        allowed = (m.outbounds.get(number) == "open"
                   and any(o == number for s, o in m.picks.items() if s not in m.dispatched))
        if self._attempt(allowed, lambda: self.office.execute(SYSTEM, ReviewOutbound(
            contract_id=contract, outbound_no=number))):
            m.outbounds[number] = "reviewed"

    @rule(n=st.integers(0, CONTRACTS - 1))
    def dispatch(self, n: int) -> None:
        contract, m = self.contracts[n], self.model[self.contracts[n]]
        number = max(m.outbounds, default=1)
        allowed = m.outbounds.get(number) == "reviewed"
        if self._attempt(allowed, lambda: self.office.execute(SYSTEM, DispatchMachine(
            contract_id=contract, outbound_no=number))):
            m.outbounds[number] = "dispatched"
            m.dispatched |= {s for s, o in m.picks.items() if o == number}

    @rule(n=st.integers(0, CONTRACTS - 1), old=st.sampled_from(SERIALS), new=st.sampled_from(SERIALS))
    def swap(self, n: int, old: str, new: str) -> None:
        contract, m = self.contracts[n], self.model[self.contracts[n]]
        allowed = old in m.dispatched and self._holder(new) is None
        if self._attempt(allowed, lambda: self.office.execute(SYSTEM, SwapMachine(
            contract_id=contract, old_serial=old, new_serial=new, reason="fault on delivery"))):
            m.picks[new] = m.picks.pop(old)
            m.dispatched = (m.dispatched - {old}) | {new}

    @rule(n=st.integers(0, CONTRACTS - 1))
    def unapprove_and_approve_again(self, n: int) -> None:
        contract, m = self.contracts[n], self.model[self.contracts[n]]
        allowed = not m.dispatched
        if self._attempt(allowed, lambda: self.office.execute(self.approver, UnapproveContract(
            contract_id=contract, reason="review"))):
            m.picks.clear()
            for number, status in m.outbounds.items():
                if status in ("open", "reviewed"):
                    m.outbounds[number] = "cancelled"
            self._approve(contract)

    # ------------------------------------------------------------ invariants
    @invariant()
    def no_unit_is_held_by_two_contracts_and_the_store_agrees_with_the_model(self) -> None:
        repository = self.office.ledger.repository
        held: dict[str, UUID] = {}
        for contract_id in self.contracts:
            contract = repository.get(contract_id)
            assert isinstance(contract, Contract)
            m = self.model[contract_id]
            assert set(contract.picks) == set(m.picks) and contract.dispatched_serials == m.dispatched
            for serial in contract.picks:
                assert serial not in held, f"{serial} on two contracts"
                held[serial] = contract_id
        for serial in SERIALS:
            unit = repository.get(ids.machine_unit_id(serial))
            assert isinstance(unit, MachineUnit)
            holder = held.get(serial)
            expected = ("in_stock" if holder is None
                        else "out" if serial in self.model[holder].dispatched else "reserved")
            assert (unit.status, unit.contract_id) == (expected, holder), serial

    @invariant()
    def the_stock_read_model_equals_the_units(self) -> None:
        self.office.catch_up()
        repository = self.office.ledger.repository
        units = {s: repository.get(ids.machine_unit_id(s)) for s in SERIALS}
        everything = Scope(all_companies=True)
        with self.office.read() as cur:
            rows, total = list_stock(cur, everything, StockFilter(), 1, 100)
            counts = count_stock(cur, everything, StockFilter(), ["status"])
        assert total == len(SERIALS)
        for row in rows:
            unit = units[row["serial_number"]]
            assert row["status"] == unit.status
            assert (UUID(str(row["contract_id"])) if row["contract_id"] else None) == unit.contract_id
        by_status: dict[str, int] = {}
        for unit in units.values():
            by_status[unit.status] = by_status.get(unit.status, 0) + 1
        assert {r["status"]: r["machines"] for r in counts} == by_status


TestDelivery = Delivery.TestCase
TestDelivery.settings = hsettings(max_examples=25, stateful_step_count=30, deadline=None)
