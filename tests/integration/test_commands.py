"""Commands on real stores: idempotency, uniqueness, concurrency between processes."""

from __future__ import annotations

import multiprocessing
import pytest

from domain.base import NotFoundError, PermissionDeniedError
from domain.commands import IdempotencyKeyReusedError
from domain.machines import MachineAlreadyInStockError, MachineNature
from interfaces.composition import BackOffice
from tests.conftest import TODAY, receive
from application.stock.commands import ReceiveMachine, TransferMachine
from interfaces.http.errors import status_of


def _event_count(office: BackOffice) -> int:
    return office.ledger.recorder.max_notification_id() or 0


def test_each_store_under_test_is_really_that_store(backoffice, store):
    """Guards the fixtures themselves: the PostgreSQL runs must not quietly run on SQLite."""
    recorder = type(backoffice.ledger.recorder).__module__
    views = type(backoffice.views).__name__
    if store == "postgres":
        assert recorder.startswith("interfaces.persistence.postgres") and views == "PostgresViewDatabase"
    else:
        assert recorder == "eventsourcing.sqlite" and views == "SQLiteViewDatabase"


def test_the_same_idempotency_key_twice_gives_the_same_answer_and_one_event(backoffice, group):
    first = receive(backoffice, group, "SY-1", key="k-1")
    count = _event_count(backoffice)
    second = receive(backoffice, group, "SY-1", key="k-1")
    assert second.replayed and not first.replayed
    assert (second.status_code, second.body, second.position) == (first.status_code, first.body, first.position)
    assert _event_count(backoffice) == count


def test_an_idempotency_key_reused_for_another_request_is_refused(backoffice, group):
    receive(backoffice, group, "SY-1", key="k-1")
    with pytest.raises(IdempotencyKeyReusedError):
        receive(backoffice, group, "SY-2", key="k-1")


def test_a_second_receipt_of_a_serial_is_refused(backoffice, group):
    receive(backoffice, group, "SY-1")
    count = _event_count(backoffice)
    with pytest.raises(MachineAlreadyInStockError) as refused:
        receive(backoffice, group, "sy-1", warehouse=group.chuzhou_main)
    assert status_of(refused.value) == 409 and refused.value.code == "serial-number-exists"
    assert _event_count(backoffice) == count


def test_out_of_scope_and_forbidden_commands_record_nothing(backoffice, group):
    receive(backoffice, group, "CZ-1", warehouse=group.chuzhou_main)
    count = _event_count(backoffice)
    with pytest.raises(NotFoundError):
        receive(backoffice, group, "CZ-2", warehouse=group.chuzhou_main, caller=group.keeper_hefei)
    with pytest.raises(NotFoundError):
        backoffice.execute(group.keeper_hefei, TransferMachine(
            serial_number="CZ-1", to_warehouse_id=group.hefei_main, reason="x"))
    with pytest.raises(PermissionDeniedError):
        receive(backoffice, group, "HF-1", caller=group.salesperson_hefei)
    assert _event_count(backoffice) == count


def test_every_event_carries_actor_company_command_and_business_date(backoffice, group):
    receive(backoffice, group, "SY-1")
    backoffice.execute(group.keeper_group, TransferMachine(
        serial_number="SY-1", to_warehouse_id=group.chuzhou_main, reason="sold in Chuzhou"))
    events = backoffice.history.machine_history(group.keeper_group, "SY-1")
    assert [e["event"] for e in events] == ["MachineUnit.Received", "MachineUnit.Transferred"]
    assert all(e["actor_id"] == group.keeper_group.user_id and e["actor"] == "keeper.all" for e in events)
    assert [e["company_id"] for e in events] == [group.hefei, group.chuzhou]
    assert all(e["business_date"] == TODAY for e in events)
    assert events[0]["command_id"] != events[1]["command_id"]
    assert [e["reason"] for e in events] == [None, "sold in Chuzhou"]


def _receive_in_another_process(settings_json: str, serials: list[str], barrier, results) -> None:
    from interfaces.settings import Settings
    from application.caller import SYSTEM
    from domain import ids
    office = BackOffice(Settings.model_validate_json(settings_json))
    outcomes = []
    barrier.wait()
    for serial in serials:
        try:
            office.execute(SYSTEM, ReceiveMachine(
                serial_number=serial, model_id=ids.machine_model_id("SY215C"),
                warehouse_id=ids.warehouse_id(ids.company_id("HF"), "MAIN"), nature=MachineNature.TRADE_IN))
            outcomes.append((serial, "created"))
        except MachineAlreadyInStockError:
            outcomes.append((serial, "refused"))
    office.stop()
    results.put(outcomes)


def test_two_processes_receiving_the_same_serials_at_once_create_each_once(backoffice, group, settings):
    serials = [f"RACE-{n:03d}" for n in range(40)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    processes = [ctx.Process(target=_receive_in_another_process,
                             args=(settings.model_dump_json(), serials, barrier, results)) for _ in range(2)]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    created = [s for run in outcomes for s, what in run if what == "created"]
    refused = [s for run in outcomes for s, what in run if what == "refused"]
    assert sorted(created) == serials, "each serial is created exactly once"
    assert sorted(refused) == serials, "and refused exactly once"
    backoffice.catch_up()
    with backoffice.read() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM machine_stock WHERE serial_number LIKE %s", ("RACE-%",))
        assert cur.fetchone()["n"] == 40
