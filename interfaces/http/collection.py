"""Debt collection over HTTP (催收): dispatch, logs, and the applications that follow the
approval rules. Debts are addressed by their contract's id, applications by their own."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from domain.access import Permission
from domain.base import NotFoundError
from domain.collection import COLLECTION_DOCUMENTS, ApplicationStatus
from interfaces.http.controllers import (
    After,
    CallerDep,
    IdempotencyKey,
    OfficeDep,
    Page,
    PageSize,
    answer,
    fresh,
    query_day,
)
from interfaces.http.schemas import (
    AssignCollectorRequest,
    CollectionLogRequest,
    DecideApplicationRequest,
    InterestWaiverRequest,
    MachineApplicationRequest,
    ReceiveRepossessedRequest,
    RegisterLockRequest,
    RegisterTowRequest,
    ReleaseDocumentsRequest,
    SettlementRequest,
)
from projections import receivables

ContractId = FromPath[UUID]
ApplicationId = FromPath[UUID]
CollectionDocument = Literal["interest_waiver", "machine_lock", "machine_unlock", "tow", "settlement"]
assert set(CollectionDocument.__args__) == {str(d) for d in COLLECTION_DOCUMENTS}  # type: ignore[attr-defined]


class DebtCollectionController(Controller):
    path = "/receivables"
    tags = ["collection"]

    @post("/{contract_id:uuid}/collector", operation_id="AssignCollector", sync_to_thread=True,
          summary="Give an overdue debt to a collector (催收派工), or to another one")
    def assign(self, contract_id: ContractId, data: JSONBody[AssignCollectorRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.assign_collector(caller, contract_id, data.collector_id, idempotency_key))

    @post("/{contract_id:uuid}/collection-logs", operation_id="WriteCollectionLog", sync_to_thread=True,
          summary="Write a collection log (催收记录): contact date, person, way, result, promised payment")
    def write_log(self, contract_id: ContractId, data: JSONBody[CollectionLogRequest], caller: CallerDep,
                  backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.write_collection_log(
            caller, contract_id, data.contact_date, data.contact_person, data.channel, data.result,
            data.promised_date, data.promised_amount, idempotency_key))

    @post("/{contract_id:uuid}/interest-waivers", operation_id="ApplyInterestWaiver", sync_to_thread=True,
          summary="Apply to waive penalty interest (利息减免) once all principal is received; needs approval")
    def waiver(self, contract_id: ContractId, data: JSONBody[InterestWaiverRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.apply_interest_waiver(caller, contract_id, data.amount, data.reason,
                                                                  idempotency_key))

    @post("/{contract_id:uuid}/lock-applications", operation_id="ApplyLock", sync_to_thread=True,
          summary="Apply to lock a machine of an overdue contract remotely (锁机); needs approval")
    def lock(self, contract_id: ContractId, data: JSONBody[MachineApplicationRequest], caller: CallerDep,
             backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.apply_lock(caller, contract_id, data.serial_number, data.reason,
                                                       idempotency_key))

    @post("/{contract_id:uuid}/unlock-applications", operation_id="ApplyUnlock", sync_to_thread=True,
          summary="Apply to unlock a locked machine (开机); needs approval")
    def unlock(self, contract_id: ContractId, data: JSONBody[MachineApplicationRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.apply_unlock(caller, contract_id, data.serial_number, data.reason,
                                                         idempotency_key))

    @post("/{contract_id:uuid}/tow-applications", operation_id="ApplyTow", sync_to_thread=True,
          summary="Apply to tow a machine back (拖机) with the overdue facts; needs approval")
    def tow(self, contract_id: ContractId, data: JSONBody[MachineApplicationRequest], caller: CallerDep,
            backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.apply_tow(caller, contract_id, data.serial_number, data.reason,
                                                      idempotency_key))

    @post("/{contract_id:uuid}/settlement-applications", operation_id="ApplySettlement", sync_to_thread=True,
          summary="Apply to settle (结清) a debt with nothing outstanding; approval closes it")
    def settlement(self, contract_id: ContractId, data: JSONBody[SettlementRequest], caller: CallerDep,
                   backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.apply_settlement(caller, contract_id, data.reason, idempotency_key))

    @post("/{contract_id:uuid}/settlement-documents", operation_id="ReleaseSettlementDocuments",
          sync_to_thread=True, summary="Record that the invoice and the certificate of conformity (合格证) were "
                                       "given to the customer after settlement")
    def documents(self, contract_id: ContractId, data: JSONBody[ReleaseDocumentsRequest], caller: CallerDep,
                  backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.release_settlement_documents(
            caller, contract_id, data.invoice_number, data.certificate_number, data.released_to, idempotency_key))


class CollectionApplicationController(Controller):
    path = "/collection-applications"
    tags = ["collection"]

    @post("/{application_id:uuid}/decide", operation_id="DecideApplication", sync_to_thread=True,
          summary="Approve the current step of a collection application, or reject it with a reason")
    def decide(self, application_id: ApplicationId, data: JSONBody[DecideApplicationRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.decide_application(caller, application_id, data.decision == "approve",
                                                               data.reason, idempotency_key))

    @post("/{application_id:uuid}/register-locked", operation_id="RegisterLocked", sync_to_thread=True,
          summary="Register an approved lock as done (锁机登记), with the time")
    def locked(self, application_id: ApplicationId, data: JSONBody[RegisterLockRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.register_locked(caller, application_id, data.at, idempotency_key))

    @post("/{application_id:uuid}/register-unlocked", operation_id="RegisterUnlocked", sync_to_thread=True,
          summary="Register an approved unlock as done (开机登记), with the time")
    def unlocked(self, application_id: ApplicationId, data: JSONBody[RegisterLockRequest], caller: CallerDep,
                 backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.register_unlocked(caller, application_id, data.at, idempotency_key))

    @post("/{application_id:uuid}/register-tow", operation_id="RegisterTow", sync_to_thread=True,
          summary="Register an approved tow (拖机登记): date, place, people")
    def towed(self, application_id: ApplicationId, data: JSONBody[RegisterTowRequest], caller: CallerDep,
              backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.register_tow(caller, application_id, data.towed_on, data.place,
                                                         data.people, idempotency_key))

    @post("/{application_id:uuid}/receive-machine", operation_id="ReceiveRepossessedMachine", sync_to_thread=True,
          summary="Receive the towed machine into stock as a repossessed unit (债权机), same serial")
    def receive(self, application_id: ApplicationId, data: JSONBody[ReceiveRepossessedRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.collection.receive_repossessed_machine(caller, application_id, data.warehouse_id,
                                                                        idempotency_key))

    @get("/", operation_id="ListCollectionApplications", sync_to_thread=True,
         summary="Collection applications, newest first, with their facts and where each stands")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 contract_id: FromQuery[UUID | None] = None,
                 document_type: FromQuery[CollectionDocument | None] = None,
                 status: FromQuery[ApplicationStatus | None] = None, mine: FromQuery[bool] = False,
                 page: Page = 1, page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        flt = receivables.ApplicationFilter(company_id, contract_id, document_type, status and str(status),
                                            caller.user_id if mine else None)
        with backoffice.read() as cur:
            items, total = receivables.list_applications(cur, caller.scope, caller.own_only, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/{application_id:uuid}", operation_id="GetCollectionApplication", sync_to_thread=True,
         summary="One collection application")
    def get_one(self, application_id: ApplicationId, caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        with backoffice.read() as cur:
            row = receivables.get_application(cur, caller.scope, caller.own_only, application_id)
        if row is None:
            raise NotFoundError(f"Collection application {application_id} does not exist.",
                                code="application-not-found")
        return row


class MyCollectionsController(Controller):
    path = "/collections"
    tags = ["collection"]

    @get("/mine", operation_id="ListMyCollections", sync_to_thread=True,
         summary="The debts assigned to me, longest overdue first, with the last contact and promises")
    def mine(self, caller: CallerDep, backoffice: OfficeDep, as_of: FromQuery[date | None] = None,
             page: Page = 1, page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        day = query_day(as_of, "as_of") or backoffice.today()
        flt = receivables.ReceivableFilter(status="open", collector_id=caller.user_id)
        with backoffice.read() as cur:
            items, total = receivables.list_receivables(cur, caller.scope, caller.own_only, flt, day, page, page_size,
                                                        "days_past_due")
        return {"items": items, "total": total, "page": page, "page_size": page_size, "as_of": day}


COLLECTION_CONTROLLERS = [DebtCollectionController, CollectionApplicationController, MyCollectionsController]
