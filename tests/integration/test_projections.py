"""Read models on real SQLite and PostgreSQL: exactly once, rebuildable, scoped."""

from __future__ import annotations

import threading

import pytest

from domain.machines import MachineStatus
from interfaces.persistence.views import PositionConflictError
from projections.machine_stock import StockFilter, count_stock, get_machine, list_stock
from tests.conftest import receive
from application.stock.commands import TransferMachine


def _snapshot(office) -> dict[str, list]:
    """Every row of every read model, in a stable order, as plain strings."""
    tables = {}
    with office.read() as cur:
        for runner in office.projections.values():
            for table in runner.projection.tables:
                cur.execute(f"SELECT * FROM {table}")
                tables[table] = sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in cur.fetchall())
    return tables


def test_stock_view_follows_receipts_and_transfers(backoffice, group):
    receive(backoffice, group, "SY-1")
    receive(backoffice, group, "SY-2", warehouse=group.chuzhou_main)
    backoffice.execute(group.keeper_group, TransferMachine(
        serial_number="SY-1", to_warehouse_id=group.hefei_yard, reason="yard has room"))
    backoffice.catch_up()
    with backoffice.read() as cur:
        rows, total = list_stock(cur, group.keeper_group.scope, StockFilter(), 1, 10)
        by_warehouse = count_stock(cur, group.keeper_group.scope, StockFilter(), ["warehouse", "status"])
    assert total == 2
    assert {(r["serial_number"], str(r["warehouse_id"])) for r in rows} == {
        ("SY-1", str(group.hefei_yard)), ("SY-2", str(group.chuzhou_main))}
    assert all(r["status"] == MachineStatus.IN_STOCK for r in rows)
    assert sorted((str(r["warehouse"]), r["machines"]) for r in by_warehouse) == sorted(
        [(str(group.hefei_yard), 1), (str(group.chuzhou_main), 1)])


def test_scoped_reads_never_include_other_companies(backoffice, group):
    for n in range(3):
        receive(backoffice, group, f"HF-{n}")
    for n in range(4):
        receive(backoffice, group, f"CZ-{n}", warehouse=group.chuzhou_main)
    backoffice.catch_up()
    hefei_only = group.keeper_hefei.scope
    with backoffice.read() as cur:
        rows, total = list_stock(cur, hefei_only, StockFilter(), 1, 100)
        counts = count_stock(cur, hefei_only, StockFilter(), [])
        by_company = count_stock(cur, hefei_only, StockFilter(), ["company", "status"])
        filtered, filtered_total = list_stock(cur, hefei_only, StockFilter(company_id=group.chuzhou), 1, 100)
        hidden = get_machine(cur, hefei_only, backoffice.stock.machine_in_scope(group.keeper_group, "CZ-0").id)
    assert total == 3 and {r["serial_number"] for r in rows} == {"HF-0", "HF-1", "HF-2"}
    assert counts == [{"machines": 3}]
    assert [(str(r["company"]), r["company_code"], r["status"], r["machines"]) for r in by_company] == [
        (str(group.hefei), "HF", MachineStatus.IN_STOCK, 3)]
    assert filtered == [] and filtered_total == 0
    assert hidden is None


def test_redelivering_a_batch_changes_nothing(backoffice, group):
    """The position moves in the same transaction as the rows: applying the same
    notifications again is refused by the position check and rolled back whole."""
    receive(backoffice, group, "SY-1")
    runner = backoffice.projections["machine_stock"]
    runner.catch_up()
    before = _snapshot(backoffice)
    position = runner.position()
    notifications = backoffice.ledger.recorder.select_notifications(start=0, limit=1000, inclusive_of_start=False)
    with pytest.raises(Exception):  # the unique serial (or the position check) refuses the replay
        with backoffice.views.transaction() as cur:
            for n in notifications:
                if runner.projection.handles(n.topic):
                    runner.projection.apply(cur, backoffice.ledger.mapper.to_domain_event(n), n.topic)
            backoffice.views.advance(cur, runner.name, 0, notifications[-1].id)
    with pytest.raises(PositionConflictError):
        with backoffice.views.transaction() as cur:
            backoffice.views.advance(cur, runner.name, 0, position)
    assert _snapshot(backoffice) == before
    assert runner.position() == position


def test_a_crash_between_view_write_and_tracking_leaves_neither(backoffice, group):
    """Rows and position are one transaction: a crash after the rows were written
    but before the position moved leaves no rows; the next run applies them once."""
    runner = backoffice.projections["machine_stock"]
    runner.catch_up()
    start = runner.position()
    receive(backoffice, group, "SY-CRASH")

    class Crash(Exception):
        pass

    def crash() -> None:
        raise Crash

    with pytest.raises(Crash):
        runner.catch_up_once(crash_before_commit=crash)
    assert runner.position() == start
    with backoffice.read() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM machine_stock WHERE serial_number = %s", ("SY-CRASH",))
        assert cur.fetchone()["n"] == 0
    runner.catch_up()
    with backoffice.read() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM machine_stock WHERE serial_number = %s", ("SY-CRASH",))
        assert cur.fetchone()["n"] == 1


def test_two_runners_of_one_read_model_apply_each_event_once(backoffice, group):
    for n in range(30):
        receive(backoffice, group, f"SY-{n:03d}")
    runner = backoffice.projections["machine_stock"]
    runner.batch_size = 7
    errors = []

    def run() -> None:
        try:
            while True:
                try:
                    if runner.catch_up_once() == 0:
                        return
                except PositionConflictError:
                    continue
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with backoffice.read() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM machine_stock")
        assert cur.fetchone()["n"] == 30
    assert runner.position() == backoffice.ledger.recorder.max_notification_id()


def test_rebuild_equals_live(backoffice, group):
    for n in range(10):
        receive(backoffice, group, f"SY-{n}", warehouse=group.chuzhou_main if n % 3 else group.hefei_main)
    backoffice.execute(group.keeper_group, TransferMachine(
        serial_number="SY-1", to_warehouse_id=group.hefei_yard, reason="customer nearby"))
    backoffice.catch_up()
    live = _snapshot(backoffice)
    for runner in backoffice.projections.values():
        runner.reset()
        assert runner.position() == 0
        runner.catch_up()
    assert _snapshot(backoffice) == live
    assert len(live["machine_stock"]) == 10


def test_a_new_read_model_version_is_rebuilt_from_the_log(backoffice, group):
    receive(backoffice, group, "SY-1")
    backoffice.catch_up()
    runner = backoffice.projections["machine_stock"]
    with backoffice.views.transaction() as cur:
        cur.execute("UPDATE projection_positions SET version = 0 WHERE name = %s", (runner.name,))
    runner.prepare()
    assert runner.position() == 0
    runner.catch_up()
    with backoffice.read() as cur:
        cur.execute("SELECT serial_number FROM machine_stock")
        assert [r["serial_number"] for r in cur.fetchall()] == ["SY-1"]


def test_runner_threads_follow_commands_and_queries_can_wait(backoffice, group):
    backoffice.workers.start_projections()
    result = receive(backoffice, group, "SY-WAIT")
    assert backoffice.wait_for("machine_stock", result.position)
    with backoffice.read() as cur:
        assert get_machine(cur, group.keeper_group.scope, backoffice.stock.machine_in_scope(
            group.keeper_group, "SY-WAIT").id)["serial_number"] == "SY-WAIT"
    backoffice.settings.read_wait_seconds = 0.2
    assert backoffice.wait_for("machine_stock", result.position + 10_000) is False


def test_a_lost_wakeup_only_delays_a_read_model_by_the_poll_interval(backoffice, group):
    """Runners poll when no wake-up comes (a lost PostgreSQL NOTIFY, or a write
    from another process on SQLite)."""
    backoffice.commands.on_recorded = None  # this process no longer rings after a save
    backoffice.workers.start_projections()
    result = receive(backoffice, group, "SY-QUIET")
    assert backoffice.projections["machine_stock"].wait_for(result.position, timeout=3.0)
