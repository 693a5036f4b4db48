"""The ironledger command on real stores: first administrator, demo data, rebuild, OpenAPI."""

from __future__ import annotations

import json

import pytest

from interfaces import cli
from interfaces.composition import BackOffice
from projections.machine_stock import StockFilter, list_stock


@pytest.fixture
def environment(settings, monkeypatch):
    """Point the CLI (which reads IRONLEDGER_* variables) at this test's store."""
    for key, value in settings.model_dump().items():
        if value is not None:
            monkeypatch.setenv(f"IRONLEDGER_{key.upper()}", str(value))
    return settings


def test_first_start_creates_an_administrator_with_a_password_shown_once(settings):
    office = BackOffice(settings.model_copy(update={"admin_password": None}))
    try:
        generated = office.access.ensure_administrator(None)
        assert generated and len(generated) >= 12
        assert office.access.ensure_administrator(None) is None
        caller = office.access.authenticate(office.access.login("admin", generated).access_token)
        assert caller.scope.all_companies and "manage_users" in caller.permissions
    finally:
        office.stop()


def test_demo_loads_once_and_rebuild_reproduces_the_read_models(environment, capsys):
    cli.main(["demo"])
    first = capsys.readouterr().out
    assert "risk.manager" in first and "demo-pass-2026" in first
    cli.main(["demo"])  # loading twice changes nothing
    office = BackOffice(environment)
    try:
        events = office.ledger.recorder.max_notification_id()
        office.catch_up()
        with office.read() as cur:
            rows, total = list_stock(cur, office.access.authenticate(
                office.access.login("risk.manager", "demo-pass-2026").access_token).scope, StockFilter(), 1, 100)
            cur.execute("SELECT COUNT(*) AS n FROM machine_stock")
            all_machines = cur.fetchone()["n"]
        assert all_machines == 53  # the 50 of the demo stock, the two of its swap, the overdue sale's
        assert 0 < total < 50 and {r["company_code"] for r in rows} == {"CZ", "CHZ"}
    finally:
        office.stop()
    cli.main(["rebuild", "--all"])
    office = BackOffice(environment)
    try:
        assert office.ledger.recorder.max_notification_id() == events
        assert all(r.position() == events for r in office.projections.values())
        with office.read() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM machine_stock")
            assert cur.fetchone()["n"] == 53
    finally:
        office.stop()


def test_rebuild_of_an_unknown_read_model_is_refused(environment):
    with pytest.raises(SystemExit) as refused:
        cli.main(["rebuild", "no_such_view"])
    assert "no_such_view" in str(refused.value)


def test_openapi_names_every_operation_after_its_command(capsys):
    cli.main(["openapi"])
    document = json.loads(capsys.readouterr().out)
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"Login", "CreateCompany", "CreateWarehouse", "RegisterMachineModel", "ReceiveMachine",
            "TransferMachine", "CreateUser", "GrantRole", "AssignPosition", "ListMachineStock", "GetMachine",
            "GetMachineHistory", "ExportMachineStock", "CountMachineStock", "GenerateSchedule", "SetSchedule",
            "RecordReceipt", "ConfirmReceipt", "RejectReceipt", "ReverseReceipt", "SetPenaltyRate",
            "AccruePenalties", "ListReceivables", "GetReceivable", "GetCustomerStatement", "GetAgingReport",
            "ExportReceivables", "ListReceipts", "ListPenaltyRates", "GetReceivableHistory", "AssignCollector",
            "WriteCollectionLog", "ApplyInterestWaiver", "ApplyLock", "RegisterLocked", "ApplyUnlock",
            "RegisterUnlocked", "ApplyTow", "RegisterTow", "ApplySettlement", "DecideApplication",
            "ListMyCollections", "ReceiveRepossessedMachine", "ReleaseSettlementDocuments",
            "ListCollectionApplications", "GetCollectionApplication"} <= operations


def test_accrue_penalties_runs_for_yesterday_by_default_and_twice_changes_nothing(environment, capsys):
    cli.main(["demo"])            # its overdue sale is accrued through yesterday by the demo itself
    capsys.readouterr()
    office = BackOffice(environment)
    try:
        events = office.ledger.recorder.max_notification_id()
    finally:
        office.stop()
    cli.main(["accrue-penalties"])
    assert "0 receivable(s) charged" in capsys.readouterr().out
    office = BackOffice(environment)
    try:
        assert office.ledger.recorder.max_notification_id() == events
        office.catch_up()
        with office.read() as cur:
            cur.execute("SELECT received_fen, penalty_received_fen FROM receivables WHERE penalty_accrued_fen > 0")
            (overdue,) = cur.fetchall()
        # SCENARIO.md: down payment, January, February and the 10,000.00 of 04-10 (115.20 of it penalty).
        assert (overdue["received_fen"], overdue["penalty_received_fen"]) == (14118594, 11520)
    finally:
        office.stop()


@pytest.mark.parametrize("through,message", [("2026-02-30", "must be a date"), ("2999-01-01", "have ended")])
def test_accrue_penalties_refuses_a_day_that_is_not_a_date_or_has_not_ended(environment, through, message):
    with pytest.raises(SystemExit) as refused:
        cli.main(["accrue-penalties", "--through", through])
    assert message in str(refused.value)
