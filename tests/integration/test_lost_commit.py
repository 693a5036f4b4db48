"""PostgreSQL: a save whose answer is lost after the server committed it (the connection
breaks on the way back) is sent again by the recorder. The second try must recognise its own
committed events: the command is answered as done, once, with or without an idempotency key,
and is never taken for a concurrent change and run a second time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from eventsourcing.persistence import OperationalError

from domain.machines import MachineAlreadyInStockError
from domain.receivables import ReceiptMethod
from tests.conftest import receive
from tests.integration.test_receivables import (  # noqa: F401
    approve_sale,
    clock,
    group,
    office,
    people,
)
from application.receivables.commands import RecordReceipt


@pytest.fixture
def lose_answers(store, office, monkeypatch):  # noqa: F811
    """``lose_answers(n, committed=True)``: the next n saves fail with a broken connection,
    after (or, with committed=False, before) the server committed them."""
    if store != "postgres":
        pytest.skip("the one-round-trip PostgreSQL recorder")
    recorder = office.ledger.recorder
    real = recorder._insert_locked
    plan = {"left": 0, "committed": True}

    def insert(stored_events):
        if plan["left"] > 0:
            plan["left"] -= 1
            if plan["committed"]:
                real(stored_events)
            raise OperationalError("server closed the connection unexpectedly")
        return real(stored_events)

    monkeypatch.setattr(recorder, "_insert_locked", insert)
    monkeypatch.setattr(recorder, "INSERT_RETRY_WAIT", 0.01)

    def arm(times: int = 1, committed: bool = True) -> None:
        plan["left"], plan["committed"] = times, committed
    return arm


def _receipts(office, contract):  # noqa: F811
    office.catch_up()
    with office.read() as cur:
        cur.execute("SELECT receipt_id FROM receivable_receipts WHERE contract_id = %s", (contract,))
        return [r["receipt_id"] for r in cur.fetchall()]


@pytest.mark.parametrize("key", [None, "lost-answer-receipt"])
def test_a_receipt_whose_answer_was_lost_is_recorded_once(office, group, people, lose_answers, key):  # noqa: F811
    contract = approve_sale(office, group, people)
    lose_answers(2)
    answer = office.execute(people.chen, RecordReceipt(
        contract_id=contract, amount=Decimal("1000.00"), value_date=date(2025, 12, 15),
        method=ReceiptMethod.BANK_TRANSFER), key)
    assert answer.status_code == 201 and not answer.replayed
    assert [str(r) for r in _receipts(office, contract)] == [answer.body["receipt_id"]]
    assert answer.position == office.ledger.recorder.max_notification_id()


@pytest.mark.parametrize("key", [None, "lost-answer-receive"])
def test_a_receive_whose_answer_was_lost_is_answered_as_received(office, group, lose_answers, key):  # noqa: F811
    lose_answers(1)
    answer = receive(office, group, "LOST-0001", key=key)
    assert (answer.status_code, answer.body["serial_number"], answer.replayed) == (201, "LOST-0001", False)


def test_a_try_that_did_not_commit_still_meets_a_real_conflict(office, group, lose_answers):  # noqa: F811
    receive(office, group, "LOST-0002")
    lose_answers(1, committed=False)
    with pytest.raises(MachineAlreadyInStockError):
        receive(office, group, "LOST-0002")
    lose_answers(1, committed=False)
    assert receive(office, group, "LOST-0003").status_code == 201
