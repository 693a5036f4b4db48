"""Debt collection over HTTP (催收): dispatch, logs, and the applications that follow the
approval rules. Debts are addressed by their contract's id, applications by their own."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from litestar import Router, get
from litestar.params import FromPath, FromQuery

from application.collection.commands import (
    ApplyInterestWaiver,
    ApplyLock,
    ApplySettlement,
    ApplyTow,
    ApplyUnlock,
    AssignCollector,
    DecideApplication,
    ReceiveRepossessedMachine,
    RegisterLocked,
    RegisterTow,
    RegisterUnlocked,
    ReleaseSettlementDocuments,
    WriteCollectionLog,
)
from application.reading import ScopeRule, page_of, paged, row, rows
from domain.access import Permission
from domain.base import NotFoundError
from domain.collection import COLLECTION_DOCUMENTS, ApplicationStatus
from interfaces.http.kit import OfficeDep, Page, PageSize, ReaderDep, command_endpoint, query_day, reads
from projections import receivables
from projections.receivables.collection_rows import CollectionApplicationRow
from projections.receivables.rows import ReceivablePage, ReceivableRow

CollectionDocument = Literal["interest_waiver", "machine_lock", "machine_unlock", "tow", "settlement"]
assert set(CollectionDocument.__args__) == {str(d) for d in COLLECTION_DOCUMENTS}  # type: ignore[attr-defined]
RECEIVABLES = reads("receivables", Permission.VIEW_RECEIVABLES, ScopeRule.OWN_SALES)


@get("/", operation_id="ListCollectionApplications", sync_to_thread=True, opt=RECEIVABLES,
     summary="Collection applications, newest first, with their facts and where each stands")
def list_collection_applications(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                                 contract_id: FromQuery[UUID | None] = None,
                                 document_type: FromQuery[CollectionDocument | None] = None,
                                 status: FromQuery[ApplicationStatus | None] = None, mine: FromQuery[bool] = False,
                                 page: Page = 1, page_size: PageSize = 50,
                                 ) -> page_of(CollectionApplicationRow):  # type: ignore[valid-type]
    flt = receivables.ApplicationFilter(company_id, contract_id, document_type, status and str(status),
                                        read.caller.user_id if mine else None)
    return paged(CollectionApplicationRow, read(receivables.list_applications, flt, page, page_size), page,
                 page_size)


@get("/{application_id:uuid}", operation_id="GetCollectionApplication", sync_to_thread=True, opt=RECEIVABLES,
     summary="One collection application")
def get_collection_application(application_id: FromPath[UUID], read: ReaderDep) -> CollectionApplicationRow:
    found = read(receivables.get_application, application_id)
    if found is None:
        raise NotFoundError(f"Collection application {application_id} does not exist.",
                            code="application-not-found")
    return row(CollectionApplicationRow, found)


@get("/mine", operation_id="ListMyCollections", sync_to_thread=True, opt=RECEIVABLES,
     summary="The debts assigned to me, longest overdue first, with the last contact and promises")
def list_my_collections(read: ReaderDep, backoffice: OfficeDep, as_of: FromQuery[date | None] = None,
                        page: Page = 1, page_size: PageSize = 50) -> ReceivablePage:
    day = query_day(as_of, "as_of") or backoffice.today()
    flt = receivables.ReceivableFilter(status="open", collector_id=read.caller.user_id)
    items, total = read(receivables.list_receivables, flt, day, page, page_size, "days_past_due")
    return ReceivablePage(items=rows(ReceivableRow, items), total=total, page=page, page_size=page_size, as_of=day)



COLLECTION_CONTROLLERS: list[Any] = [
    Router("/receivables", tags=["collection"], route_handlers=[
        command_endpoint("/{contract_id:uuid}/collector", AssignCollector,
                         "Give an overdue debt to a collector (催收派工), or to another one"),
        command_endpoint("/{contract_id:uuid}/collection-logs", WriteCollectionLog,
                         "Write a collection log (催收记录): contact date, person, way, result, promised payment"),
        command_endpoint("/{contract_id:uuid}/interest-waivers", ApplyInterestWaiver,
                         "Apply to waive penalty interest (利息减免) once all principal is received; needs approval"),
        command_endpoint("/{contract_id:uuid}/lock-applications", ApplyLock,
                         "Apply to lock a machine of an overdue contract remotely (锁机); needs approval"),
        command_endpoint("/{contract_id:uuid}/unlock-applications", ApplyUnlock,
                         "Apply to unlock a locked machine (开机); needs approval"),
        command_endpoint("/{contract_id:uuid}/tow-applications", ApplyTow,
                         "Apply to tow a machine back (拖机) with the overdue facts; needs approval"),
        command_endpoint("/{contract_id:uuid}/settlement-applications", ApplySettlement,
                         "Apply to settle (结清) a debt with nothing outstanding; approval closes it"),
        command_endpoint("/{contract_id:uuid}/settlement-documents", ReleaseSettlementDocuments,
                         "Record that the invoice and the certificate of conformity (合格证) were given to the "
                         "customer after settlement"),
    ]),
    Router("/collection-applications", tags=["collection"], route_handlers=[
        command_endpoint("/{application_id:uuid}/decide", DecideApplication,
                         "Approve the current step of a collection application, or reject it with a reason"),
        command_endpoint("/{application_id:uuid}/register-locked", RegisterLocked,
                         "Register an approved lock as done (锁机登记), with the time"),
        command_endpoint("/{application_id:uuid}/register-unlocked", RegisterUnlocked,
                         "Register an approved unlock as done (开机登记), with the time"),
        command_endpoint("/{application_id:uuid}/register-tow", RegisterTow,
                         "Register an approved tow (拖机登记): date, place, people"),
        command_endpoint("/{application_id:uuid}/receive-machine", ReceiveRepossessedMachine,
                         "Receive the towed machine into stock as a repossessed unit (债权机), same serial"),
        list_collection_applications, get_collection_application,
    ]),
    Router("/collections", tags=["collection"], route_handlers=[list_my_collections]),
]
