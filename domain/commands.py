"""The record of a command that came with an idempotency key.

Saved in the same transaction as the command's own events: a retry with the
same key collides on this record's id and gets the stored answer back. There
is no second store and no window between "done" and "remembered".
"""

from __future__ import annotations

from domain import ids
from domain.base import Context, DealerAggregate, InvalidValueError


class IdempotencyKeyReusedError(InvalidValueError):
    code = "idempotency-key-reused"


class CommandRecord(DealerAggregate):
    class Recorded(DealerAggregate.Created):
        idempotency_key: str
        operation: str
        request_fingerprint: str
        status_code: int
        answer_json: str

        def apply(self, record: CommandRecord) -> None:
            record.idempotency_key = self.idempotency_key
            record.operation = self.operation
            record.request_fingerprint = self.request_fingerprint
            record.status_code = self.status_code
            record.answer_json = self.answer_json

    @classmethod
    def record(cls, ctx: Context, idempotency_key: str, operation: str, request_fingerprint: str,
               status_code: int, answer_json: str) -> CommandRecord:
        return cls._start(cls.Recorded, ids.command_record_id(ctx.actor_id, idempotency_key), ctx, None,
                          idempotency_key=idempotency_key, operation=operation,
                          request_fingerprint=request_fingerprint, status_code=status_code,
                          answer_json=answer_json)

    def check_same_request(self, operation: str, request_fingerprint: str) -> None:
        if operation != self.operation or request_fingerprint != self.request_fingerprint:
            raise IdempotencyKeyReusedError(
                f"Idempotency key {self.idempotency_key!r} was already used for a different request "
                f"({self.operation}); use a new key for a new request.")
