"""CommandRecord: what a command with an idempotency key answered, and key reuse."""

from __future__ import annotations

from domain import ids
from domain.commands import CommandRecord, IdempotencyKeyReusedError
from tests.unit.given import ACTOR, ctx, given, then_events, then_metadata, then_refused


def a_record() -> CommandRecord:
    return given(CommandRecord.record(ctx(), "key-1", "ReceiveMachine", "fp-1", 201, '{"machine_id":"x"}'))


def test_the_record_keeps_the_answer_under_the_callers_key():
    context = ctx()
    record = CommandRecord.record(context, "key-1", "ReceiveMachine", "fp-1", 201, '{"machine_id":"x"}')
    [recorded] = then_events(record, CommandRecord.Recorded)
    assert (recorded.idempotency_key, recorded.operation, recorded.request_fingerprint, recorded.status_code,
            recorded.answer_json) == ("key-1", "ReceiveMachine", "fp-1", 201, '{"machine_id":"x"}')
    then_metadata(recorded, context, None)
    assert record.id == ids.command_record_id(ACTOR, "key-1")


def test_keys_belong_to_their_user():
    other = ids.command_record_id(ids.user_id("someone.else"), "key-1")
    assert other != ids.command_record_id(ACTOR, "key-1")
    assert ids.command_record_id(ACTOR, "key-1") == ids.command_record_id(ACTOR, "key-1")


def test_the_same_request_again_is_accepted_for_a_replay():
    record = a_record()
    record.check_same_request("ReceiveMachine", "fp-1")
    assert list(record.collect_events()) == []


def test_the_key_for_another_request_is_refused():
    record = a_record()
    then_refused(record, lambda: record.check_same_request("ReceiveMachine", "fp-2"),
                 IdempotencyKeyReusedError, "idempotency-key-reused", 422)


def test_the_key_for_another_operation_is_refused():
    record = a_record()
    then_refused(record, lambda: record.check_same_request("TransferMachine", "fp-1"),
                 IdempotencyKeyReusedError, "idempotency-key-reused", 422)
