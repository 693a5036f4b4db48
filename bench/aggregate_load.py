"""Loading a debt with three years of daily history (a penalty accrual every day).

One debt, overdue for 1,095 days: its events are recorded as the daily run would record
them (a save a day, so a snapshot is kept every ``IronLedger.SNAPSHOT_EVERY`` events).
Then it is loaded many times through the event store's repository (snapshot + the events
after it), and, for comparison, replayed from all its events. The ceiling is a raw psycopg
single-row SELECT by primary key on the same server, measured in the same run.

    python -m bench.aggregate_load      # on its own, in a database of its own
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

DAYS = 3 * 365


def measure(url: str, data_dir: Path, loads: int = 300) -> dict[str, float]:
    from application.ledger import IronLedger
    from domain import ids
    from domain.base import Context
    from domain.receivables import Debt, DebtItem, ItemKind, PenaltyRate, PenaltyRates
    from interfaces.composition import event_store_environment
    from interfaces.settings import Settings

    ledger = IronLedger(env=event_store_environment(Settings(database_url=url, data_dir=data_dir, pool_size=2)))
    contract_id, actor = uuid4(), uuid4()
    due = date(2023, 1, 31)
    start = Context(actor, uuid4(), due - timedelta(days=30))
    debt = Debt._start(Debt.Opened, ids.debt_id(contract_id), start, uuid4(), contract_id=contract_id,
                       contract_number="BENCH-1", contract_date=start.business_date, customer_id=uuid4(),
                       owner_id=actor, payment="cash", financed=Decimal("0.00"), schedule_method=None,
                       items=(DebtItem("FULL", ItemKind.FULL_PAYMENT, due, Decimal("380000.00"), Decimal("0.00")),))
    ledger.save(debt)
    rates = PenaltyRates((PenaltyRate(date(2023, 1, 1), Decimal("0.0005"), 0),))
    for n in range(1, DAYS + 1):
        day = due + timedelta(days=n)
        debt.accrue_penalties(Context(actor, uuid4(), day + timedelta(days=1)), day, rates)
        ledger.save(debt)
    events = debt.version

    def timed(load: Any, times: int) -> list[float]:
        spent = []
        for _ in range(times):
            t0 = time.perf_counter()
            load()
            spent.append(time.perf_counter() - t0)
        return spent

    with_snapshot = timed(lambda: ledger.repository.get(debt.id), loads)

    def replay() -> Any:
        aggregate = None
        for event in ledger.events.get(debt.id):
            aggregate = event.mutate(aggregate)
        return aggregate

    assert vars(replay()) == vars(ledger.repository.get(debt.id)), "the snapshot loads what the events say"
    without = timed(replay, max(5, loads // 30))
    with psycopg.connect(url, autocommit=True) as conn:
        table = "ironledger_events"
        key = (debt.id, 1)
        raw = timed(lambda: conn.execute(f"SELECT state FROM {table} WHERE originator_id = %s"
                                         " AND originator_version = %s", key, prepare=True).fetchone(), loads)
    ledger.close()
    return {"events": events, "snapshot_p50_ms": statistics.median(with_snapshot) * 1000,
            "snapshot_p99_ms": sorted(with_snapshot)[int(len(with_snapshot) * 0.99) - 1] * 1000,
            "replay_p50_ms": statistics.median(without) * 1000, "raw_select_p50_ms": statistics.median(raw) * 1000,
            "snapshot_every": IronLedger.SNAPSHOT_EVERY}


def report_lines(figures: dict[str, float]) -> list[tuple[str, str, str]]:
    raw = figures["raw_select_p50_ms"]
    return [
        (f"load a debt with {figures['events']:,.0f} events (3 years daily), p50 / p99 (ms)",
         f"{figures['snapshot_p50_ms']:.2f} / {figures['snapshot_p99_ms']:.2f}",
         f"{figures['snapshot_p50_ms'] / raw:.1f} x raw row read; target <= 2 ms "
         f"(snapshot every {figures['snapshot_every']:.0f})"),
        ("  the same debt replayed from all its events, p50 (ms)", f"{figures['replay_p50_ms']:.1f}",
         f"{figures['replay_p50_ms'] / raw:.0f} x raw row read"),
        ("  raw psycopg SELECT of one event row by key, p50 (ms)", f"{raw:.3f}", "= 1.00 (ceiling)"),
    ]


def main() -> None:
    import os
    import tempfile

    from psycopg import sql

    from bench.run import ADMIN_URL, with_dbname

    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    dbname = f"ironledger_bench_load_{os.getpid()}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            figures = measure(with_dbname(ADMIN_URL, dbname), Path(tmp))
        for label, value, ratio in report_lines(figures):
            print(f"  {label:<64}{value:>16}   {ratio}")
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.close()


if __name__ == "__main__":
    main()
