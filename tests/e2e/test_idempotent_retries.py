"""Idempotency under retries, across processes (PostgreSQL only): two API processes
on one schema, a thousand commands each sent three times at once with its own
``Idempotency-Key``, the copies of one command alternating between the processes.

- every copy of a command gets the first answer: the same status and the very
  same body bytes (``position`` included); only the ``Idempotent-Replayed``
  header tells the replays apart, and exactly one copy per key is not a replay;
  so does a retry sent again once everything is done, to the other process;
- each command has exactly one effect: one ``MachineUnit.Received`` per serial
  (one ``Transferred`` per transfer) and one ``CommandRecord`` per key in the
  event store, two events per command and nothing else, and the stock read model
  counts exactly the machines received;
- a key sent again with another request (another serial, another operation) is
  refused with 422 ``idempotency-key-reused`` by either process, recording nothing.

The servers run on a store of this test's own, so the counts are exact.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from domain import ids
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import Server, Store, assert_problem

RECEIPTS = 1000      # ReceiveMachine commands, each with its own key and serial
TRANSFERS = 200      # TransferMachine commands on some of the machines received
COPIES = 3           # how many times each command is sent, at once
THREADS = 24         # client threads; the copies of a key are queued next to each other


def _events_of(store: Store, originators: list[uuid.UUID]) -> Counter[tuple[uuid.UUID, str]]:
    """How many events each originator has, by event class (the last part of its topic)."""
    with psycopg.connect(store.pg_url or "", autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(sql.SQL("SELECT originator_id, topic FROM {}.ironledger_events "
                                    "WHERE originator_id = ANY(%s)").format(sql.Identifier(store.schema or "")),
                            [originators]).fetchall()
    return Counter((originator, topic.rsplit(".", 1)[-1]) for originator, topic in rows)


def _send_every_copy(clients: list[httpx.Client], commands: list[tuple[str, str, dict[str, Any]]]
                     ) -> list[list[httpx.Response]]:
    """Sends each (key, url, body) COPIES times from a pool of threads; copy c of the k-th
    command goes to process (k + c) % 2. Returns the answers per command, in copy order.

    The copies of a command are queued next to each other, so free threads take them up
    together: most keys have two or more copies in flight at once (checked, so that the
    test keeps testing races and not only retries after the fact)."""
    jobs = [(k, c) for k in range(len(commands)) for c in range(COPIES)]
    answers: list[list[Any]] = [[None] * COPIES for _ in commands]
    in_flight: list[list[tuple[float, float]]] = [[(0.0, 0.0)] * COPIES for _ in commands]

    def send(job: tuple[int, int]) -> None:
        k, c = job
        key, url, body = commands[k]
        sent = time.monotonic()
        try:
            answers[k][c] = clients[(k + c) % len(clients)].post(url, json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as error:  # reported below, with the others
            answers[k][c] = error
        in_flight[k][c] = (sent, time.monotonic())

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(send, jobs))
    failed = [(commands[k][0], a) for k, copies in enumerate(answers) for a in copies
              if not isinstance(a, httpx.Response)]
    assert not failed, failed[:10]
    raced = sum(1 for spans in in_flight
                if any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1:]))
    print(f"{raced} of {len(commands)} keys had copies in flight at the same time")
    assert raced >= len(commands) // 2, f"only {raced} of {len(commands)} keys raced"
    return answers


def _assert_one_answer_per_key(commands: list[tuple[str, str, dict[str, Any]]],
                               answers: list[list[httpx.Response]], status: int) -> None:
    wrong = []
    for (key, url, _), copies in zip(commands, answers):
        first = copies[0]
        originals = [a for a in copies if a.headers.get("idempotent-replayed") != "true"]
        if (any(a.status_code != status for a in copies) or len({a.content for a in copies}) != 1
                or len(originals) != 1):
            wrong.append(f"{key} {url}: " + " | ".join(
                f"{a.status_code} replayed={a.headers.get('idempotent-replayed')} {a.text[:160]}" for a in copies))
        elif "position" not in first.json():
            wrong.append(f"{key}: no position in {first.text[:200]}")
    assert not wrong, f"{len(wrong)} of {len(commands)} keys answered differently:\n" + "\n".join(wrong[:20])


def test_a_thousand_commands_each_sent_three_times_to_two_processes_have_one_effect_each(store, launcher):
    if store != "postgres":
        pytest.skip("several server processes on one store: PostgreSQL only")
    started = time.monotonic()
    data = launcher.new_store(store)
    first_process = launcher.serve(data)
    second_process = launcher.serve(data, no_projections=True)
    run = uuid.uuid4().hex[:8].upper()

    token = first_process.login("admin", ADMIN_PASSWORD)
    with first_process.client(token) as admin:
        company = admin.post("/companies", json={"code": f"R{run}", "name": "Retry Machinery"})
        assert company.status_code == 201, company.text
        company_id = company.json()["company_id"]
        warehouses = []
        for code in ("MAIN", "YARD"):
            made = admin.post("/warehouses", json={"company_id": company_id, "code": code, "name": f"Retry {code}"})
            assert made.status_code == 201, made.text
            warehouses.append(made.json()["warehouse_id"])
        model = admin.post("/machine-models", json={"code": f"RT{run}", "name": "Retry excavator",
                                                    "machine_type": "excavator"})
        assert model.status_code == 201, model.text
        model_id = model.json()["model_id"]
    admin_id = ids.user_id("admin")

    limits = httpx.Limits(max_connections=THREADS, max_keepalive_connections=THREADS)
    clients = [server.client(token, limits=limits) for server in (first_process, second_process)]
    try:
        for client in clients:  # connections up and the token good on both processes
            assert client.get("/auth/me").status_code == 200

        # ---------------------------------------------------------------- receipts
        serials = [f"RTY{run}{n:05d}" for n in range(RECEIPTS)]
        receipts = [(f"receive-{run}-{n}", "/machines/receive",
                     {"serial_number": serial, "model_id": model_id, "warehouse_id": warehouses[0],
                      "nature": ("purchased_sample", "trade_in")[n % 2]})
                    for n, serial in enumerate(serials)]
        before = data.event_count()
        answers = _send_every_copy(clients, receipts)
        _assert_one_answer_per_key(receipts, answers, 201)
        assert [a[0].json()["serial_number"] for a in answers] == serials
        assert data.event_count() - before == 2 * RECEIPTS, "one machine event and one key record per command"
        received_at = max(a[0].json()["position"] for a in answers)
        received_time = time.monotonic() - started

        # ---------------------------------------------------------------- transfers
        moved = serials[:TRANSFERS]
        transfers = [(f"transfer-{run}-{n}", f"/machines/{serial}/transfer",
                      {"to_warehouse_id": warehouses[1], "reason": f"retry test {n}"})
                     for n, serial in enumerate(moved)]
        before = data.event_count()
        transferred = _send_every_copy(clients, transfers)
        _assert_one_answer_per_key(transfers, transferred, 200)
        assert data.event_count() - before == 2 * TRANSFERS
        moved_at = max(a[0].json()["position"] for a in transferred)

        # ---------------------------------------------------------------- one effect per key, in the log
        machine_ids = [ids.machine_unit_id(serial) for serial in serials]
        record_ids = [ids.command_record_id(admin_id, key) for key, _, _ in receipts + transfers]
        events = _events_of(data, machine_ids + record_ids)
        wrong = [f"{serial}: {events[(mid, 'Received')]} received, {events[(mid, 'Transferred')]} transferred"
                 for n, (serial, mid) in enumerate(zip(serials, machine_ids))
                 if (events[(mid, "Received")], events[(mid, "Transferred")]) != (1, int(n < TRANSFERS))]
        assert not wrong, f"{len(wrong)} machines:\n" + "\n".join(wrong[:20])
        records = Counter(originator for (originator, topic) in events if topic.endswith("Recorded"))
        assert [records[r] for r in record_ids] == [1] * len(record_ids), "one CommandRecord per key"
        assert sum(n for (_, topic), n in events.items()) == 2 * RECEIPTS + 2 * TRANSFERS

        # ---------------------------------------------------------------- and in the read model
        with first_process.client(token) as admin:
            after = {"after": max(received_at, moved_at)}
            counts = admin.get("/machines", params={"serial": f"RTY{run}", "page_size": 1, **after})
            assert counts.status_code == 200, counts.text
            assert counts.json()["total"] == RECEIPTS
            for warehouse, expected in zip(warehouses, (RECEIPTS - TRANSFERS, TRANSFERS)):
                listed = admin.get("/machines", params={"warehouse_id": warehouse, "page_size": 1, **after})
                assert listed.json()["total"] == expected, (warehouse, listed.text)

        # ---------------------------------------------------------------- a late retry, once all is done
        before = data.event_count()
        late = [(n, command) for n, command in enumerate(receipts) if n % 10 == 0] + \
               [(RECEIPTS + n, command) for n, command in enumerate(transfers) if n % 4 == 0]
        first_answers = {key: copies[0] for (key, _, _), copies in zip(receipts + transfers, answers + transferred)}
        with ThreadPoolExecutor(THREADS) as pool:
            again = list(pool.map(lambda job: clients[(job[0] + 1) % 2].post(
                job[1][1], json=job[1][2], headers={"Idempotency-Key": job[1][0]}), late))
        for (_, (key, _, _)), answer in zip(late, again):
            first = first_answers[key]
            assert (answer.status_code, answer.content) == (first.status_code, first.content), (key, answer.text)
            assert answer.headers.get("idempotent-replayed") == "true", key
        assert data.event_count() == before, "a late retry recorded something"

        # ---------------------------------------------------------------- a key reused for another request
        reused: list[tuple[Callable[[], httpx.Response], str]] = []
        for n in range(0, 40, 2):
            key, _, body = receipts[n]
            other = dict(body, serial_number=f"RTX{run}{n:05d}")
            for client in clients:
                reused.append((lambda c=client, k=key, b=other: c.post("/machines/receive", json=b,
                                                                       headers={"Idempotency-Key": k}), key))
                reused.append((lambda c=client, k=key, s=serials[n + 1]: c.post(
                    f"/machines/{s}/transfer", json={"to_warehouse_id": warehouses[1], "reason": "reused key"},
                    headers={"Idempotency-Key": k}), key))
        with ThreadPoolExecutor(THREADS) as pool:
            refusals = list(pool.map(lambda job: job[0](), reused))
        for (_, key), refusal in zip(reused, refusals):
            problem = assert_problem(refusal, 422, "idempotency-key-reused", key)
            assert key in problem["detail"]
        assert data.event_count() == before, "a reused key recorded something"
    finally:
        for client in clients:
            client.close()
    elapsed = time.monotonic() - started
    print(f"{RECEIPTS} receipts x{COPIES} in {received_time:.1f} s; with {TRANSFERS} transfers x{COPIES}, "
          f"{len(late)} late retries and {len(reused)} reused keys: {elapsed:.1f} s")
