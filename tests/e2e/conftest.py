"""End-to-end fixtures: the real ``ironledger`` command serving HTTP in a subprocess.

Every server runs ``python -m interfaces.cli serve`` (what the ``ironledger``
console script calls, ``interfaces.cli:main``) with ``IRONLEDGER_*`` variables
pointing at a store of its own:

- SQLite: a fresh data directory under pytest's tmp folder;
- PostgreSQL: a fresh schema in the session database of ``tests/conftest.py``
  (``postgres_database``), dropped when the server is gone.

``store`` is overridden here with session scope (same parameters as the other
tiers, ``IRONLEDGER_TEST_STORES`` respected) so that one demo-seeded server per
store serves every test that does not disturb the others: tests only add data
with names of their own and compare counts before/after within themselves.

"Nothing was recorded" is checked against the event log itself (how many
events it holds), read straight from the store: an exact oracle that needs no
waiting for read models.
"""

from __future__ import annotations

import os
from datetime import date
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from domain import ids
from interfaces.demo import DEMO_PASSWORD
from tests.conftest import ADMIN_PASSWORD, STORES

ROOT = Path(__file__).resolve().parents[2]

SECRET_KEY = "e2e-secret-" + "k" * 40     # known to the tests, to forge expired tokens
PROBLEM = "application/problem+json"
STARTUP_TIMEOUT = 60.0
PG_POOL_SIZE = "4"                         # the PostgreSQL server is shared: stay frugal

# Demo ids, derived from the demo's codes (the ``demo`` fixture checks the server agrees).
HF, CZ = str(ids.company_id("HF")), str(ids.company_id("CZ"))
HF_MAIN = str(ids.warehouse_id(ids.company_id("HF"), "MAIN"))
CZ_MAIN = str(ids.warehouse_id(ids.company_id("CZ"), "MAIN"))
XE60, SY215C, LG855 = (str(ids.machine_model_id(code)) for code in ("XE60", "SY215C", "LG855"))
FORMAL = str(ids.customer_type_id("FORMAL"))


# ------------------------------------------------------------------ stores
class Store:
    """Where one (or several) server processes keep events and read models."""

    def __init__(self, kind: str, data_dir: Path, pg_url: str | None = None, schema: str | None = None) -> None:
        self.kind = kind
        self.data_dir = data_dir
        self.pg_url = pg_url
        self.schema = schema

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IRONLEDGER_")}
        env.update({
            "IRONLEDGER_DATA_DIR": str(self.data_dir),
            "IRONLEDGER_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "IRONLEDGER_SECRET_KEY": SECRET_KEY,
            "IRONLEDGER_PROJECTION_POLL_SECONDS": "0.2",
            "IRONLEDGER_READ_WAIT_SECONDS": "5",
            # A daily run starting mid-test (01:00 at the dealer's offset) would add events that
            # tests counting "nothing recorded" do not expect; accrual is tested on its own.
            "IRONLEDGER_RUN_PENALTY_ACCRUAL": "false",
            "PYTHONUNBUFFERED": "1",
        })
        if self.kind == "postgres":
            env.update({"IRONLEDGER_DATABASE_URL": self.pg_url or "", "IRONLEDGER_DATABASE_SCHEMA": self.schema or "",
                        "IRONLEDGER_POOL_SIZE": PG_POOL_SIZE})
        env.update({f"IRONLEDGER_{k.upper()}": v for k, v in overrides.items()})
        return env

    def event_count(self) -> int:
        """How many events the log holds (PostgreSQL notification ids have gaps: a refused insert uses one up)."""
        if self.kind == "sqlite":
            path = self.data_dir / "events.sqlite3"
            if not path.exists():
                return 0
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                row = conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()
            finally:
                conn.close()
            return row[0] or 0
        with psycopg.connect(self.pg_url or "", autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(sql.SQL("SELECT COUNT(*) FROM {}.ironledger_events").format(
                sql.Identifier(self.schema or ""))).fetchone()
        return (row[0] if row else None) or 0

    def drop(self) -> None:
        if self.kind == "postgres":
            with psycopg.connect(self.pg_url or "", autocommit=True, connect_timeout=10) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema or "")))

    def run_cli(self, *args: str, timeout: float = 180, **env_overrides: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "interfaces.cli", *args], cwd=ROOT,
                              env=self.env(**env_overrides), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"ironledger {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ servers
class Server:
    """One ``ironledger serve`` process."""

    def __init__(self, store: Store, log_path: Path, no_projections: bool = False, **env: str) -> None:
        self.store = store
        self.log_path = log_path
        self.no_projections = no_projections
        self.env_overrides = env
        self.process: subprocess.Popen | None = None
        self.port = 0
        self._tokens: dict[tuple[str, str], str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        for attempt in range(3):  # a free port may be taken before the server binds it
            self.port = _free_port()
            args = [sys.executable, "-m", "interfaces.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                    "--log-level", "warning"]
            if self.no_projections:
                args.append("--no-projections")
            log = open(self.log_path, "ab")
            self.process = subprocess.Popen(args, cwd=ROOT, env=self.store.env(**self.env_overrides), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
            if self._wait_until_healthy():
                # The server runs on the store under test, never a silent fallback to SQLite.
                expected = "postgresql" if self.store.kind == "postgres" else "sqlite"
                assert self.health()["store"] == expected, self.log_tail()
                return self
            if attempt < 2 and "address already in use" in self.log_tail().lower():
                continue
            break
        tail = self.log_tail()
        self.stop()
        raise AssertionError(f"ironledger serve did not become healthy on port {self.port}:\n{tail}")

    def _wait_until_healthy(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    # -------------------------------------------------------------- client side
    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        key = (username, password)
        if key not in self._tokens:
            answer = httpx.post(self.url + "/auth/login", json={"username": username, "password": password}, timeout=30)
            assert answer.status_code == 200, answer.text
            self._tokens[key] = answer.json()["access_token"]
        return self._tokens[key]

    def as_user(self, username: str, password: str = DEMO_PASSWORD) -> httpx.Client:
        return self.client(self.login(username, password))

    def as_admin(self) -> httpx.Client:
        return self.as_user("admin", ADMIN_PASSWORD)

    def health(self) -> dict[str, Any]:
        answer = httpx.get(self.url + "/health", timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()


class Launcher:
    """Makes stores and servers; stops every server, then drops every store."""

    def __init__(self, request: pytest.FixtureRequest, base: Path) -> None:
        self.request = request
        self.base = base
        self.servers: list[Server] = []
        self.stores: list[Store] = []

    def new_store(self, kind: str) -> Store:
        name = uuid.uuid4().hex[:10]
        data_dir = self.base / f"{kind}-{name}" / "var"
        data_dir.mkdir(parents=True)
        if kind == "sqlite":
            store = Store(kind, data_dir)
        else:
            url = self.request.getfixturevalue("postgres_database")
            store = Store(kind, data_dir, url, "e2e_" + name)
        self.stores.append(store)
        return store

    def serve(self, store: Store, no_projections: bool = False, **env: str) -> Server:
        n = len(self.servers)
        server = Server(store, store.data_dir.parent / f"server-{n}.log", no_projections, **env)
        self.servers.append(server)
        return server.start()

    def close(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        for store in self.stores:
            try:
                store.drop()
            except psycopg.Error as error:  # never hide the test's own outcome behind a cleanup error
                print(f"could not drop schema {store.schema}: {error}", file=sys.stderr)


@contextmanager
def _launcher(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    launcher = Launcher(request, tmp_path_factory.mktemp("e2e"))
    try:
        yield launcher
    finally:
        launcher.close()


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session", params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """Overrides the function-scoped ``store`` of tests/conftest.py: one server set per store."""
    return request.param


@pytest.fixture(scope="session")
def session_launcher(store, request, tmp_path_factory) -> Iterator[Launcher]:
    if store == "postgres":  # set up first, so that the database is dropped after the servers stop
        request.getfixturevalue("postgres_database")
    with _launcher(request, tmp_path_factory) as launcher:
        yield launcher


@pytest.fixture
def launcher(store, request, tmp_path_factory) -> Iterator[Launcher]:
    """Servers of one test only (fresh stores, special settings)."""
    if store == "postgres":
        request.getfixturevalue("postgres_database")
    with _launcher(request, tmp_path_factory) as launcher:
        yield launcher


@pytest.fixture(scope="session")
def demo_server(store: str, session_launcher: Launcher) -> Server:
    """A server over the demo group (3 companies, 50 machines, users of every role),
    loaded with ``ironledger demo`` before the server starts."""
    data = session_launcher.new_store(store)
    data.run_cli("demo")
    return session_launcher.serve(data)


@pytest.fixture(scope="session")
def twin_server(store: str, demo_server: Server, session_launcher: Launcher) -> Server:
    """PostgreSQL only: a second API process on the demo server's schema
    (``--no-projections``: the first process keeps the read models)."""
    if store != "postgres":
        pytest.skip("several server processes on one store: PostgreSQL only")
    return session_launcher.serve(demo_server.store, no_projections=True)


@pytest.fixture(scope="session")
def demo(demo_server: Server) -> dict[str, Any]:
    """Ids of the demo data, looked up through the API as the administrator."""
    with demo_server.as_admin() as admin:
        companies = {c["code"]: c["company_id"] for c in admin.get("/companies").json()["items"]}
        warehouses = {(w["company_code"], w["code"]): w["warehouse_id"]
                      for w in admin.get("/warehouses").json()["items"]}
        models = {m["code"]: m["model_id"] for m in admin.get("/machine-models").json()["items"]}
        machines = admin.get("/machines", params={"page_size": 500}).json()["items"]
        contracts = admin.get("/contracts").json()["items"]
        customers = admin.get("/customers").json()["items"]
    assert set(companies) >= {"HF", "CZ", "CHZ"} and len(machines) >= 50 and contracts and customers
    assert (companies["HF"], companies["CZ"]) == (HF, CZ)
    assert (warehouses[("HF", "MAIN")], warehouses[("CZ", "MAIN")]) == (HF_MAIN, CZ_MAIN)
    assert (models["XE60"], models["SY215C"], models["LG855"]) == (XE60, SY215C, LG855)
    return {"companies": companies, "warehouses": warehouses, "models": models, "machines": machines,
            "contracts": contracts, "customers": customers}


def server_today(server: Server) -> date:
    """The server's business date (the dealer's day, UTC+8), as the server says it."""
    with server.as_user("finance.sun") as sun:
        return date.fromisoformat(ok(sun.get("/receivables", params={"page_size": 1}))["as_of"])


@pytest.fixture(scope="session")
def today(demo_server: Server) -> date:
    return server_today(demo_server)


# ------------------------------------------------------------------ assertions
def assert_problem(answer: httpx.Response, status: int, code: str | None = None, context: Any = "") -> dict[str, Any]:
    """An RFC 9457 problem with the given status and stable code."""
    where = f"[{context}] " if context else ""
    assert answer.status_code == status, \
        f"{where}expected {status}, got {answer.status_code}: {answer.text[:500]}"
    media_type = answer.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == PROBLEM, f"{where}content-type {answer.headers.get('content-type')!r}: {answer.text[:300]}"
    body = answer.json()
    assert body["status"] == status, where
    assert body["code"] and body["type"].endswith("/" + body["code"]), where
    assert body.get("title") and body.get("detail"), where
    if code is not None:
        assert body["code"] == code, f"{where}{body}"
    return body


@contextmanager
def nothing_recorded(server: Server) -> Iterator[None]:
    """The block records no event in the server's store."""
    before = server.store.event_count()
    yield
    after = server.store.event_count()
    assert after == before, f"{after - before} event(s) were recorded"


def unique(prefix: str = "E2E") -> str:
    """A serial number or code no other test uses (letters and digits only)."""
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of an answer that must have this status."""
    assert answer.status_code == status, f"{answer.request.method} {answer.request.url.path}: " \
                                         f"{answer.status_code} {answer.text[:500]}"
    return answer.json()


def every(client: httpx.Client, path: str, after: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list (shared data: never assume it fits one page)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        listed = ok(client.get(path, params={**params, "after": after, "page": page, "page_size": 500}))
        items.extend(listed["items"])
        if len(items) >= listed["total"] or not listed["items"]:
            assert len(items) == listed["total"], (len(items), listed["total"])
            return items
        page += 1
