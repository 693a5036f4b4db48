"""Crash test (issue 10): kill -9 API processes and the projection worker under load, then
prove that nothing acknowledged was lost, nothing was applied twice and every read model
equals a fresh rebuild.

    python -m bench.crash                      # 20 kills, at least 60 s of load
    python -m bench.crash --kills 5 --seconds 20

In a PostgreSQL database created for the run (``IRONLEDGER_BENCH_POSTGRES_URL``, default the
local server; dropped at the end):

1. Seed a group (two companies with a main warehouse each, one machine model) in process.
2. Start two API processes (``serve --no-projections``) and one ``worker``, sharing
   ``IRONLEDGER_SECRET_KEY``.
3. A few client threads send ``ReceiveMachine`` (a serial of their own each time) and
   ``TransferMachine`` (a unit they received, to the other company's warehouse) over HTTP,
   alternating between the API processes. Every command carries an ``Idempotency-Key`` of its
   own and is sent again with the same key, to the other process, on a connection error or a
   5xx, until it gets a definite answer (2xx or 4xx).
4. Meanwhile a killer thread sends SIGKILL to a randomly chosen live process (API or worker) at
   random moments, at least ``--kills`` times, and restarts it.
5. After the load everything is stopped (SIGTERM) and started again cleanly, the read models
   are waited for, and the checks run:

   a. every acknowledged command is in the event store: its CommandRecord sits at the position
      it answered, the unit it received exists, each unit's events are exactly Received plus
      one Transferred per acknowledged transfer, and the stock read model shows each unit in
      the warehouse its last acknowledged command put it in;
   b. nothing was applied twice: the log grew by exactly two events per acknowledged command
      (the unit's event and the CommandRecord), one CommandRecord per key, no refusal
      (``serial-number-exists`` on a retry would be one), and every key sent once more gets
      the same answer back (``Idempotent-Replayed: true``, same status, same body, same
      position) and records nothing;
   c. ``ironledger audit verify-views`` (every read model rebuilt into a shadow and compared
      with the live tables) and ``ironledger audit verify-chain`` exit 0.

Exit 0 when every check passed, 1 otherwise. The last line is a summary with the numbers.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql
from application.organisation.commands import CreateCompany, CreateWarehouse, RegisterMachineModel

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("IRONLEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_PASSWORD = "crash-admin-2026"
SECRET = "crash-secret-" + "c" * 40
STARTUP_TIMEOUT = 90.0
EVENTS = "ironledger_events"


def with_dbname(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + dbname))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_T0 = time.monotonic()


def say(*parts: Any) -> None:
    print(f"[{time.monotonic() - _T0:6.1f}s]", *parts, flush=True)


# ================================================================ processes
class Process:
    """One ``ironledger`` process (an API server or the worker), restartable on the same port."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path, port: int | None = None):
        self.name = name
        self.args = args
        self.env = env
        self.log_dir = log_dir
        self.port = port
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path: Path | None = None
        self.ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        self.ready.clear()
        self.log_path = self.log_dir / f"{self.name}-{self.starts}.log"
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen([sys.executable, "-m", "interfaces.cli", *self.args], cwd=ROOT,
                                          env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        threading.Thread(target=self._watch_ready, args=(self.popen,), daemon=True).start()

    def _is_ready(self) -> bool:
        if self.port is not None:
            try:
                return httpx.get(self.url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        assert self.log_path is not None
        return "projection worker running" in self.log_path.read_text(errors="replace")

    def _watch_ready(self, popen: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and popen is self.popen and popen.poll() is None:
            if self._is_ready():
                self.ready.set()
                return
            time.sleep(0.1)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        if not self.ready.wait(timeout):
            raise RuntimeError(f"{self.name} did not become ready:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self.ready.clear()

    def stop(self) -> bool:
        """SIGTERM; True when the process ended by itself within 30 s."""
        if not self.alive():
            return True
        assert self.popen is not None
        self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
            return True
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
            return False

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""
        except FileNotFoundError:
            return ""


class Cluster:
    """Two API processes and one worker on one PostgreSQL schema."""

    def __init__(self, url: str, schema: str, work_dir: Path, pool_size: int = 3) -> None:
        self.url = url
        self.schema = schema
        self.data_dir = work_dir / "var"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logs = work_dir / "logs"
        logs.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IRONLEDGER_")}
        env.update({
            "IRONLEDGER_DATABASE_URL": url, "IRONLEDGER_DATABASE_SCHEMA": schema,
            "IRONLEDGER_DATA_DIR": str(self.data_dir), "IRONLEDGER_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "IRONLEDGER_SECRET_KEY": SECRET, "IRONLEDGER_POOL_SIZE": str(pool_size),
            "IRONLEDGER_PROJECTION_POLL_SECONDS": "0.2",
            # The daily accrual would add events of its own to a log whose growth is counted exactly.
            "IRONLEDGER_RUN_PENALTY_ACCRUAL": "false",
            "PYTHONUNBUFFERED": "1",
        })
        self.env = env
        self.apis = [Process(f"api{n}", ["serve", "--no-projections", "--port", str(port), "--log-level", "warning"],
                             env, logs, port) for n, port in enumerate((free_port(), free_port()))]
        self.worker = Process("worker", ["worker"], env, logs)
        self.processes = [*self.apis, self.worker]

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, options=f"-c search_path={self.schema}")

    def seed(self) -> dict[str, str]:
        """Like bench/run.py: in process, before any server starts."""
        sys.path.insert(0, str(ROOT))
        from application.caller import SYSTEM
        from domain.organisation import MachineType, WarehouseKind
        from interfaces.composition import BackOffice
        from interfaces.settings import Settings

        office = BackOffice(Settings(database_url=self.url, database_schema=self.schema, data_dir=self.data_dir,
                                     secret_key=SECRET, pool_size=2, run_penalty_accrual=False))
        try:
            office.access.ensure_administrator(ADMIN_PASSWORD)
            org = office.organisation
            warehouses = []
            for code, name in (("CRASHA", "Crash A"), ("CRASHB", "Crash B")):
                company = office.execute(SYSTEM, CreateCompany(code=code, name=name)).body["company_id"]
                warehouses.append(office.execute(SYSTEM, CreateWarehouse(
                    company_id=uuid.UUID(company), code="MAIN", name=f"{name} main", kind=WarehouseKind.MAIN)).body["warehouse_id"])
            model = office.execute(SYSTEM, RegisterMachineModel(
                code="SY215C", name="SY215C excavator", machine_type=MachineType.EXCAVATOR)).body["model_id"]
        finally:
            office.stop()
        return {"warehouse_a": warehouses[0], "warehouse_b": warehouses[1], "model_id": model}

    def start_all(self) -> None:
        for p in self.processes:
            p.start()
        for p in self.processes:
            p.wait_ready()

    def stop_all(self) -> list[str]:
        """SIGTERM to every process; the names of those that did not stop by themselves."""
        return [p.name for p in self.processes if not p.stop()]

    def kill_all(self) -> None:
        for p in self.processes:
            if p.alive():
                p.kill9()

    def login(self) -> str:
        answer = httpx.post(self.apis[0].url + "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD},
                            timeout=30)
        answer.raise_for_status()
        return answer.json()["access_token"]

    def log_position(self) -> tuple[int, int]:
        """(events in the log, highest notification id)."""
        with self.connect() as conn:
            row = conn.execute(f"SELECT count(*), coalesce(max(notification_id), 0) FROM {EVENTS}").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def wait_caught_up(self, timeout: float = 120) -> float:
        """Seconds until every read model has applied the whole log."""
        began = time.monotonic()
        last = self.log_position()[1]
        with self.connect() as conn:
            while time.monotonic() - began < timeout:
                behind = conn.execute("SELECT count(*) FROM projection_positions WHERE position < %s",
                                      (last,)).fetchone()[0]  # type: ignore[index]
                if behind == 0:
                    return time.monotonic() - began
                time.sleep(0.1)
        raise RuntimeError(f"read models did not catch up with the log (notification {last}) in {timeout:.0f} s")

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "interfaces.cli", *args], check=False, cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)


# ================================================================ the load
@dataclass
class Command:
    key: str
    operation: str                  # ReceiveMachine | TransferMachine
    serial: str
    path: str
    body: dict[str, Any]
    warehouse: str                  # where the unit is once the command is done
    status: int | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0
    replayed: bool = False          # the answer that ended the retries was a replay


@dataclass
class Stats:
    retries: int = 0                # sends beyond each command's first
    transport_errors: int = 0       # connection refused/reset, answer lost
    server_errors: int = 0          # 5xx
    errors_seen: Counter[str] = field(default_factory=Counter)


class Load:
    """Client threads sending commands until told to stop; each command ends with a definite answer."""

    GIVE_UP_AFTER = 120.0           # one command without a definite answer for this long fails the run

    def __init__(self, cluster: Cluster, token: str, seeded: dict[str, str], threads: int, seed: int) -> None:
        self.cluster = cluster
        self.headers = {"Authorization": f"Bearer {token}"}
        self.seeded = seeded
        self.threads = threads
        self.seed = seed
        self.tag = uuid.uuid4().hex[:6].upper()
        self.commands: list[Command] = []
        self.stats = Stats()
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._pool: list[threading.Thread] = []

    def start(self) -> None:
        self._pool = [threading.Thread(target=self._client, args=(n,), name=f"client-{n}", daemon=True)
                      for n in range(self.threads)]
        for t in self._pool:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self._pool:
            t.join(timeout=self.GIVE_UP_AFTER + 30)

    def acknowledged(self) -> list[Command]:
        return [c for c in self.commands if c.status is not None and 200 <= c.status < 300]

    def _client(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        a, b = self.seeded["warehouse_a"], self.seeded["warehouse_b"]
        where: dict[str, str] = {}            # my units and the warehouse each is in
        clients = [httpx.Client(base_url=api.url, headers=self.headers, timeout=15) for api in self.cluster.apis]
        try:
            count = 0
            while not self.stop.is_set():
                key = f"crash-{self.tag}-{n}-{count}-{uuid.uuid4().hex[:8]}"
                if len(where) < 3 or rng.random() < 0.6:
                    serial = f"CR-{self.tag}-{n}-{count}"
                    to = rng.choice((a, b))
                    command = Command(key, "ReceiveMachine", serial, "/machines/receive",
                                      {"serial_number": serial, "model_id": self.seeded["model_id"],
                                       "warehouse_id": to, "nature": "purchased_sample"}, to)
                else:
                    serial = rng.choice(sorted(where))
                    to = b if where[serial] == a else a
                    command = Command(key, "TransferMachine", serial, f"/machines/{serial}/transfer",
                                      {"to_warehouse_id": to, "reason": f"crash test move {count}"}, to)
                with self.lock:
                    self.commands.append(command)
                if not self.send(command, clients, first=(count + n) % 2):
                    return
                if 200 <= (command.status or 0) < 300:
                    where[serial] = command.warehouse
                count += 1
        except Exception as error:  # noqa: BLE001 - a client that dies must fail the run, not hang it
            with self.lock:
                self.failures.append(f"client {n} crashed: {error!r}")
        finally:
            for c in clients:
                c.close()

    def send(self, command: Command, clients: list[httpx.Client], first: int) -> bool:
        """Sends until a definite answer, alternating between the API processes; False if none came."""
        deadline = time.monotonic() + self.GIVE_UP_AFTER
        headers = {"Idempotency-Key": command.key}
        target = first
        while True:
            command.attempts += 1
            if command.attempts > 1:
                with self.lock:
                    self.stats.retries += 1
            try:
                response = clients[target].post(command.path, json=command.body, headers=headers)
            except httpx.TransportError as error:
                with self.lock:
                    self.stats.transport_errors += 1
                    self.stats.errors_seen[type(error).__name__] += 1
            else:
                if response.status_code < 500:
                    command.status = response.status_code
                    command.answer = response.json()
                    command.replayed = response.headers.get("idempotent-replayed") == "true"
                    return True
                with self.lock:
                    self.stats.server_errors += 1
                    self.stats.errors_seen[f"HTTP {response.status_code}"] += 1
            if time.monotonic() > deadline:
                with self.lock:
                    self.failures.append(f"{command.operation} {command.serial} (key {command.key}): no definite "
                                         f"answer after {command.attempts} attempts")
                return False
            target = 1 - target
            time.sleep(0.05 if command.attempts < 5 else 0.3)


# ================================================================ the killer
class Killer(threading.Thread):
    """SIGKILLs a random live process at random moments and starts it again."""

    STARTING_SHARE = 0.15

    def __init__(self, cluster: Cluster, kills: int, seconds: float, seed: int) -> None:
        super().__init__(name="killer", daemon=True)
        self.cluster = cluster
        self.wanted = kills
        self.mean_gap = max(0.3, seconds / max(1, kills))
        self.rng = random.Random(seed)
        self.kills: Counter[str] = Counter()
        self.stop = threading.Event()
        self.error: str | None = None

    @property
    def total(self) -> int:
        return self.kills["api"] + self.kills["worker"]

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if self.stop.wait(self.rng.uniform(0.2, 1.8) * self.mean_gap):
                    return
                # Mostly a process at work; now and then one still starting (creating its tables).
                starting = self.rng.random() < self.STARTING_SHARE
                live = [p for p in self.cluster.processes if p.alive() and (starting or p.ready.is_set())]
                if not live:
                    continue
                victim = self.rng.choice(live)
                during_startup = not victim.ready.is_set()
                victim.kill9()
                self.kills["worker" if victim is self.cluster.worker else "api"] += 1
                self.kills["during startup"] += during_startup
                victim.start()          # comes back on its own; the next kill picks among ready ones
        except Exception as error:  # noqa: BLE001
            self.error = repr(error)


# ================================================================ checks
@dataclass
class Checks:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check(self, name: str, ok: bool, problem: str = "", info: str = "") -> bool:
        """``problem`` is printed when the check fails, ``info`` always."""
        (self.passed if ok else self.failed).append(name)
        shown = "; ".join(x for x in (info, "" if ok else problem) if x)
        say(f"  [{'ok' if ok else 'FAIL'}] {name}" + (f": {shown}" if shown else ""))
        return ok


def check_event_store(cluster: Cluster, load: Load, before: tuple[int, int], checks: Checks) -> None:
    """``before``: (events in the log, highest notification id) when the load began."""
    from domain import ids

    acked = load.acknowledged()
    admin = ids.user_id("admin")
    record_of = {c.key: ids.command_record_id(admin, c.key) for c in load.commands}
    with cluster.connect() as conn:
        events_after = int(conn.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0])  # type: ignore[index]
        records = {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(
            f"SELECT originator_id, notification_id, originator_version FROM {EVENTS} "
            "WHERE topic LIKE %s AND notification_id > %s", ("%CommandRecord%", before[1]))}
        units: dict[Any, list[str]] = defaultdict(list)
        for originator, topic in conn.execute(
                f"SELECT originator_id, topic FROM {EVENTS} WHERE topic LIKE %s "
                "ORDER BY originator_id, originator_version", ("%MachineUnit%",)):
            units[originator].append(topic.rsplit(".", 1)[-1])
        stock = {r[0]: str(r[1]) for r in conn.execute("SELECT serial_number, warehouse_id FROM machine_stock")}

    refused = [c for c in load.commands if c.status is not None and not 200 <= c.status < 300]
    checks.check("every command got a definite answer, none refused", not refused and not load.failures,
                 "; ".join([f"{c.operation} {c.serial}: {c.status} {c.answer}" for c in refused[:5]]
                           + load.failures[:5]))

    missing = [c for c in acked if record_of[c.key] not in records]
    misplaced = [c for c in acked if record_of[c.key] in records
                 and records[record_of[c.key]][0] != (c.answer or {}).get("position")]
    checks.check("(a) every acknowledged command's record is stored at the position it answered",
                 not missing and not misplaced,
                 f"{len(missing)} missing, {len(misplaced)} elsewhere; e.g. "
                 + ", ".join(f"{c.operation} {c.serial} answered {c.answer} stored "
                             f"{records.get(record_of[c.key])}" for c in (missing + misplaced)[:3]))

    expected: dict[str, list[str]] = defaultdict(list)
    final: dict[str, str] = {}
    for c in acked:
        expected[c.serial].append("Received" if c.operation == "ReceiveMachine" else "Transferred")
        final[c.serial] = c.warehouse
    wrong_units = [(s, units.get(ids.machine_unit_id(s)), want) for s, want in expected.items()
                   if units.get(ids.machine_unit_id(s)) != want]
    checks.check("(a) every acknowledged receive/transfer is in its unit's events, each exactly once",
                 not wrong_units, f"{len(wrong_units)} unit(s) differ; e.g. " + ", ".join(
                     f"{s}: stored {got}, acknowledged {want}" for s, got, want in wrong_units[:3]))
    strays = [s for s in {c.serial for c in load.commands if c.operation == "ReceiveMachine"} - set(expected)
              if ids.machine_unit_id(s) in units]
    checks.check("(b) no command without an acknowledgement left a unit behind", not strays, ", ".join(strays[:5]))

    grew = events_after - before[0]
    checks.check("(b) the log grew by exactly 2 events per acknowledged command", grew == 2 * len(acked),
                 info=f"{grew} events for {len(acked)} commands")
    ours = sum(1 for c in acked if record_of[c.key] in records)
    extra_versions = [k for k, (_, version) in records.items() if version != 1]
    checks.check("(b) one CommandRecord per idempotency key, no other CommandRecord since the load began",
                 len(records) == ours == len(acked) and not extra_versions,
                 f"{len(records)} records in the log, {ours} of acknowledged keys, {len(acked)} acknowledged",
                 f"{len(records)} records")

    wrong_place = [(s, stock.get(s), w) for s, w in final.items() if stock.get(s) != w]
    checks.check("(a) the stock read model shows each unit where its last acknowledged command put it",
                 not wrong_place and len(stock) == len(final),
                 f"{len(wrong_place)} misplaced, {len(stock)} rows for {len(final)} units; e.g. {wrong_place[:3]}",
                 f"{len(final)} units")


def check_replays(cluster: Cluster, load: Load, token: str, checks: Checks, sample: int | None = None,
                  threads: int = 4) -> int:
    """Sends acknowledged commands once more with their key: the first answer must come back. Every
    command that was retried is sent; of the others all, or a random ``sample``."""
    acked = load.acknowledged()
    if sample is not None and len(acked) > sample:
        retried = [c for c in acked if c.attempts > 1]
        others = [c for c in acked if c.attempts == 1]
        acked = retried + random.Random(load.seed).sample(others, max(0, sample - len(retried)))
    different: list[str] = []
    lock = threading.Lock()

    def replay(part: list[Command], n: int) -> None:
        clients = [httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
                   for api in cluster.apis]
        try:
            for i, c in enumerate(part):
                r = clients[(i + n) % 2].post(c.path, json=c.body, headers={"Idempotency-Key": c.key})
                if (r.status_code != c.status or r.headers.get("idempotent-replayed") != "true"
                        or r.json() != c.answer):
                    with lock:
                        different.append(f"{c.operation} {c.serial}: first {c.status} {c.answer}, "
                                         f"again {r.status_code} {r.text[:200]} "
                                         f"replayed={r.headers.get('idempotent-replayed')}")
        finally:
            for client in clients:
                client.close()

    pool = [threading.Thread(target=replay, args=(acked[n::threads], n)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    retried = sum(c.attempts > 1 for c in acked)
    checks.check("(b) every key sent again returns the same answer (replayed, same status, body, position)",
                 not different, f"{len(different)} of {len(acked)} differ; e.g. " + " | ".join(different[:3]),
                 f"{len(acked)} keys sent again ({retried} of commands that were retried)")
    return len(acked)


def check_views(cluster: Cluster, checks: Checks) -> None:
    done = cluster.cli("audit", "verify-views")
    checks.check("(c) every read model equals a fresh rebuild (audit verify-views exit 0)", done.returncode == 0,
                 "" if done.returncode == 0 else f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    done = cluster.cli("audit", "verify-chain")
    checks.check("(c) the event chain is intact (audit verify-chain exit 0)", done.returncode == 0,
                 f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}",
                 done.stdout.strip()[-300:] if done.returncode == 0 else "")


# ================================================================ the run
@dataclass
class Result:
    ok: bool
    acknowledged: int
    replayed_in_load: int
    retries: int
    kills: Counter[str]
    passed: int
    failed: list[str]
    seconds: float
    summary: str


def run(url: str, schema: str = "public", kills: int = 20, seconds: float = 60.0, threads: int = 4,
        seed: int | None = None, pool_size: int = 3, replay_sample: int | None = None) -> Result:
    """The whole crash test against one PostgreSQL database and schema (which must be empty)."""
    seed = random.randrange(1_000_000) if seed is None else seed
    began = time.monotonic()
    checks = Checks()
    load: Load | None = None
    killer: Killer | None = None
    with tempfile.TemporaryDirectory(prefix="ironledger-crash-") as tmp:
        cluster = Cluster(url, schema, Path(tmp), pool_size)
        try:
            seeded = cluster.seed()
            say(f"seeded schema {schema}; starting 2 API processes and 1 worker (seed {seed})")
            cluster.start_all()
            cluster.wait_caught_up()
            token = cluster.login()
            before = cluster.log_position()

            load = Load(cluster, token, seeded, threads, seed)
            killer = Killer(cluster, kills, seconds, seed + 1)
            say(f"load: {threads} client threads; killing a random process about every {killer.mean_gap:.1f} s, "
                f"at least {kills} times, for at least {seconds:.0f} s")
            load_began = time.monotonic()
            load.start()
            killer.start()
            while (time.monotonic() - load_began < seconds or killer.total < kills) and killer.is_alive() \
                    and not load.failures and time.monotonic() - load_began < seconds * 4 + 120:
                time.sleep(0.5)
            killer.stop.set()
            killer.join(timeout=STARTUP_TIMEOUT)
            load.join()
            load_seconds = time.monotonic() - load_began
            acked = load.acknowledged()
            say(f"load done in {load_seconds:.1f} s: {len(load.commands)} commands, {len(acked)} acknowledged, "
                f"{load.stats.retries} retries ({load.stats.transport_errors} connection errors, "
                f"{load.stats.server_errors} 5xx: {dict(load.stats.errors_seen)}), "
                f"{sum(c.replayed for c in acked)} answered by a replay; kills: {dict(killer.kills)}")
            checks.check(f"at least {kills} kills", killer.total >= kills and killer.error is None,
                         f"killer failed: {killer.error}" if killer.error else "", f"{killer.total} kills")

            say("restarting everything cleanly")
            unclean = cluster.stop_all()
            checks.check("every process stops on SIGTERM", not unclean, ", ".join(unclean))
            cluster.start_all()
            caught = cluster.wait_caught_up()
            say(f"read models caught up {caught:.1f} s after the restart; checking")

            check_replays(cluster, load, token, checks, replay_sample)
            check_event_store(cluster, load, before, checks)
            cluster.stop_all()      # verify-views compares a still log
            check_views(cluster, checks)
        except Exception as error:  # noqa: BLE001 - reported as a failed check, with the logs
            checks.check("the run completed", False, repr(error))
            for p in cluster.processes:
                say(f"--- {p.name} (start {p.starts}) log tail ---\n{p.log_tail(1500)}")
        finally:
            if killer is not None:
                killer.stop.set()
            if load is not None:
                load.stop.set()
            cluster.kill_all()
    acked = load.acknowledged() if load else []
    retries = load.stats.retries if load else 0
    replayed = sum(c.replayed for c in acked)
    kill_counts: Counter[str] = killer.kills if killer else Counter()
    elapsed = time.monotonic() - began
    ok = not checks.failed
    summary = (f"crash test {'PASSED' if ok else 'FAILED'}: {len(acked)} commands acknowledged "
               f"({sum(c.operation == 'ReceiveMachine' for c in acked)} receives, "
               f"{sum(c.operation == 'TransferMachine' for c in acked)} transfers), "
               f"{retries} retries, {replayed} answered by replay, "
               f"{kill_counts['api'] + kill_counts['worker']} kills ({kill_counts['api']} API, "
               f"{kill_counts['worker']} worker; {kill_counts['during startup']} of them while starting), "
               f"checks passed {len(checks.passed)}/{len(checks.passed) + len(checks.failed)}, {elapsed:.0f} s")
    return Result(ok, len(acked), replayed, retries, kill_counts, len(checks.passed), checks.failed, elapsed,
                  summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="at least this many SIGKILLs (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="at least this long under load (default 60)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--seed", type=int, help="random seed (default: a random one, printed)")
    args = parser.parse_args()

    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    dbname = f"ironledger_crash_{os.getpid()}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        result = run(with_dbname(ADMIN_URL, dbname), kills=args.kills, seconds=args.seconds, threads=args.threads,
                     seed=args.seed)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.close()
    say(result.summary)
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
