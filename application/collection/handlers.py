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
from decimal import Decimal
from uuid import UUID, uuid4

from application.access import AccessService
from application.approvals import ApprovalRuleService, decider
from application.caller import Caller
from application.collection.commands import (
    ApplicationWaitingFor,
    ApplyInterestWaiver,
    ApplyLock,
    ApplySettlement,
    ApplyTow,
    ApplyUnlock,
    AssignCollector,
    CollectionApplicationSummary,
    CollectionLogWritten,
    DebtCollectionSummary,
    DecideApplication,
    ReceiveRepossessedMachine,
    RegisterLocked,
    RegisterTow,
    RegisterUnlocked,
    ReleaseSettlementDocuments,
    WriteCollectionLog,
)
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from domain import ids
from domain.access import Permission, Role, User
from domain.approvals import DocumentType
from domain.base import InvalidValueError, NotFoundError, PermissionDeniedError
from domain.collection import CollectionApplication
from domain.machines import MachineUnit
from domain.organisation import Warehouse
from domain.receivables import Debt, DebtStatus

# What a collection application establishes from the debt: the amount its approval bands
# are judged by, and the machine it is about (None: the whole debt).
Facts = Callable[[CommandContext, Debt], tuple[Decimal, MachineUnit | None]]


class CollectionService:
    def __init__(self, runner: CommandRunner, rules: ApprovalRuleService, access: AccessService) -> None:
        self.runner = runner
        self.rules = rules
        self.access = access

    # ------------------------------------------------------------ dispatch and logs
    @handles(AssignCollector, permission=Permission.ASSIGN_COLLECTORS)
    def assign_collector(self, ctx: CommandContext, cmd: AssignCollector) -> Outcome:
        """催收派工: the collector must hold the collector role and see the debt's company."""
        debt = self._debt(ctx.caller, cmd.contract_id)
        collector = ctx.find(User, cmd.collector_id)
        if collector is None or not ctx.caller.scope.includes(debt.company_id):
            raise NotFoundError(f"User {cmd.collector_id} does not exist.", code="user-not-found")
        if Role.COLLECTOR not in collector.roles:
            raise InvalidValueError(f"{collector.username} is not a collector; grant the collector role first.",
                                    field="collector_id")
        if not self.access.scope_of(collector).includes(debt.company_id):
            raise InvalidValueError(f"{collector.username}'s positions do not cover this contract's company, "
                                    "so they could not see the debt; give them a position first.",
                                    field="collector_id")
        debt.assign_collector(ctx.meta, collector.id, collector.username)
        return ctx.save(debt, answer=collection_summary(debt))

    @handles(WriteCollectionLog, permission=Permission.WRITE_COLLECTION_LOGS)
    def write_collection_log(self, ctx: CommandContext, cmd: WriteCollectionLog) -> Outcome:
        debt = self._debt(ctx.caller, cmd.contract_id)
        self._require_collector_of(ctx.caller, debt, "write its collection log")
        log_id = debt.write_log(ctx.meta, cmd.contact_date, cmd.contact_person, cmd.channel, cmd.result,
                                cmd.promised_date, cmd.promised_amount)
        return ctx.save(debt, answer=collection_summary(debt, CollectionLogWritten, log_id=log_id))

    # ------------------------------------------------------------ applications
    @handles(ApplyInterestWaiver, permission=Permission.APPLY_COLLECTION_ACTS)
    def apply_interest_waiver(self, ctx: CommandContext, cmd: ApplyInterestWaiver) -> Outcome:
        def facts(ctx: CommandContext, debt: Debt) -> tuple[Decimal, None]:
            return debt.check_waiver(cmd.amount), None

        return self._apply(ctx, DocumentType.INTEREST_WAIVER, cmd.contract_id, facts)

    @handles(ApplyLock, permission=Permission.APPLY_COLLECTION_ACTS)
    def apply_lock(self, ctx: CommandContext, cmd: ApplyLock) -> Outcome:
        def facts(ctx: CommandContext, debt: Debt) -> tuple[Decimal, MachineUnit]:
            overdue = debt.require_overdue(ctx.meta, "given a lock application")
            unit = self._unit_of(ctx, debt, cmd.serial_number)
            unit.check_can_lock(debt.contract_id)
            return overdue.overdue_amount, unit

        return self._apply(ctx, DocumentType.MACHINE_LOCK, cmd.contract_id, facts)

    @handles(ApplyUnlock, permission=Permission.APPLY_COLLECTION_ACTS)
    def apply_unlock(self, ctx: CommandContext, cmd: ApplyUnlock) -> Outcome:
        def facts(ctx: CommandContext, debt: Debt) -> tuple[Decimal, MachineUnit]:
            unit = self._unit_of(ctx, debt, cmd.serial_number)
            unit.check_can_unlock(debt.contract_id)
            return debt.overdue_facts(ctx.meta.business_date).overdue_amount, unit

        return self._apply(ctx, DocumentType.MACHINE_UNLOCK, cmd.contract_id, facts)

    @handles(ApplyTow, permission=Permission.APPLY_COLLECTION_ACTS)
    def apply_tow(self, ctx: CommandContext, cmd: ApplyTow) -> Outcome:
        def facts(ctx: CommandContext, debt: Debt) -> tuple[Decimal, MachineUnit]:
            overdue = debt.require_overdue(ctx.meta, "given a tow application")
            unit = self._unit_of(ctx, debt, cmd.serial_number)
            unit.require_out_under(debt.contract_id, "towed")
            return overdue.overdue_amount, unit

        return self._apply(ctx, DocumentType.TOW, cmd.contract_id, facts)

    @handles(ApplySettlement, permission=Permission.APPLY_SETTLEMENTS)
    def apply_settlement(self, ctx: CommandContext, cmd: ApplySettlement) -> Outcome:
        def facts(ctx: CommandContext, debt: Debt) -> tuple[Decimal, None]:
            debt.check_settlement()
            return debt.received, None

        return self._apply(ctx, DocumentType.SETTLEMENT, cmd.contract_id, facts)

    @handles(DecideApplication)
    def decide_application(self, ctx: CommandContext, cmd: DecideApplication) -> Outcome:
        """Approve (the current step; at the last one the application is approved and a
        waiver or settlement takes effect on the debt at once) or reject, with a reason.
        The approval route names who may decide each step."""
        application, debt = self._application(ctx, cmd.application_id)
        if cmd.decision != "approve":
            application.reject(ctx.meta, decider(ctx.caller))
            debt.close_application(ctx.meta, application.id, "rejected")
            return ctx.save(application, debt, answer=application_summary(application))
        if not application.approve(ctx.meta, decider(ctx.caller)):
            return ctx.save(application, answer=application_summary(application))
        if application.document_type == DocumentType.INTEREST_WAIVER:
            debt.waive_penalty(ctx.meta, application.id, application.amount)
        elif application.document_type == DocumentType.SETTLEMENT:
            debt.settle(ctx.meta, application.id)
        return ctx.save(application, debt, answer=application_summary(application))

    # ------------------------------------------------------------ carrying out approved applications
    @handles(RegisterLocked, permission=Permission.REGISTER_COLLECTION_ACTS)
    def register_locked(self, ctx: CommandContext, cmd: RegisterLocked) -> Outcome:
        application, debt = self._application(ctx, cmd.application_id)
        application.register_locked(ctx.meta, cmd.at)
        unit = self._unit_of(ctx, debt, application.serial_number)
        unit.lock(ctx.meta, debt.contract_id, application.id, cmd.at)
        debt.close_application(ctx.meta, application.id, "locked")
        return ctx.save(application, unit, debt, answer=application_summary(application))

    @handles(RegisterUnlocked, permission=Permission.REGISTER_COLLECTION_ACTS)
    def register_unlocked(self, ctx: CommandContext, cmd: RegisterUnlocked) -> Outcome:
        application, debt = self._application(ctx, cmd.application_id)
        application.register_unlocked(ctx.meta, cmd.at)
        unit = self._unit_of(ctx, debt, application.serial_number)
        unit.unlock(ctx.meta, debt.contract_id, application.id, cmd.at)
        debt.close_application(ctx.meta, application.id, "unlocked")
        return ctx.save(application, unit, debt, answer=application_summary(application))

    @handles(RegisterTow, permission=Permission.REGISTER_COLLECTION_ACTS)
    def register_tow(self, ctx: CommandContext, cmd: RegisterTow) -> Outcome:
        application, debt = self._application(ctx, cmd.application_id)
        application.register_tow(ctx.meta, cmd.towed_on, cmd.place, cmd.people)
        unit = self._unit_of(ctx, debt, application.serial_number)
        unit.tow(ctx.meta, debt.contract_id, application.id, cmd.towed_on, cmd.place.strip(),
                 tuple(p.strip() for p in cmd.people))
        return ctx.save(application, unit, answer=application_summary(application))

    @handles(ReceiveRepossessedMachine, permission=Permission.RECEIVE_MACHINE)
    def receive_repossessed_machine(self, ctx: CommandContext, cmd: ReceiveRepossessedMachine) -> Outcome:
        """债权机入库: the towed machine, the same unit by its serial, back in stock."""
        application, debt = self._application(ctx, cmd.application_id)
        warehouse = ctx.load_in_scope(Warehouse, cmd.warehouse_id, f"Warehouse {cmd.warehouse_id}")
        application.machine_received_back(ctx.meta, warehouse.id)
        unit = self._unit_of(ctx, debt, application.serial_number)
        unit.receive_repossessed(ctx.meta, debt.contract_id, application.id, warehouse)
        debt.close_application(ctx.meta, application.id, "received back")
        return ctx.save(application, unit, debt, answer=application_summary(application))

    @handles(ReleaseSettlementDocuments, permission=Permission.RELEASE_SETTLEMENT_DOCUMENTS)
    def release_settlement_documents(self, ctx: CommandContext, cmd: ReleaseSettlementDocuments) -> Outcome:
        debt = self._debt(ctx.caller, cmd.contract_id)
        debt.release_documents(ctx.meta, cmd.invoice_number, cmd.certificate_number, cmd.released_to)
        return ctx.save(debt, answer=collection_summary(debt))

    # ------------------------------------------------------------ helpers
    def _apply(self, ctx: CommandContext, document_type: DocumentType, contract_id: UUID, facts: Facts) -> Outcome:
        """A new collection application for the debt, opened on it in the same transaction."""
        debt = self._debt(ctx.caller, contract_id)
        if document_type != DocumentType.SETTLEMENT:
            self._require_collector_of(ctx.caller, debt, f"apply for its {document_type.replace('_', ' ')}")
        amount, unit = facts(ctx, debt)
        serial = unit.serial_number if unit is not None else None
        application_id = uuid4()
        application = CollectionApplication.apply_for(
            ctx.meta, application_id, document_type, debt.id, debt.company_id, debt.contract_id,
            debt.contract_number, debt.customer_id, serial, amount, debt.overdue_facts(ctx.meta.business_date),
            self.rules.rule_in_force(document_type, debt.company_id))
        debt.open_application(ctx.meta, application_id, str(document_type), serial)
        return ctx.save(application, debt, answer=application_summary(application))

    def _require_collector_of(self, caller: Caller, debt: Debt, act: str) -> None:
        """The assigned collector, or the office, who may act on any debt it sees."""
        if caller.may(Permission.ASSIGN_COLLECTORS) or debt.collector_id == caller.user_id:
            return
        raise PermissionDeniedError(f"Contract {debt.contract_number} is not assigned to you; only its collector "
                                    f"or the office may {act}.", code="not-your-collection")

    def _unit_of(self, ctx: CommandContext, debt: Debt, serial_number: str | None) -> MachineUnit:
        unit = ctx.find(MachineUnit, ids.machine_unit_id(serial_number or "")) if serial_number else None
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

    def _application(self, ctx: CommandContext, application_id: UUID) -> tuple[CollectionApplication, Debt]:
        """A collection application in the caller's scope, and its debt."""
        application = ctx.find(CollectionApplication, application_id)
        if application is None or not ctx.caller.sees(application.company_id):
            raise NotFoundError(f"Collection application {application_id} does not exist.",
                                code="application-not-found")
        debt = ctx.load(Debt, application.debt_id, f"Receivable of contract {application.contract_number}")
        return application, debt


def application_summary(application: CollectionApplication) -> CollectionApplicationSummary:
    step = application.approval.current_step if application.approval is not None else None
    return CollectionApplicationSummary(
        application_id=application.id, document_type=application.document_type,
        contract_id=application.contract_id, contract_number=application.contract_number,
        serial_number=application.serial_number, amount=application.amount, status=application.status,
        waiting_for=(ApplicationWaitingFor(step=application.approval.step_index + 1, step_name=step.name,
                                           role=step.role)
                     if step is not None and application.approval is not None else None))


def collection_summary(debt: Debt, kind: type[DebtCollectionSummary] = DebtCollectionSummary,
                       **extra: object) -> DebtCollectionSummary:
    """The receivable's figures (as every command on a receivable answers them) and where its
    collection stands."""
    return kind.of(debt, collector_id=debt.collector_id, settled=debt.status == DebtStatus.SETTLED,
                   documents_released=debt.documents_released, **extra)
