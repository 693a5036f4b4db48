"""A class moved with its old topic registered (``domain/topics.py``): its history, stored under
the old topic, still reaches every read model, on real SQLite and PostgreSQL.

Read models dispatch by the class a stored topic resolves to, not by the topic's text. A move is
simulated here: the stored topics (and the aggregates' topics inside the creation events) are
rewritten to old module names, the old names registered the three ways ``resolve_topic`` knows
(an old module, an old aggregate topic, each old event topic), and every read model rebuilt, into
a shadow as the audit does and in place, must equal the live tables built from the current topics.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import eventsourcing.utils as es_utils
import psycopg
import pytest
from eventsourcing.utils import TopicError, register_topic, resolve_topic

import domain.machines
from application.sales import ContractLineRequest
from domain.approvals import ApprovalRequested
from domain.contracts import Contract
from domain.machines import MachineUnit
from domain.organisation import Warehouse
from interfaces.persistence.verify import shadow_views, verify_views
from projections.approval_queue import ApprovalQueueProjection
from projections.machine_stock import MachineStockProjection
from tests.conftest import receive
from tests.integration.test_sales import _terms, sales  # noqa: F401  (the ``sales`` fixture)
from application.stock.commands import TransferMachine
from application.sales.commands import CompleteContractTerms
from application.sales.commands import ApproveContract, DraftContract, SubmitContractForApproval, SubmitContractToClerk

OLD_PREFIXES = ("domain.machines_old", "domain.contracts_old:", "domain.sites:")


@pytest.fixture
def old_topics() -> Iterator[Callable[[str, Any], None]]:
    """``register_topic`` for old names, undone afterwards: the library's topic cache forgets
    every topic under an old name, registered here or resolved through one since."""
    def register(topic: str, obj: Any) -> None:
        assert topic.startswith(OLD_PREFIXES)
        register_topic(topic, obj)

    yield register
    with es_utils._topic_cache_lock:
        for topic in [t for t in es_utils._topic_cache if t.startswith(OLD_PREFIXES)]:
            del es_utils._topic_cache[topic]


# ================================================================ the projection, without a store
def test_a_projection_handles_an_event_stored_under_an_old_topic(old_topics):
    stock, queue = MachineStockProjection(), ApprovalQueueProjection()
    old_received = "domain.machines_old:MachineUnit.Received"
    old_submitted = "domain.contracts_old:Contract.SubmittedForApproval"
    old_topics(old_received, MachineUnit.Received)
    old_topics(old_submitted, Contract.SubmittedForApproval)

    assert stock.handles(old_received)
    assert stock.handler(old_received) == stock.handler("domain.machines:MachineUnit.Received")
    assert old_received in stock.topics
    # A subclass of a declared base event (the queue declares ApprovalRequested) under its old topic.
    assert issubclass(Contract.SubmittedForApproval, ApprovalRequested)
    assert queue.handles(old_submitted)
    assert queue.handler(old_submitted) == queue.handler("domain.contracts:Contract.SubmittedForApproval")
    assert old_submitted in queue.topics and old_submitted not in stock.topics
    assert not queue.handles(old_received)


def test_a_stored_topic_resolving_to_no_class_stops_the_read_model_rather_than_skip_it():
    stock = MachineStockProjection()
    with pytest.raises(TopicError, match="domain/topics.py"):
        stock.handles("domain.machines_old:MachineUnit.Received")
    assert "domain.machines_old:MachineUnit.Received" not in stock.topics


def test_old_module_and_aggregate_topics_cover_their_event_topics(old_topics):
    """``resolve_topic`` resolves an event topic under a registered old module or old aggregate
    topic: the projection handles those, and counts them among its topics, before any is met."""
    old_topics("domain.machines_old", domain.machines)
    old_topics("domain.contracts_old:Contract", Contract)
    stock, queue = MachineStockProjection(), ApprovalQueueProjection()
    assert {"domain.machines_old:MachineUnit.Received", "domain.machines_old:MachineUnit.Transferred"} <= stock.topics
    assert "domain.contracts_old:Contract.SubmittedForApproval" in queue.topics
    assert not any(t.startswith("domain.contracts_old:") for t in stock.topics)
    fresh = MachineStockProjection()
    assert fresh.handles("domain.machines_old:MachineUnit.Transferred")
    assert fresh.handles("domain.contracts_old:Contract.MachinePicked") == fresh.handles(
        "domain.contracts:Contract.MachinePicked")


def test_both_class_objects_of_one_topic_reach_one_handler():
    """The library redefines nested event classes (the redefined one subclasses the one written in
    the class body): both objects carry one topic, and both reach the same handler."""
    queue = ApprovalQueueProjection()
    original = next(b for b in Contract.SubmittedForApproval.__bases__
                    if b.__qualname__ == "Contract.SubmittedForApproval")
    assert original is not Contract.SubmittedForApproval
    assert queue._for_class(original) == queue._for_class(Contract.SubmittedForApproval) is not None


# ================================================================ a move, on both stores
class StoredEvents:
    """The events table as someone migrating the database sees it (see test_audit.RawStore)."""

    def __init__(self, office: Any) -> None:
        self.settings = office.settings
        self.table = office.ledger.recorder.events_table_name
        self.number = "notification_id" if self.settings.uses_postgres else "rowid"

    def run(self, statement: str, rows: list[tuple] | None = None) -> list[tuple]:
        statement = statement.format(table=self.table, n=self.number)
        if self.settings.uses_postgres:
            with psycopg.connect(self.settings.database_url, autocommit=True,
                                 options=f"-c search_path={self.settings.database_schema}") as conn:
                if rows is not None:
                    with conn.cursor() as cur:
                        cur.executemany(statement, rows)
                    return []
                return conn.execute(statement).fetchall()
        conn = sqlite3.connect(self.settings.data_dir / "events.sqlite3", timeout=30, isolation_level=None)
        try:
            if rows is not None:
                conn.executemany(statement.replace("%s", "?"), rows)
                return []
            return conn.execute(statement).fetchall()
        finally:
            conn.close()

    def move(self, moves: dict[str, str]) -> list[str]:
        """Rewrites every stored topic (and aggregate topic in a creation event) starting with a key
        of ``moves`` to start with its value instead; returns the old topics now stored."""
        changed, stored = [], set()
        for n, topic, state in self.run("SELECT {n}, topic, state FROM {table}"):
            for new, old in moves.items():
                if topic.startswith(new):
                    state = bytes(state).replace(b'"originator_topic":"' + new.encode(),
                                                 b'"originator_topic":"' + old.encode())
                    topic = old + topic[len(new):]
                    changed.append((topic, state, n))
                    stored.add(topic)
        self.run("UPDATE {table} SET topic = %s, state = %s WHERE {n} = %s", changed)
        return sorted(stored)


def _snapshot(office) -> dict[str, list]:
    """Every row of every rebuildable read model, in a stable order, as plain strings."""
    tables = {}
    with office.read() as cur:
        for runner in office.projections.values():
            if not getattr(runner.projection, "rebuildable", True):
                continue
            for table in runner.projection.tables:
                cur.execute(f"SELECT * FROM {table}")
                tables[table] = sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in cur.fetchall())
    return tables


def test_read_models_rebuilt_after_a_class_move_equal_the_live_ones(backoffice, group, sales, old_topics):  # noqa: F811
    office = backoffice
    for n in range(4):
        receive(office, group, f"MV-{n}", warehouse=group.chuzhou_main if n % 2 else group.hefei_main)
    office.execute(group.keeper_group, TransferMachine(
        serial_number="MV-1", to_warehouse_id=group.hefei_yard, reason="yard has room"))
    contract = UUID(office.execute(sales.wang, DraftContract(
        company_id=group.hefei, customer_id=sales.customer, contact_id=sales.contact,
        lines=[
        ContractLineRequest(group.excavator, 1, Decimal("380000.00"))])).body["contract_id"])
    office.execute(sales.wang, SubmitContractToClerk(contract_id=contract))
    office.execute(sales.chen, CompleteContractTerms.of(contract, _terms("20000.00")))
    office.execute(sales.chen, SubmitContractForApproval(contract_id=contract))
    office.execute(sales.zhao, ApproveContract(contract_id=contract))
    office.catch_up()
    live = _snapshot(office)
    assert len(live["machine_stock"]) == 4

    # The move: machines under an old module, contracts under an old aggregate topic, warehouses
    # under old event topics one by one.
    stored = StoredEvents(office).move({"domain.machines:": "domain.machines_old:",
                                        "domain.contracts:": "domain.contracts_old:",
                                        "domain.organisation:Warehouse": "domain.sites:Warehouse"})
    assert {"domain.machines_old:MachineUnit.Received", "domain.machines_old:MachineUnit.Transferred",
            "domain.contracts_old:Contract.Drafted", "domain.contracts_old:Contract.SubmittedForApproval",
            "domain.contracts_old:Contract.ApprovalStepPassed", "domain.sites:Warehouse.Created"} <= set(stored)
    old_topics("domain.machines_old", domain.machines)
    old_topics("domain.contracts_old:Contract", Contract)
    old_topics("domain.sites:Warehouse", Warehouse)
    for topic in stored:
        if topic.startswith("domain.sites:"):
            old_topics(topic, resolve_topic("domain.organisation:" + topic.split(":", 1)[1]))

    # The event store reads the old topics (the procedure of domain/topics.py works)...
    machine = office.stock.machine_in_scope(group.keeper_group, "MV-1").id
    assert [type(e) for e in office.ledger.events.get(machine)] == [MachineUnit.Received, MachineUnit.Transferred]
    assert isinstance(office.ledger.repository.get(contract), Contract)

    # ...and so does every read model: rebuilt into a shadow, as the audit does...
    with shadow_views(office.views, office.settings.database_url) as shadow:
        reports = verify_views(office.views, office.projections, shadow)
    assert {r.name for r in reports} >= {"machine_stock", "contracts", "approval_queue", "organisation"}
    different = {(r.name, t.table): t.differences for r in reports for t in r.tables if t.differing}
    assert different == {}
    assert all(t.live_rows == t.rebuilt_rows for r in reports for t in r.tables)

    # ...and rebuilt in place, from position 0.
    for runner in office.projections.values():
        if getattr(runner.projection, "rebuildable", True):
            runner.reset()
            runner.catch_up()
    assert _snapshot(office) == live
