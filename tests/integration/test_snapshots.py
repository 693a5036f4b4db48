"""Snapshots of debts, on real SQLite and PostgreSQL: a debt overdue for months is snapshotted
every 50 events; loading it from its snapshot gives exactly the state replayed from all its
events; a receipt after the snapshot still replays the penalty to the fen; and the snapshot
codec rebuilds every type a debt holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

from application.ledger import IronLedger
from domain import ids
from domain.parts import PartCategory, PartStock
from domain.receivables import Debt
from domain.snapshots import tag, untag
from tests.integration.test_receivables import (  # noqa: F401  (fixtures)
    Clock, People, accrue, clock, group, office, pay, people, receivable, scenario_until_april)
from application.parts.commands import (
    CreatePart,
    CreatePurchaseOrder,
    PartLineRequest,
    ReceivedLineRequest,
    ReceivePurchase,
)


def replayed(office, debt_id) -> Debt:
    """The debt from all its events, without any snapshot."""
    debt = None
    for event in office.ledger.events.get(debt_id):
        debt = event.mutate(debt)
    return debt


def snapshot_versions(office, debt_id) -> list[int]:
    return [s.originator_version for s in office.ledger.snapshots.get(debt_id)]


def test_a_long_overdue_debt_loads_from_its_snapshot_as_it_replays(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    debt_id = ids.debt_id(contract)
    day = date(2026, 3, 31)
    while len(list(office.ledger.events.get(debt_id))) < 2 * IronLedger.SNAPSHOT_EVERY + 10:
        accrue(office, clock, day)
        day = date.fromordinal(day.toordinal() + 1)
    versions = snapshot_versions(office, debt_id)
    assert versions and all(v % IronLedger.SNAPSHOT_EVERY == 0 for v in versions)
    loaded = office.commands.find(debt_id, Debt)
    assert loaded.version == replayed(office, debt_id).version
    assert vars(loaded) == vars(replayed(office, debt_id))
    # A receipt backdated before the snapshot replays the timeline from the snapshot's state.
    clock.day = day
    pay(office, people, contract, "10000.00", date(2026, 4, 10))
    after = office.commands.find(debt_id, Debt)
    assert vars(after) == vars(replayed(office, debt_id))
    row = receivable(office, people.sun, contract, clock.day)
    assert row["received"] == Decimal("141185.94")   # 80,000 + 2 × 25,592.97 + 10,000


def test_a_busy_parts_stock_loads_from_its_snapshot_as_it_replays(office, group, people):
    """Sixty purchases received into one warehouse, then half of them sold: more than two
    snapshots' worth of movements on one stock."""
    part = office.execute(people.chen, CreatePart(
        part_no="OF-S1", name="Oil filter", unit="pc", category=PartCategory.FILTER,
        purchase_price=Decimal("50.00"), sale_price=Decimal("80.00"))).body["part_id"]
    for _ in range(60):
        order = office.execute(people.chen, CreatePurchaseOrder(
            company_id=group.hefei, supplier="Sany", warehouse_id=group.hefei_parts,
            lines=[PartLineRequest(part_id=UUID(part), quantity=2)])).body["order_id"]
        office.execute(group.keeper_hefei, ReceivePurchase(
            order_id=UUID(order), lines=[ReceivedLineRequest(line_no=1, quantity=2)]))
    stock_id = ids.part_stock_id(UUID(part), group.hefei_parts)
    assert snapshot_versions(office, stock_id)
    loaded = office.commands.find(stock_id, PartStock)
    assert vars(loaded) == vars(replayed(office, stock_id))
    assert (loaded.on_hand, loaded.pending_in, loaded.version) == (120, 0, 121)


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Line:
    key: str
    amount: Decimal
    due: date


def test_the_snapshot_codec_keeps_every_type():
    state = {"id": uuid4(), "amount": Decimal("1.10"), "day": date(2026, 1, 31), "colour": Colour.RED,
             "at": datetime(2026, 1, 1, 8, tzinfo=timezone.utc), "lines": (Line("I1", Decimal("2.00"),
                                                                                  date(2026, 2, 1)),),
             "by_key": {("I1", date(2026, 2, 1)): Decimal("0.05")}, "names": frozenset({"a"}), "open": {1, 2},
             "list": [None, True, 3, 1.5, "x"], "nested": {"inner": {"x": [Line("I2", Decimal("0"), date(2026, 3, 1))]}}}
    back = untag(tag(state))
    assert back == state
    assert type(back["colour"]) is Colour and type(back["lines"]) is tuple and type(back["names"]) is frozenset
