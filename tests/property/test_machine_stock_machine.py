"""A hypothesis state machine over the real application on SQLite: whatever
sequence of receipts and transfers clerks send (valid or not), the stock read
model equals a simple model of the business, a serial exists at most once, and
a refused command records nothing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from uuid import uuid4

from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from application.caller import SYSTEM, Caller
from domain.access import Permission, Scope
from domain.base import DomainError
from domain.machines import MachineNature
from interfaces.composition import BackOffice
from interfaces.settings import Settings
from projections.machine_stock import StockFilter, count_stock, list_stock
from tests.conftest import TODAY, seed_group
from application.stock.commands import ReceiveMachine, TransferMachine

SERIALS = [f"SN-{n}" for n in range(8)]


class MachineStock(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.office = BackOffice(Settings(data_dir=self.folder, admin_password="admin-pass-2026",
                                          secret_key="k" * 40), today=lambda: TODAY)
        self.office.access.ensure_administrator("admin-pass-2026")
        group = seed_group(self.office)
        self.warehouses = {group.hefei_main: group.hefei, group.hefei_yard: group.hefei,
                           group.chuzhou_main: group.chuzhou}
        self.parts = group.hefei_parts
        self.model_id = group.excavator
        self.hefei = group.hefei
        self.hefei_keeper = Caller(uuid4(), "hefei", frozenset(Permission), Scope(companies=frozenset({group.hefei})))
        self.where: dict[str, object] = {}  # serial -> warehouse id: the model

    def teardown(self) -> None:
        self.office.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _events(self) -> int:
        return self.office.ledger.recorder.max_notification_id() or 0

    @rule(serial=st.sampled_from(SERIALS), index=st.integers(0, 3), scoped=st.booleans())
    def receive(self, serial: str, index: int, scoped: bool) -> None:
        warehouse = (list(self.warehouses) + [self.parts])[index]
        caller = self.hefei_keeper if scoped else SYSTEM
        allowed = (serial not in self.where and warehouse != self.parts
                   and (not scoped or self.warehouses[warehouse] == self.hefei))
        before = self._events()
        try:
            self.office.execute(caller, ReceiveMachine(
                serial_number=serial, model_id=self.model_id, warehouse_id=warehouse,
                nature=MachineNature.TRADE_IN))
        except DomainError:
            assert not allowed
            assert self._events() == before
        else:
            assert allowed
            self.where[serial] = warehouse

    @precondition(lambda self: self.where)
    @rule(data=st.data(), index=st.integers(0, 3))
    def transfer(self, data: st.DataObject, index: int) -> None:
        serial = data.draw(st.sampled_from(sorted(self.where)))
        target = (list(self.warehouses) + [self.parts])[index]
        allowed = target != self.where[serial] and target != self.parts
        before = self._events()
        try:
            self.office.execute(SYSTEM, TransferMachine(
                serial_number=serial, to_warehouse_id=target, reason="rebalancing"))
        except DomainError:
            assert not allowed
            assert self._events() == before
        else:
            assert allowed
            self.where[serial] = target

    @invariant()
    def stock_view_equals_the_model(self) -> None:
        self.office.catch_up()
        with self.office.read() as cur:
            rows, total = list_stock(cur, SYSTEM.scope, StockFilter(), 1, 100)
            hefei_count = count_stock(cur, self.hefei_keeper.scope, StockFilter(), [])
        assert total == len(self.where)
        assert {r["serial_number"]: str(r["warehouse_id"]) for r in rows} == {
            s: str(w) for s, w in self.where.items()}
        assert {str(r["company_id"]) for r in rows} <= {str(c) for c in self.warehouses.values()}
        in_hefei = sum(1 for w in self.where.values() if self.warehouses[w] == self.hefei)
        assert hefei_count == [{"machines": in_hefei}]


MachineStock.TestCase.settings = hsettings(max_examples=12, stateful_step_count=15, deadline=None)
TestMachineStock = MachineStock.TestCase
