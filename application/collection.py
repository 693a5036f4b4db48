"""Debt collection (催收): dispatch to collectors, collection logs, and the applications
that follow the approval rules (interest waiver, lock, unlock, tow, settlement).

Who does what:

- the office (``ASSIGN_COLLECTORS``: finance) gives overdue debts to collectors;
- the assigned collector writes logs and applies for a waiver, lock, unlock or tow; the
  office may do the same for any debt in its scope;
- finance or the sales clerk applies for settlement (``APPLY_SETTLEMENTS``);
- the approvers of each application's route decide it (``DecideApplication``);
- the sales clerk registers locks, unlocks and tows (``REGISTER_COLLECTION_ACTS``);
- the warehouse receives the towed machine back (``RECEIVE_MACHINE``);
- finance records the release of the invoice and certificate after settlement.

A debt is addressed by its contract's id, an application by its own id; both answer
"not found" outside the caller's data scope.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.access import AccessService
from application.approvals import ApprovalRuleService, decider
from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from application.receivables import receivable_summary
from domain import ids
from domain.access import Permission, Role, User
from domain.approvals import DocumentType
from domain.base import Context, DealerAggregate, InvalidValueError, NotFoundError, PermissionDeniedError
from domain.collection import CollectionApplication
from domain.machines import MachineUnit
from domain.organisation import Warehouse
from domain.receivables import ContactChannel, Debt


class CollectionService:
    def __init__(self, runner: CommandRunner, rules: ApprovalRuleService, access: AccessService) -> None:
        self.runner = runner
        self.rules = rules
        self.access = access

    # ------------------------------------------------------------ dispatch and logs
    def assign_collector(self, caller: Caller, contract_id: UUID, collector_id: UUID,
                         idempotency_key: str | None = None) -> CommandResult:
        """催收派工: the collector must hold the collector role and see the debt's company."""
        caller.require(Permission.ASSIGN_COLLECTORS)

        def assign(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            collector = self.runner.find(collector_id, User)
            if collector is None or not caller.scope.includes(debt.company_id):
                raise NotFoundError(f"User {collector_id} does not exist.", code="user-not-found")
            if Role.COLLECTOR not in collector.roles:
                raise InvalidValueError(f"{collector.username} is not a collector; grant the collector role first.",
                                        field="collector_id")
            if not self.access.scope_of(collector).includes(debt.company_id):
                raise InvalidValueError(f"{collector.username}'s positions do not cover this contract's company, "
                                        "so they could not see the debt; give them a position first.",
                                        field="collector_id")
            debt.assign_collector(ctx, collector.id, collector.username)
            return [debt]

        return self._on_debt(caller, "AssignCollector", contract_id, {"collector_id": collector_id}, assign,
                             idempotency_key)

    def write_collection_log(self, caller: Caller, contract_id: UUID, contact_date: date, contact_person: str,
                             channel: ContactChannel, result: str, promised_date: date | None = None,
                             promised_amount: Decimal | None = None,
                             idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.WRITE_COLLECTION_LOGS)
        written: dict[str, Any] = {}

        def write(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            self._require_collector_of(caller, debt, "write its collection log")
            written["log_id"] = str(debt.write_log(ctx, contact_date, contact_person, channel, result,
                                                   promised_date, promised_amount))
            return [debt]

        request = {"contact_date": contact_date, "contact_person": contact_person, "channel": channel,
                   "result": result, "promised_date": promised_date, "promised_amount": promised_amount}
        return self._on_debt(caller, "WriteCollectionLog", contract_id, request, write, idempotency_key,
                             extra=written, status_code=201)

    # ------------------------------------------------------------ applications
    def apply_interest_waiver(self, caller: Caller, contract_id: UUID, amount: Decimal, reason: str,
                              idempotency_key: str | None = None) -> CommandResult:
        def facts(ctx: Context, debt: Debt) -> tuple[Decimal, None]:
            return debt.check_waiver(amount), None

        return self._apply(caller, "ApplyInterestWaiver", DocumentType.INTEREST_WAIVER, contract_id, None,
                           {"amount": amount}, facts, reason, idempotency_key)

    def apply_lock(self, caller: Caller, contract_id: UUID, serial_number: str, reason: str,
                   idempotency_key: str | None = None) -> CommandResult:
        def facts(ctx: Context, debt: Debt) -> tuple[Decimal, MachineUnit]:
            overdue = debt.require_overdue(ctx, "given a lock application")
            unit = self._unit_of(debt, serial_number)
            unit.check_can_lock(debt.contract_id)
            return overdue.overdue_amount, unit

        return self._apply(caller, "ApplyLock", DocumentType.MACHINE_LOCK, contract_id, serial_number, {}, facts,
                           reason, idempotency_key)

    def apply_unlock(self, caller: Caller, contract_id: UUID, serial_number: str, reason: str,
                     idempotency_key: str | None = None) -> CommandResult:
        def facts(ctx: Context, debt: Debt) -> tuple[Decimal, MachineUnit]:
            unit = self._unit_of(debt, serial_number)
            unit.check_can_unlock(debt.contract_id)
            return debt.overdue_facts(ctx.business_date).overdue_amount, unit

        return self._apply(caller, "ApplyUnlock", DocumentType.MACHINE_UNLOCK, contract_id, serial_number, {},
                           facts, reason, idempotency_key)

    def apply_tow(self, caller: Caller, contract_id: UUID, serial_number: str, reason: str,
                  idempotency_key: str | None = None) -> CommandResult:
        def facts(ctx: Context, debt: Debt) -> tuple[Decimal, MachineUnit]:
            overdue = debt.require_overdue(ctx, "given a tow application")
            unit = self._unit_of(debt, serial_number)
            unit.require_out_under(debt.contract_id, "towed")
            return overdue.overdue_amount, unit

        return self._apply(caller, "ApplyTow", DocumentType.TOW, contract_id, serial_number, {}, facts, reason,
                           idempotency_key)

    def apply_settlement(self, caller: Caller, contract_id: UUID, reason: str,
                         idempotency_key: str | None = None) -> CommandResult:
        def facts(ctx: Context, debt: Debt) -> tuple[Decimal, None]:
            debt.check_settlement()
            return debt.received, None

        return self._apply(caller, "ApplySettlement", DocumentType.SETTLEMENT, contract_id, None, {}, facts, reason,
                           idempotency_key)

    def decide_application(self, caller: Caller, application_id: UUID, approve: bool, reason: str | None,
                           idempotency_key: str | None = None) -> CommandResult:
        """Approve (the current step; at the last one the application is approved and a
        waiver or settlement takes effect on the debt at once) or reject, with a reason."""
        def decide(ctx: Context, application: CollectionApplication, debt: Debt) -> list[DealerAggregate]:
            if not approve:
                application.reject(ctx, decider(caller))
                debt.close_application(ctx, application.id, "rejected")
                return [application, debt]
            if not application.approve(ctx, decider(caller)):
                return [application]
            if application.document_type == DocumentType.INTEREST_WAIVER:
                debt.waive_penalty(ctx, application.id, application.amount)
            elif application.document_type == DocumentType.SETTLEMENT:
                debt.settle(ctx, application.id)
            return [application, debt]

        request = {"application_id": application_id, "decision": "approve" if approve else "reject",
                   "reason": reason}
        return self._on_application(caller, "DecideApplication", None, application_id, request, decide,
                                    idempotency_key, reason)

    # ------------------------------------------------------------ carrying out approved applications
    def register_locked(self, caller: Caller, application_id: UUID, locked_at: datetime,
                        idempotency_key: str | None = None) -> CommandResult:
        def register(ctx: Context, application: CollectionApplication, debt: Debt) -> list[DealerAggregate]:
            application.register_locked(ctx, locked_at)
            unit = self._unit_of(debt, application.serial_number)
            unit.lock(ctx, debt.contract_id, application.id, locked_at)
            debt.close_application(ctx, application.id, "locked")
            return [application, unit, debt]

        return self._on_application(caller, "RegisterLocked", Permission.REGISTER_COLLECTION_ACTS, application_id,
                                    {"locked_at": locked_at}, register, idempotency_key)

    def register_unlocked(self, caller: Caller, application_id: UUID, unlocked_at: datetime,
                          idempotency_key: str | None = None) -> CommandResult:
        def register(ctx: Context, application: CollectionApplication, debt: Debt) -> list[DealerAggregate]:
            application.register_unlocked(ctx, unlocked_at)
            unit = self._unit_of(debt, application.serial_number)
            unit.unlock(ctx, debt.contract_id, application.id, unlocked_at)
            debt.close_application(ctx, application.id, "unlocked")
            return [application, unit, debt]

        return self._on_application(caller, "RegisterUnlocked", Permission.REGISTER_COLLECTION_ACTS,
                                    application_id, {"unlocked_at": unlocked_at}, register, idempotency_key)

    def register_tow(self, caller: Caller, application_id: UUID, towed_on: date, place: str, people: list[str],
                     idempotency_key: str | None = None) -> CommandResult:
        def register(ctx: Context, application: CollectionApplication, debt: Debt) -> list[DealerAggregate]:
            application.register_tow(ctx, towed_on, place, people)
            unit = self._unit_of(debt, application.serial_number)
            unit.tow(ctx, debt.contract_id, application.id, towed_on, place.strip(),
                     tuple(p.strip() for p in people))
            return [application, unit]

        return self._on_application(caller, "RegisterTow", Permission.REGISTER_COLLECTION_ACTS, application_id,
                                    {"towed_on": towed_on, "place": place, "people": people}, register,
                                    idempotency_key)

    def receive_repossessed_machine(self, caller: Caller, application_id: UUID, warehouse_id: UUID,
                                    idempotency_key: str | None = None) -> CommandResult:
        """债权机入库: the towed machine, the same unit by its serial, back in stock."""
        def receive(ctx: Context, application: CollectionApplication, debt: Debt) -> list[DealerAggregate]:
            warehouse = self.runner.get_in_scope(caller, warehouse_id, Warehouse, f"Warehouse {warehouse_id}")
            application.machine_received_back(ctx, warehouse.id)
            unit = self._unit_of(debt, application.serial_number)
            unit.receive_repossessed(ctx, debt.contract_id, application.id, warehouse)
            debt.close_application(ctx, application.id, "received back")
            return [application, unit, debt]

        return self._on_application(caller, "ReceiveRepossessedMachine", Permission.RECEIVE_MACHINE, application_id,
                                    {"warehouse_id": warehouse_id}, receive, idempotency_key)

    def release_settlement_documents(self, caller: Caller, contract_id: UUID, invoice_number: str,
                                     certificate_number: str, released_to: str,
                                     idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.RELEASE_SETTLEMENT_DOCUMENTS)

        def release(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            debt.release_documents(ctx, invoice_number, certificate_number, released_to)
            return [debt]

        request = {"invoice_number": invoice_number, "certificate_number": certificate_number,
                   "released_to": released_to}
        return self._on_debt(caller, "ReleaseSettlementDocuments", contract_id, request, release, idempotency_key)

    # ------------------------------------------------------------ helpers
    def _apply(self, caller: Caller, operation: str, document_type: DocumentType, contract_id: UUID,
               serial_number: str | None, request: dict,
               facts: Callable[[Context, Debt], tuple[Decimal, MachineUnit | None]], reason: str,
               idempotency_key: str | None) -> CommandResult:
        permission = (Permission.APPLY_SETTLEMENTS if document_type == DocumentType.SETTLEMENT
                      else Permission.APPLY_COLLECTION_ACTS)
        caller.require(permission)
        made: dict[str, Any] = {}

        def apply(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            if document_type != DocumentType.SETTLEMENT:
                self._require_collector_of(caller, debt, f"apply for its {document_type.replace('_', ' ')}")
            amount, unit = facts(ctx, debt)
            serial = unit.serial_number if unit is not None else None
            application_id = uuid4()
            application = CollectionApplication.apply_for(
                ctx, application_id, document_type, debt.id, debt.company_id, debt.contract_id, debt.contract_number,
                debt.customer_id, serial, amount, debt.overdue_facts(ctx.business_date),
                self.rules.rule_in_force(document_type, debt.company_id))
            debt.open_application(ctx, application_id, str(document_type), serial)
            made.update(application_summary(application))
            return [application, debt]

        body = {"serial_number": serial_number, **request, "reason": reason}
        return self._on_debt(caller, operation, contract_id, body, apply, idempotency_key, reason=reason,
                             extra=made, status_code=201, answer=lambda debt: {})

    def _require_collector_of(self, caller: Caller, debt: Debt, act: str) -> None:
        """The assigned collector, or the office, who may act on any debt it sees."""
        if caller.may(Permission.ASSIGN_COLLECTORS) or debt.collector_id == caller.user_id:
            return
        raise PermissionDeniedError(f"Contract {debt.contract_number} is not assigned to you; only its collector "
                                    f"or the office may {act}.", code="not-your-collection")

    def _unit_of(self, debt: Debt, serial_number: str | None) -> MachineUnit:
        unit = self.runner.find(ids.machine_unit_id(serial_number or ""), MachineUnit) if serial_number else None
        if unit is None or unit.contract_id != debt.contract_id:
            raise NotFoundError(f"Machine {ids.normalise_key(serial_number or '')} is not a machine of contract "
                                f"{debt.contract_number}.", code="machine-unit-not-found")
        return unit

    def _debt(self, caller: Caller, contract_id: UUID) -> Debt:
        debt = self.runner.find(ids.debt_id(contract_id), Debt)
        if debt is None or not caller.sees(debt.company_id, debt.owner_id):
            raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours to "
                                "see).", code="receivable-not-found")
        return debt

    def _on_debt(self, caller: Caller, operation: str, contract_id: UUID, request: dict,
                 act: Callable[[Context, Debt], list[DealerAggregate]], idempotency_key: str | None,
                 reason: str | None = None, extra: dict | None = None, status_code: int = 200,
                 answer: Callable[[Debt], dict] | None = None) -> CommandResult:
        def handle(ctx: Context) -> Outcome:
            debt = self._debt(caller, contract_id)
            changed = act(ctx, debt)
            body = (answer or collection_summary)(debt)
            return Outcome(changed, {**body, **(extra or {})}, status_code)

        return self.runner.run(caller, operation, {"contract_id": contract_id, **request}, handle, idempotency_key,
                               reason=reason)

    def _on_application(self, caller: Caller, operation: str, permission: Permission | None, application_id: UUID,
                        request: dict, act: Callable[[Context, CollectionApplication, Debt], list[DealerAggregate]],
                        idempotency_key: str | None, reason: str | None = None) -> CommandResult:
        if permission is not None:
            caller.require(permission)

        def handle(ctx: Context) -> Outcome:
            application = self.runner.find(application_id, CollectionApplication)
            if application is None or not caller.sees(application.company_id):
                raise NotFoundError(f"Collection application {application_id} does not exist.",
                                    code="application-not-found")
            debt = self.runner.get(application.debt_id, Debt, f"Receivable of contract {application.contract_number}")
            changed = act(ctx, application, debt)
            return Outcome(changed, application_summary(application))

        return self.runner.run(caller, operation, {"application_id": application_id, **request}, handle,
                               idempotency_key, reason=reason)


def application_summary(application: CollectionApplication) -> dict:
    step = application.approval.current_step if application.approval is not None else None
    return {
        "application_id": str(application.id),
        "document_type": str(application.document_type),
        "contract_id": str(application.contract_id),
        "contract_number": application.contract_number,
        "serial_number": application.serial_number,
        "amount": application.amount,
        "status": str(application.status),
        "waiting_for": ({"step": application.approval.step_index + 1, "step_name": step.name, "role": str(step.role)}
                        if step is not None and application.approval is not None else None),
    }


def collection_summary(debt: Debt) -> dict:
    return {**receivable_summary(debt), "collector_id": str(debt.collector_id) if debt.collector_id else None,
            "settled": debt.status == "settled", "documents_released": debt.documents_released}

