"""The stored encoding (JSON by msgspec): every event round trips exactly;
money stays an exact decimal string; old versions are upcast; corrupt data is
refused with a clear error, never guessed at."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from domain.access import Position, Role, User
from domain.base import Context, DealerAggregate
from domain.commands import CommandRecord
from domain.machines import MachineNature, MachineUnit
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from interfaces.persistence.encoding import MsgspecMapper
from tests.unit.given import ctx, given
from tests.unit.test_stored_topics import PINNED

mapper = MsgspecMapper()


def one_of_every_event() -> list[DealerAggregate.Event]:
    hefei = Company.create(ctx(), "HF", "Hefei")
    main = Warehouse.create(ctx(), hefei, "MAIN", "Hefei main", WarehouseKind.MAIN)
    yard = Warehouse.create(ctx(), hefei, "YARD", "Hefei yard", WarehouseKind.MAIN)
    van = Warehouse.create(ctx(), hefei, "VAN", "Zhou's van 周", WarehouseKind.MOBILE, "周伟")
    model = MachineModel.register(ctx(), "SY215C", "SY215C 挖掘机", MachineType.EXCAVATOR)
    unit = MachineUnit.receive(ctx(), "SY215C-1", model, main, MachineNature.REPOSSESSED)
    unit.transfer(ctx(reason="库位调整 yard"), yard)
    position = Position.create(ctx(), "Hefei", [hefei.id], False)
    position.change_companies(ctx(), [], True)
    user = User.create(ctx(), "keeper.hf", "Keeper", "$argon2id$v=19$hash")
    user.grant_role(ctx(), Role.WAREHOUSE_KEEPER)
    user.revoke_role(ctx(), Role.WAREHOUSE_KEEPER)
    user.assign_position(ctx(), position)
    user.unassign_position(ctx(), position.id)
    user.change_password(ctx(), "$argon2id$v=19$other")
    record = CommandRecord.record(ctx(), "k", "ReceiveMachine", "fp", 201, '{"a": "1.10"}')
    return [e for a in (hefei, main, yard, van, model, unit, position, user, record) for e in a.collect_events()]


EVENTS = one_of_every_event()


def test_the_sample_covers_every_pinned_event_class():
    from eventsourcing.utils import get_topic
    assert {get_topic(type(e)) for e in EVENTS} == PINNED


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__qualname__)
def test_every_event_round_trips_exactly(event):
    stored = mapper.to_stored_event(event)
    assert isinstance(stored.state, bytes)
    assert "originator_id" not in msgspec.json.decode(stored.state)  # kept in its own column
    back = mapper.to_domain_event(stored)
    assert type(back) is type(event)
    assert vars(back) == vars(event)
    assert back.timestamp == event.timestamp


def test_stored_state_is_plain_json_an_auditor_can_read():
    unit_received = next(e for e in EVENTS if isinstance(e, MachineUnit.Received))
    state = msgspec.json.decode(mapper.to_stored_event(unit_received).state)
    assert state["serial_number"] == "SY215C-1" and state["nature"] == "repossessed"
    assert state["business_date"] == "2026-03-02"
    assert UUID(state["actor_id"]) == unit_received.actor_id


# ------------------------------------------------------------------ test-only aggregate with money
class Ledgered(DealerAggregate):
    """Test-only: an aggregate whose events carry money and dates, in two versions."""

    class Opened(DealerAggregate.Created):
        amount: Decimal
        due_on: date

    class Paid(DealerAggregate.Event):
        """Version 2 added the payment method; stored version-1 events were all cash."""

        class_version = 2
        amount: Decimal
        method: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["method"] = "cash"


def _context() -> Context:
    return ctx()


def test_money_is_stored_as_an_exact_decimal_string_never_a_float():
    opened = Ledgered._start(Ledgered.Opened, uuid4(), _context(), None, amount=Decimal("1234567890.15"),
                             due_on=date(2026, 4, 30)).collect_events()[0]
    stored = mapper.to_stored_event(opened)
    assert b'"amount":"1234567890.15"' in stored.state
    back = mapper.to_domain_event(stored)
    assert isinstance(back.amount, Decimal) and back.amount == Decimal("1234567890.15")
    assert str(back.amount) == "1234567890.15" and back.due_on == date(2026, 4, 30)


def test_the_current_version_is_written_with_its_class_version():
    ledger = Ledgered._start(Ledgered.Opened, uuid4(), _context(), None, amount=Decimal("1"), due_on=date(2026, 1, 1))
    ledger.collect_events()
    ledger._record(Ledgered.Paid, _context(), None, amount=Decimal("0.10"), method="transfer")
    [paid] = ledger.collect_events()
    stored = mapper.to_stored_event(paid)
    assert msgspec.json.decode(stored.state)["class_version"] == 2
    assert mapper.to_domain_event(stored).method == "transfer"


def test_a_version_1_event_is_upcast_when_read():
    paid_v2 = _a_paid_event()
    v1_state = msgspec.json.decode(mapper.to_stored_event(paid_v2).state)
    del v1_state["class_version"], v1_state["method"]  # exactly what version 1 wrote
    stored_v1 = StoredEvent(originator_id=paid_v2.originator_id, originator_version=paid_v2.originator_version,
                            topic=mapper.to_stored_event(paid_v2).topic, state=msgspec.json.encode(v1_state))
    back = mapper.to_domain_event(stored_v1)
    assert (back.method, back.amount) == ("cash", Decimal("0.10"))


def _a_paid_event() -> Ledgered.Paid:
    ledger = Ledgered._start(Ledgered.Opened, uuid4(), _context(), None, amount=Decimal("1"), due_on=date(2026, 1, 1))
    ledger.collect_events()
    ledger._record(Ledgered.Paid, _context(), None, amount=Decimal("0.10"), method="transfer")
    return ledger.collect_events()[0]


@pytest.mark.parametrize("state", [b"not json", b'{"amount": "0.10"', b'{"amount": [], "method": "cash"}'],
                         ids=["garbage", "truncated", "wrong-type"])
def test_corrupt_stored_state_is_refused_with_a_clear_error(state):
    good = mapper.to_stored_event(_a_paid_event())
    corrupt = StoredEvent(originator_id=good.originator_id, originator_version=good.originator_version,
                          topic=good.topic, state=state)
    with pytest.raises(MapperDeserialisationError) as refused:
        mapper.to_domain_event(corrupt)
    assert good.topic in str(refused.value) and str(good.originator_id) in str(refused.value)


def test_reading_back_typed_values_not_strings():
    received = next(e for e in EVENTS if isinstance(e, MachineUnit.Received))
    back = mapper.to_domain_event(mapper.to_stored_event(received))
    assert isinstance(back.model_id, UUID) and isinstance(back.business_date, date)
    assert back.nature is MachineNature.REPOSSESSED


def test_given_rebuilds_from_decoded_events_as_the_store_would():
    unit = MachineUnit.receive(ctx(), "SY-9", given(MachineModel.register(ctx(), "M1", "m", MachineType.LOADER)),
                               given(Warehouse.create(ctx(), given(Company.create(ctx(), "HF", "Hefei")), "MAIN",
                                                      "main", WarehouseKind.MAIN)), MachineNature.TRADE_IN)
    events = [mapper.to_domain_event(mapper.to_stored_event(e)) for e in unit.collect_events()]
    rebuilt = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert (rebuilt.serial_number, rebuilt.nature, rebuilt.version) == ("SY-9", MachineNature.TRADE_IN, 1)
