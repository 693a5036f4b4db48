"""The console's list pages against the API's JSON answer of the same question, with 10,000
rows in the read model, on PostgreSQL, in one run:

    python -m bench.console            # about 2 minutes
    python -m bench.console --quick    # 2,000 rows, fewer requests

For each list (contracts, machine stock) one ``ironledger serve`` process answers, in turn,
the console's page (first page of 50, HTML rendered from its template) and the API's GET of
the same page (JSON), both as the same signed-in clerk over loopback; p50/p99 of the request
time is printed for each, and the page's ratio to the JSON answer (the ceiling here: the same
query, read model and scope without the template).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from bench.run import ADMIN_URL, ROOT, SECRET, caught_up, percentile, start_server, with_dbname

PASSWORD = "bench-clerk-2026"


def seed(url: str, data_dir: Path, rows: int) -> None:
    """``rows`` contracts and ``rows`` machines through the application layer, and a clerk."""
    sys.path.insert(0, str(ROOT))
    from application.access.commands import CreatePosition, CreateUser
    from application.caller import SYSTEM
    from application.organisation.commands import CreateCompany, CreateWarehouse, RegisterMachineModel
    from application.sales.commands import ContractLineRequest, CreateCustomer, DefineCustomerType, DraftContract
    from application.stock.commands import ReceiveMachine
    from domain.access import Role
    from domain.customers import PartyKind
    from domain.machines import MachineNature
    from domain.organisation import MachineType, WarehouseKind
    from interfaces.composition import BackOffice
    from interfaces.settings import Settings

    office = BackOffice(Settings(database_url=url, data_dir=data_dir, secret_key=SECRET, pool_size=2))
    run = lambda command: office.execute(SYSTEM, command).answer  # noqa: E731
    company = run(CreateCompany(code="HF", name="Hefei")).company_id
    warehouse = run(CreateWarehouse(company_id=company, code="MAIN", name="Main", kind=WarehouseKind.MAIN)).warehouse_id
    model = run(RegisterMachineModel(code="SY215C", name="SY215C excavator", machine_type=MachineType.EXCAVATOR)).model_id
    kind = run(DefineCustomerType(code="FORMAL", name="Formal")).customer_type_id
    position = run(CreatePosition(name="Hefei office", company_ids=[company])).position_id
    run(CreateUser(username="clerk.bench", password=PASSWORD, display_name="Clerk",
                   roles=[Role.SALES_CLERK, Role.WAREHOUSE_KEEPER], position_ids=[position]))
    seller = run(CreateUser(username="sales.bench", password=PASSWORD, display_name="Seller",
                            roles=[Role.SALESPERSON], position_ids=[position])).user_id
    customers = [run(CreateCustomer(company_id=company, name=f"Customer {n:04d}", kind=PartyKind.ORGANISATION,
                                    customer_type_id=kind, owner_id=seller)).customer_id for n in range(100)]
    started = time.perf_counter()
    for n in range(rows):
        run(DraftContract(company_id=company, customer_id=customers[n % 100], lines=[ContractLineRequest(
            model_id=model, quantity=1, unit_price=Decimal("380000.00") + n)]))
        run(ReceiveMachine(serial_number=f"BENCH-{n:06d}", model_id=model, warehouse_id=warehouse,
                           nature=MachineNature.PURCHASED_SAMPLE))
    print(f"seeded {rows} contracts and {rows} machines in {time.perf_counter() - started:.0f} s", flush=True)
    office.stop()


def timed(client: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(5):                       # warm-up
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return times


def console_client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/console/sign-in").text
    csrf = re.search(r'name="_csrf" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/console/sign-in", data={"_csrf": csrf, "username": "clerk.bench", "password": PASSWORD,
                                                   "next": "/console/"})
    assert answer.status_code in (200, 303), answer.text[:300]
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows, requests = (2_000, 60) if args.quick else (10_000, 300)
    name = f"ironledger_console_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_dbname(ADMIN_URL, name)
    server = None
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            seed(url, Path(data_dir), rows)
            server, base = start_server(url, Path(data_dir))
            caught_up(url)
            pages = console_client(base)
            token = httpx.post(base + "/auth/login", json={"username": "clerk.bench", "password": PASSWORD}).json()
            api = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token['access_token']}"})
            print(f"| list ({rows:,} rows, first page of 50) | console page p50 / p99 | JSON p50 / p99 | ratio p50 |")
            print("|---|---|---|---|")
            for label, page, json_path in (("contracts", "/console/contracts", "/contracts?page_size=50"),
                                           ("machine stock", "/console/machines", "/machines?page_size=50")):
                if pages.get(page).status_code != 200:
                    print(f"| {label} | no page | | |")
                    continue
                html = timed(pages, page, requests)
                json = timed(api, json_path, requests)
                print(f"| {label} | {percentile(html, 50):.1f} / {percentile(html, 99):.1f} ms | "
                      f"{percentile(json, 50):.1f} / {percentile(json, 99):.1f} ms | "
                      f"{percentile(html, 50) / percentile(json, 50):.2f}× |", flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
