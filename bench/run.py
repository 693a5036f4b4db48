"""Benchmarks against PostgreSQL, each figure printed with its ratio to this
machine's own ceiling measured in the same run.

    python -m bench.run            # about 3 minutes
    python -m bench.run --quick    # about 40 seconds, for a smoke check

What is measured, in one database created for the run and dropped after it:

1. Ceiling: raw psycopg single-row autocommit INSERTs/s into a table shaped like
   the event table (1 client, then 4 client processes).
2. ``ReceiveMachine`` through the application layer (the command runner, the
   aggregate, the msgspec mapper, the one-round-trip recorder), 1 client and 4
   client processes, each as a ratio to the raw figure with as many clients.
   Also with an ``Idempotency-Key`` on every command (one more row per command).
3. ``ReceiveMachine`` over HTTP against a real ``ironledger serve`` process
   (API and read models in one process, as the embedded default runs), with
   several concurrent clients: commands/s, p50/p99 latency, and the projection
   lag: from a command's answer to its position being reached by the
   ``machine_stock`` read model, sampled every 2 ms from the database.
4. Rebuild of all read models from the log in a fresh process: events/s and
   peak memory; and the API process's memory after the load.
5. Loading a debt with three years of daily history (1,096 events) from its
   snapshot, against replaying all its events and a raw row read (bench.aggregate_load).

The machine has 2 cores shared by client and server processes: the figures are
for comparing runs on the same machine, not absolute capacity.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from application.organisation.commands import CreateCompany, CreateWarehouse, RegisterMachineModel
from application.stock.commands import ReceiveMachine

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("IRONLEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_PASSWORD = "bench-admin-2026"
SECRET = "bench-secret-" + "x" * 40

RAW_TABLE = """
CREATE TABLE raw_inserts (
    notification_id bigserial UNIQUE,
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (originator_id, originator_version))
"""
RAW_STATE = b'{"serial_number":"SY215C-0000001","model_id":"5f0c2a8e-0000-0000-0000-000000000000",' \
            b'"warehouse_id":"5f0c2a8e-0000-0000-0000-000000000001","nature":"purchased_sample"}' * 2


def with_dbname(url: str, dbname: str) -> str:
    """The same server URL, naming another database (kept a URL: settings want one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def wait_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


# ------------------------------------------------------------------ workers
# Each worker runs in its own process (spawned), starts at an agreed moment and
# stops after the agreed duration, and returns (operations, latencies).

def raw_worker(url: str, start_at: float, seconds: float, _: int) -> tuple[int, list[float]]:
    with psycopg.connect(url, autocommit=True) as conn:
        statement = "INSERT INTO raw_inserts (originator_id, originator_version, topic, state) VALUES (%s, 1, %s, %s)"
        conn.execute(statement, (uuid.uuid4(), "warm-up", RAW_STATE), prepare=True)
        wait_until(start_at)
        done, stop = 0, start_at + seconds
        while time.time() < stop:
            conn.execute(statement, (uuid.uuid4(), "domain.machines:MachineUnit.Received", RAW_STATE), prepare=True)
            done += 1
    return done, []


def app_worker(url: str, start_at: float, seconds: float, worker: int, seed: dict[str, str],
               with_key: bool) -> tuple[int, list[float]]:
    sys.path.insert(0, str(ROOT))
    from application.caller import SYSTEM
    from domain.machines import MachineNature
    from interfaces.composition import BackOffice
    from interfaces.settings import Settings

    with tempfile.TemporaryDirectory() as data_dir:
        office = BackOffice(Settings(database_url=url, data_dir=Path(data_dir), secret_key=SECRET, pool_size=2))
        model, warehouse = uuid.UUID(seed["model_id"]), uuid.UUID(seed["warehouse_id"])
        tag = f"{'K' if with_key else 'A'}{worker}{uuid.uuid4().hex[:6]}"
        office.execute(SYSTEM, ReceiveMachine(
            serial_number=f"{tag}-WARM", model_id=model, warehouse_id=warehouse,
            nature=MachineNature.PURCHASED_SAMPLE))
        wait_until(start_at)
        done, stop = 0, start_at + seconds
        while time.time() < stop:
            key = f"{tag}-{done}" if with_key else None
            office.execute(SYSTEM, ReceiveMachine(
                serial_number=f"{tag}-{done}", model_id=model, warehouse_id=warehouse,
                nature=MachineNature.PURCHASED_SAMPLE), key)
            done += 1
        office.stop()
    return done, []


def http_worker(base: str, start_at: float, seconds: float, worker: int, token: str, seed: dict[str, str],
                threads: int) -> tuple[int, list[float], list[tuple[float, int]]]:
    import httpx

    latencies: list[float] = []
    acks: list[tuple[float, int]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(thread: int) -> None:
        try:
            run_client(thread)
        except Exception as error:  # noqa: BLE001 - reported to the main process below
            failures.append(repr(error))

    def run_client(thread: int) -> None:
        tag = f"H{worker}x{thread}{uuid.uuid4().hex[:6]}"
        body = {"model_id": seed["model_id"], "warehouse_id": seed["warehouse_id"], "nature": "purchased_sample"}
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            http.get("/health")
            wait_until(start_at)
            n, stop = 0, start_at + seconds
            mine: list[float] = []
            my_acks: list[tuple[float, int]] = []
            while time.time() < stop:
                began = time.perf_counter()
                response = http.post("/machines/receive", json={**body, "serial_number": f"{tag}-{n}"})
                mine.append(time.perf_counter() - began)
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    break
                my_acks.append((time.time(), response.json()["position"]))
                n += 1
        with lock:
            latencies.extend(mine)
            acks.extend(my_acks)

    pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise RuntimeError(f"HTTP client failed: {failures[0]}")
    return len(latencies), latencies, acks


def rebuild_worker(url: str) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from interfaces.composition import BackOffice
    from interfaces.settings import Settings

    with tempfile.TemporaryDirectory() as data_dir:
        office = BackOffice(Settings(database_url=url, data_dir=Path(data_dir), secret_key=SECRET))
        events = office.ledger.recorder.max_notification_id() or 0
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        for runner in office.projections.values():
            runner.reset()
            runner.catch_up()
        elapsed = time.perf_counter() - began
        office.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"events": events, "projections": len(office.projections), "seconds": elapsed,
            "rss_before_mb": before / 1024, "peak_rss_mb": peak / 1024}


def run_parallel(target: Any, clients: int, seconds: float, *args: Any) -> tuple[int, float, list[Any]]:
    """Runs ``clients`` processes of ``target``; returns (operations, seconds, results)."""
    context = mp.get_context("spawn")
    start_at = time.time() + 3.0 + clients * 1.0  # time for the processes to start and connect
    with context.Pool(clients) as pool:
        results = pool.starmap(target, [(*args[:1], start_at, seconds, i, *args[1:]) for i in range(clients)])
    return sum(r[0] for r in results), seconds, results


# ------------------------------------------------------------------ phases

class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, label: str, value: str, ratio: str = "") -> None:
        line = f"  {label:<58}{value:>18}   {ratio}"
        self.lines.append(line)
        print(line, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, data_dir: Path) -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from application.caller import SYSTEM
    from domain.organisation import MachineType, WarehouseKind
    from interfaces.composition import BackOffice
    from interfaces.settings import Settings

    office = BackOffice(Settings(database_url=url, data_dir=data_dir, secret_key=SECRET, pool_size=2))
    office.access.ensure_administrator(ADMIN_PASSWORD)
    company = office.execute(SYSTEM, CreateCompany(code="BENCH", name="Bench Machinery")).body["company_id"]
    warehouse = office.execute(SYSTEM, CreateWarehouse(
        company_id=uuid.UUID(company), code="MAIN", name="Bench main", kind=WarehouseKind.MAIN)).body["warehouse_id"]
    model = office.execute(SYSTEM, RegisterMachineModel(
        code="SY215C", name="SY215C excavator", machine_type=MachineType.EXCAVATOR)).body["model_id"]
    office.stop()
    return {"company_id": company, "warehouse_id": warehouse, "model_id": model}


def start_server(url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "IRONLEDGER_DATABASE_URL": url, "IRONLEDGER_DATA_DIR": str(data_dir),
           "IRONLEDGER_ADMIN_PASSWORD": ADMIN_PASSWORD, "IRONLEDGER_SECRET_KEY": SECRET}
    server = subprocess.Popen([sys.executable, "-m", "interfaces.cli", "serve", "--port", str(port),
                               "--log-level", "warning"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    import httpx
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start within 60 s")


def caught_up(url: str, timeout: float = 300) -> None:
    """Waits until every read model has applied the whole log."""
    deadline = time.time() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        last = conn.execute("SELECT max(notification_id) FROM ironledger_events").fetchone()[0]  # type: ignore[index]
        while time.time() < deadline:
            behind = conn.execute("SELECT count(*) FROM projection_positions WHERE position < %s",
                                  (last,)).fetchone()[0]  # type: ignore[index]
            if behind == 0:
                return
            time.sleep(0.1)
    raise RuntimeError("read models did not catch up with the log")


def memory_of(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


class LagMonitor(threading.Thread):
    """Samples the machine_stock read model's position every 2 ms."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            last = -1
            while not self.stop.is_set():
                row = conn.execute("SELECT position FROM projection_positions WHERE name = 'machine_stock'",
                                   prepare=True).fetchone()
                now = time.time()
                if row and row[0] != last:
                    last = row[0]
                    self.samples.append((now, last))
                time.sleep(0.002)

    def lags(self, acks: list[tuple[float, int]]) -> list[float]:
        import bisect
        positions = [p for _, p in self.samples]
        # positions only grow, so the first sample at or past a position is found by bisection
        result = []
        for acked_at, position in acks:
            i = bisect.bisect_left(positions, position)
            if i < len(self.samples):
                result.append(max(0.0, self.samples[i][0] - acked_at))
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, for a smoke check")
    parser.add_argument("--http-clients", type=int, default=8)
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 8.0
    rounds = 1 if args.quick else 3

    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    dbname = f"ironledger_bench_{os.getpid()}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    url = with_dbname(ADMIN_URL, dbname)
    report = Report()
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(RAW_TABLE)
                version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            print(f"ironledger benchmarks on PostgreSQL {version}, {os.cpu_count()} cores, "
                  f"{seconds:.0f} s per phase", flush=True)

            print("ceiling: raw psycopg single-row autocommit INSERT", flush=True)
            raw4 = run_parallel(raw_worker, 4, seconds, url)[0] / seconds
            report("raw inserts/s, 4 clients", f"{raw4:,.0f}", "= 1.00 (ceiling)")

            seeded = seed(url, data_dir)
            print("application layer: ReceiveMachine (command runner, aggregate, mapper, recorder), "
                  f"1 client, alternating with the raw ceiling for {rounds} rounds", flush=True)
            raws, apps = [], []
            for _ in range(rounds):  # alternating, so background noise hits both alike
                raws.append(run_parallel(raw_worker, 1, seconds, url)[0] / seconds)
                apps.append(run_parallel(app_worker, 1, seconds, url, seeded, False)[0] / seconds)
            ratios = [a / r for a, r in zip(apps, raws)]
            raw1, app1 = statistics.median(raws), statistics.median(apps)
            report("raw inserts/s, 1 client (median)", f"{raw1:,.0f}", "= 1.00 (ceiling)")
            report("ReceiveMachine/s, 1 client (median)", f"{app1:,.0f}",
                   f"{statistics.median(ratios):.2f} x raw (target >= 0.5; rounds "
                   + ", ".join(f"{r:.2f}" for r in ratios) + ")")
            app4 = run_parallel(app_worker, 4, seconds, url, seeded, False)[0] / seconds
            report("ReceiveMachine/s, 4 clients", f"{app4:,.0f}", f"{app4 / raw4:.2f} x raw 4 clients")
            key1 = run_parallel(app_worker, 1, seconds, url, seeded, True)[0] / seconds
            report("ReceiveMachine/s with Idempotency-Key, 1 client", f"{key1:,.0f}", f"{key1 / raw1:.2f} x raw")

            print(f"HTTP: ReceiveMachine against `ironledger serve`, {args.http_clients} concurrent clients",
                  flush=True)
            server, base = start_server(url, data_dir)
            caught_up(url)  # the log so far is projected before the load starts: lag is the load's own
            import httpx
            token = httpx.post(base + "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD},
                               timeout=10).json()["access_token"]
            monitor = LagMonitor(url)
            monitor.start()
            processes = 2
            count, _, results = run_parallel(http_worker, processes, seconds, base, token, seeded,
                                             max(1, args.http_clients // processes))
            time.sleep(1.0)  # let the read model finish the last commands before measuring their lag
            monitor.stop.set()
            monitor.join()
            latencies = [x for r in results for x in r[1]]
            acks = [x for r in results for x in r[2]]
            lags = monitor.lags(acks)
            http_rate = count / seconds
            report("HTTP ReceiveMachine/s", f"{http_rate:,.0f}", f"{http_rate / raw1:.2f} x raw 1 client")
            report("HTTP latency p50 / p99 (ms)",
                   f"{percentile(latencies, 50) * 1000:.1f} / {percentile(latencies, 99) * 1000:.1f}")
            report("projection lag p50 / p99 (ms, 2 ms sampling)",
                   f"{percentile(lags, 50) * 1000:.1f} / {percentile(lags, 99) * 1000:.1f}",
                   f"target p99 <= 100 ms; {len(lags)}/{len(acks)} commands seen applied")
            rss, peak = memory_of(server.pid)
            report("API process memory after load, now / peak (MB)", f"{rss:.0f} / {peak:.0f}", "target <= 150 MB")
            server.terminate()
            server.wait(timeout=30)
            server = None

            print("rebuild of every read model from the log, in a fresh process", flush=True)
            context = mp.get_context("spawn")
            with context.Pool(1) as pool:
                rebuilt = pool.apply(rebuild_worker, (url,))
            per_second = rebuilt["events"] * rebuilt["projections"] / rebuilt["seconds"]
            report(f"rebuild: {rebuilt['events']:,.0f} events x {rebuilt['projections']:.0f} read models",
                   f"{per_second:,.0f} ev/s", "target >= 50,000 ev/s")
            report("rebuild peak memory, before / peak (MB)",
                   f"{rebuilt['rss_before_mb']:.0f} / {rebuilt['peak_rss_mb']:.0f}")

            print("loading one debt with 3 years of daily penalty accruals (snapshots)", flush=True)
            from bench.aggregate_load import measure, report_lines
            for label, value, ratio in report_lines(measure(url, data_dir, loads=100 if args.quick else 300)):
                report(label, value, ratio)
    finally:
        if server is not None:
            server.kill()
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.close()
    print("summary")
    print("\n".join(report.lines))


if __name__ == "__main__":
    main()
