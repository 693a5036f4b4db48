"""The daily penalty accrual (罚息计提) against PostgreSQL, each figure with its ratio
to this machine's ceiling measured in the same run.

    python -m bench.accrual                # 100,000 debts
    python -m bench.accrual --quick        # 5,000 debts, for a smoke check
    python -m bench.accrual --debts 20000 --profile

What is measured, in one database created for the run and dropped after it:

1. Ceiling: raw psycopg single-row autocommit INSERTs/s into a table shaped like
   the event table, 1 client (``bench.run``'s worker), before the seeding and
   again after the accrual runs; the better of the two is the ceiling (other
   load on the machine only ever lowers it).
2. Seeding (not part of any figure): one company with a penalty rate of 0.05 % a
   day, and N open debts, each with an installment overdue since before it was
   opened and one falling due later, saved 1,000 per save. Then the projection
   of the N openings into the ``receivables`` read model, timed on its own.
3. ``BackOffice.accrue_penalties(SYSTEM, through)`` for the day after the
   openings: wall time, debts charged, events recorded (one ``PenaltyAccrued``
   per charged debt), events/s and their ratio to the raw inserts/s; then the
   catch-up of the ``receivables`` read model with those events. The same day
   again (must charge nothing): once through the office (its read model lists no
   candidate any more), once handing every debt to the service directly, so each
   debt is loaded and refuses the day itself. Then the next day's run.
4. ``--profile``: one more day's run under cProfile (not in the table), its top
   cumulative entries; and the receivables read model catching up with it.
5. ``--history DAYS``: the days after, one service-level run a day (the debts
   handed to ``ReceivableService.accrue_penalties`` directly, no read model), each
   debt gaining a ``PenaltyAccrued`` a day; a few of those runs' wall times, as the
   events each debt has to be rebuilt from grow.

Target: the 100,000-debt daily run finishes within 60 s.

Findings (2 cores, 2026-11-23, nothing else running): 100,000 debts one or two days into
their accrual take about 19 s (the target is met), spent rebuilding the debts (about half),
saving and the accrual itself; the receivables read model then catches up in about 14 s
(7,000 events/s, pipeline mode, no read in its handlers). But every run rebuilds each debt
from all of its events, one ``PenaltyAccrued`` more a day, at about 30 µs an event:
``--debts 2000 --history 120`` gave 150 µs a debt at 3 events, 1.1 ms at 32 and 3.4 ms at
122, so 100,000 debts overdue for two to three weeks take more than 60 s. Snapshots of
``Debt`` (read by the bulk loader) are what bounds that.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql

from bench.run import ADMIN_PASSWORD, ADMIN_URL, RAW_TABLE, SECRET, Report, raw_worker, run_parallel, with_dbname
from application.organisation.commands import CreateCompany

TARGET_DEBTS = 100_000
TARGET_SECONDS = 60.0
RATE_SET_ON = date(2026, 1, 1)          # the business date the rate is set on
RATE_FROM = date(2026, 1, 2)            # ... and takes effect from
DAILY_RATE = Decimal("0.0005")
OPENED_ON = date(2026, 3, 1)            # the debts' opening (their contracts' approval)
FIRST_DUE = date(2026, 2, 15)           # I1: overdue on every accrued day
LATER_DUE = date(2026, 4, 15)           # I2: not yet due on any accrued day
DAY_1 = OPENED_ON + timedelta(days=1)   # the first day accrued
BUSINESS_DATE = date(2026, 12, 31)      # "today" of the office: every accrued day has ended
SEED_BATCH = 1000


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = action()
    return result, time.perf_counter() - began


def raw_ceiling(url: str, seconds: float) -> float:
    return run_parallel(raw_worker, 1, seconds, url)[0] / seconds


def seed(office: Any, debts: int) -> tuple[UUID, list[UUID]]:
    """The company, its penalty rate and ``debts`` overdue debts; answers (company, debt ids)."""
    from application.caller import SYSTEM, SYSTEM_ACTOR
    from domain import ids
    from domain.base import Context
    from domain.receivables import Debt, DebtItem, ItemKind, PenaltyPolicy, PenaltyRate

    company = UUID(office.execute(SYSTEM, CreateCompany(code="ACCR", name="Accrual Bench Machinery")).body["company_id"])
    policy = PenaltyPolicy.start(Context(SYSTEM_ACTOR, uuid4(), RATE_SET_ON), company,
                                 PenaltyRate(RATE_FROM, DAILY_RATE))
    office.ledger.save(policy)
    owner = ids.user_id("admin")
    customers = [uuid4() for _ in range(max(1, debts // 20))]
    debt_ids: list[UUID] = []
    for start in range(0, debts, SEED_BATCH):
        ctx = Context(SYSTEM_ACTOR, uuid4(), OPENED_ON)
        batch = []
        for n in range(start, min(debts, start + SEED_BATCH)):
            contract = uuid4()
            first = Decimal(5_000 + n % 7_919) + Decimal(n % 100) / 100
            second = Decimal(20_000 + n % 3_001)
            interest = Decimal(120 + n % 37) + Decimal("0.50")
            batch.append(Debt._start(
                Debt.Opened, ids.debt_id(contract), ctx, company, contract_id=contract,
                contract_number=f"HT-BENCH-{n:06d}", contract_date=date(2026, 1, 15),
                customer_id=customers[n % len(customers)], owner_id=owner, payment="installment",
                financed=first + second, schedule_method="typed",
                items=(DebtItem("I1", ItemKind.INSTALLMENT, FIRST_DUE, first, interest),
                       DebtItem("I2", ItemKind.INSTALLMENT, LATER_DUE, second, interest))))
        office.ledger.save(*batch)
        debt_ids.extend(debt.id for debt in batch)
    return company, debt_ids


def recorded_since(conn: psycopg.Connection, table: str, position: int) -> dict[str, int]:
    """Events recorded after ``position``, by topic's last part (class name)."""
    rows = conn.execute(sql.SQL("SELECT topic, count(*) FROM {} WHERE notification_id > %s GROUP BY topic").format(
        sql.Identifier(table)), (position,)).fetchall()
    return {topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]: n for topic, n in rows}


def profile_top(profiler: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    text = out.getvalue()
    return text[text.find("   ncalls"):].rstrip() if "   ncalls" in text else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debts", type=int, default=TARGET_DEBTS, help="open overdue debts to seed")
    parser.add_argument("--quick", action="store_true", help="5,000 debts and a short ceiling, for a smoke check")
    parser.add_argument("--profile", action="store_true", help="profile one more day's run with cProfile")
    parser.add_argument("--history", type=int, default=0, metavar="DAYS",
                        help="then accrue DAYS more days one run a day (service level), timing some of them")
    args = parser.parse_args()
    debts = 5_000 if args.quick else args.debts
    seconds = 3.0 if args.quick else 5.0

    from application.caller import SYSTEM
    from interfaces.composition import BackOffice
    from interfaces.settings import Settings

    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    dbname = f"ironledger_accrual_{os.getpid()}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    url = with_dbname(ADMIN_URL, dbname)
    report = Report()
    office = None
    profile_text = ""
    try:
        with tempfile.TemporaryDirectory() as tmp, psycopg.connect(url, autocommit=True) as conn:
            conn.execute(RAW_TABLE)
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            print(f"ironledger penalty accrual benchmark on PostgreSQL {version}, {os.cpu_count()} cores, "
                  f"{debts:,} debts", flush=True)

            print(f"ceiling: raw psycopg single-row autocommit INSERT, 1 client, {seconds:.0f} s", flush=True)
            raw_before = raw_ceiling(url, seconds)

            office = BackOffice(Settings(database_url=url, data_dir=Path(tmp), secret_key=SECRET, pool_size=4),
                                today=lambda: BUSINESS_DATE)
            office.access.ensure_administrator(ADMIN_PASSWORD)
            table = office.ledger.recorder.events_table_name
            receivables = office.projections["receivables"]
            office.catch_up()   # the few events so far, into every read model

            print(f"seeding {debts:,} open overdue debts, {SEED_BATCH:,} per save", flush=True)
            (company, debt_ids), seeding = timed(lambda: seed(office, debts))
            print(f"  seeded in {seeding:.1f} s ({debts / seeding:,.0f} debts/s)", flush=True)
            projected, projecting = timed(receivables.catch_up)
            print(f"  receivables read model: {projected:,} events in {projecting:.1f} s", flush=True)

            def day(through: date) -> tuple[dict[str, int], float, dict[str, int]]:
                head = office.ledger.recorder.max_notification_id() or 0
                result, wall = timed(lambda: office.accrue_penalties(SYSTEM, through))
                return result, wall, recorded_since(conn, table, head)

            def catch_up() -> tuple[int, float]:
                return timed(receivables.catch_up)

            print(f"accrual through {DAY_1} (the first day after the openings)", flush=True)
            first, first_wall, first_events = day(DAY_1)
            first_catch_up = catch_up()
            print("same day again, through the office; then every debt handed to the service", flush=True)
            again, again_wall, again_events = day(DAY_1)
            head = office.ledger.recorder.max_notification_id() or 0
            direct, direct_wall = timed(lambda: office.receivables.accrue_penalties(SYSTEM, DAY_1, debt_ids))
            direct_events = recorded_since(conn, table, head)
            day_2 = DAY_1 + timedelta(days=1)
            print(f"accrual through {day_2} (the next day)", flush=True)
            second, second_wall, second_events = day(day_2)
            second_catch_up = catch_up()

            if args.profile:
                day_3 = day_2 + timedelta(days=1)
                print(f"profiling the accrual through {day_3}", flush=True)
                profiler = cProfile.Profile()
                began = time.perf_counter()
                profiler.enable()
                profiled = office.accrue_penalties(SYSTEM, day_3)
                profiler.disable()
                profiled_wall = time.perf_counter() - began
                catch_profiler = cProfile.Profile()
                catch_profiler.enable()
                _, profiled_catch_up = catch_up()
                catch_profiler.disable()
                profile_text = (
                    f"accrual through {day_3} under cProfile: {profiled_wall:.1f} s, "
                    f"{profiled['debts_charged']:,} charged\n"
                    + profile_top(profiler, "cumulative", 15)
                    + "\n\nthe same run, by own time\n" + profile_top(profiler, "tottime", 12)
                    + f"\n\nreceivables read model catching up with it under cProfile: {profiled_catch_up:.1f} s\n"
                    + profile_top(catch_profiler, "tottime", 12))

            aged: list[tuple[int, int, float]] = []    # (events per debt before the run, charged, seconds)
            if args.history:
                print(f"{args.history} more days, one service-level run a day", flush=True)
                last = office.receivables.load_many(debt_ids[:1])[0].accrued_through
                samples = {1, 2, 10, 30, 60, 90, 120, 180, 240, 300, args.history}
                for k in range(1, args.history + 1):
                    per_debt = len(office.ledger.recorder.select_events(debt_ids[0])) if k in samples else 0
                    result, wall = timed(lambda: office.receivables.accrue_penalties(
                        SYSTEM, last + timedelta(days=k), debt_ids))
                    if k in samples:
                        aged.append((per_debt, result["debts_charged"], wall))
                        print(f"  {per_debt} events a debt: {wall:.1f} s", flush=True)

            print("ceiling again, after the accrual runs", flush=True)
            raw_after = raw_ceiling(url, seconds)
            raw1 = max(raw_before, raw_after)

            def accrued(result: dict[str, int], events: dict[str, int]) -> int:
                n = events.get("PenaltyAccrued", 0)
                assert n == result["debts_charged"] and set(events) <= {"PenaltyAccrued"}, (result, events)
                return n

            n_first, n_second = accrued(first, first_events), accrued(second, second_events)
            assert again["debts_charged"] == 0 and not again_events, (again, again_events)
            assert direct["debts_charged"] == 0 and not direct_events, (direct, direct_events)
            assert first["debts_charged"] == debts == second["debts_charged"], (first, second)
            scale = TARGET_DEBTS / debts

            print("summary")
            report("raw inserts/s, 1 client (before / after; better)",
                   f"{raw_before:,.0f} / {raw_after:,.0f}", f"= 1.00 (ceiling {raw1:,.0f}/s)")
            report(f"seeding {debts:,} debts (not a figure)", f"{seeding:.1f} s", f"{debts / seeding:,.0f} debts/s")
            report(f"projection of {debts:,} openings (receivables)", f"{projecting:.1f} s",
                   f"{debts / projecting:,.0f} ev/s = {debts / projecting / raw1:.2f} x raw")
            for label, result, wall, n, (caught, caught_wall) in (
                    (f"accrual through {DAY_1}", first, first_wall, n_first, first_catch_up),
                    (f"accrual through {day_2} (next day)", second, second_wall, n_second, second_catch_up)):
                report(f"{label}: wall", f"{wall:.1f} s",
                       f"target {TARGET_SECONDS:.0f} s at {TARGET_DEBTS:,}"
                       + (f" (x{scale:.1f} = {wall * scale:.0f} s)" if debts != TARGET_DEBTS else "")
                       + (": met" if wall * scale <= TARGET_SECONDS else ": NOT met"))
                report("  debts examined / charged / batches",
                       f"{result['debts_examined']:,} / {result['debts_charged']:,} / {result['batches']:,}")
                report("  PenaltyAccrued events recorded, events/s", f"{n:,}, {n / wall:,.0f}/s",
                       f"{n / wall / raw1:.2f} x raw")
                report("  receivables read model catch-up after it", f"{caught_wall:.1f} s",
                       f"{caught:,} ev, {caught / caught_wall:,.0f} ev/s = {caught / caught_wall / raw1:.2f} x raw")
                report("  accrual + catch-up", f"{wall + caught_wall:.1f} s")
            report(f"same day again via the office ({again['debts_examined']:,} candidates)",
                   f"{again_wall:.2f} s", f"charged {again['debts_charged']}, {len(again_events)} events")
            report(f"same day again, all {debts:,} debts to the service", f"{direct_wall:.1f} s",
                   f"charged {direct['debts_charged']}, {sum(direct_events.values())} events "
                   f"({debts / direct_wall:,.0f} debts loaded/s)")
            for per_debt, charged, wall in aged:
                report(f"service-level daily run, debts of {per_debt} events each", f"{wall:.1f} s",
                       f"{charged:,} charged, {wall / debts * 1e6:,.0f} us/debt"
                       + (f" (x{scale:.1f} = {wall * scale:.0f} s)" if debts != TARGET_DEBTS else ""))
            print(f"target: the {TARGET_DEBTS:,}-debt daily run finishes within {TARGET_SECONDS:.0f} s")
    finally:
        if office is not None:
            office.stop()
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.close()
    if profile_text:
        print("\nprofile\n" + profile_text)


if __name__ == "__main__":
    main()
