"""Customers, contacts, contracts and approvals over HTTP: commands named for the acts, queries on read models."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from litestar import Response, Router, get
from litestar.params import FromPath, FromQuery

from application.approvals import SetApprovalRule
from application.history import AggregateHistory
from application.reading import ScopeRule, list_of, listed, page_of, paged, row, rows
from application.sales.commands import (
    ApproveContract,
    CompleteContractTerms,
    CreateContact,
    CreateCustomer,
    DefineCustomerTag,
    DefineCustomerType,
    DraftContract,
    LinkContactToCustomer,
    RejectContract,
    ReturnContractToSalesperson,
    ReviseContractDraft,
    SubmitContractForApproval,
    SubmitContractToClerk,
    TagCustomer,
    UnapproveContract,
    UntagCustomer,
)
from domain.access import Permission
from domain.approvals import DocumentType
from domain.base import InvalidValueError, NotFoundError
from domain.contracts import ContractStatus
from interfaces.http.kit import CallerDep, OfficeDep, Page, PageSize, ReaderDep, command_endpoint, csv_export, reads
from projections import approval_queue, contracts, customers
from projections.approval_queue import ApprovalCountRow, ApprovalQueueRow, ApprovalRuleRow
from projections.contracts import ContractCountRow, ContractDetailRow, ContractRow
from projections.customers import (
    ContactRow,
    CustomerCountRow,
    CustomerDetailRow,
    CustomerRow,
    CustomerTagRow,
    CustomerTypeRow,
)

Name = FromQuery[str | None]
CUSTOMERS = reads("customers", Permission.VIEW_CUSTOMERS, ScopeRule.OWN_SALES)
CONTRACTS = reads("contracts", Permission.VIEW_CONTRACTS, ScopeRule.OWN_SALES)


# ---------------------------------------------------------------- answers of the queries
class CustomerCatalogue(msgspec.Struct, kw_only=True):
    types: list[CustomerTypeRow]
    tags: list[CustomerTagRow]


class CustomerCounts(msgspec.Struct, kw_only=True):
    rows: list[CustomerCountRow]
    total: int


class ContractCounts(msgspec.Struct, kw_only=True):
    rows: list[ContractCountRow]
    total: int


class ApprovalCounts(msgspec.Struct, kw_only=True):
    rows: list[ApprovalCountRow]
    total: int


# ---------------------------------------------------------------- customers and contacts
@get("/", operation_id="GetCustomerCatalogue", sync_to_thread=True, summary="Customer types and tags",
     opt=reads("customers", Permission.VIEW_CUSTOMERS, ScopeRule.GROUP))
def get_customer_catalogue(read: ReaderDep) -> CustomerCatalogue:
    with read.cursor() as cur:
        types, tags = customers.list_customer_types(cur), customers.list_customer_tags(cur)
    return CustomerCatalogue(types=rows(CustomerTypeRow, types), tags=rows(CustomerTagRow, tags))


def _name_filter(name: str | None) -> str | None:
    if name is not None and len(name) > 100:
        raise InvalidValueError("name filter: at most 100 characters.", field="name")
    return name


def _customer_filter(company_id: UUID | None, owner_id: UUID | None, customer_type_id: UUID | None,
                     tag_id: UUID | None, name: str | None) -> customers.CustomerFilter:
    return customers.CustomerFilter(company_id, owner_id, customer_type_id, tag_id, _name_filter(name))


@get("/", operation_id="ListCustomers", sync_to_thread=True, opt=CUSTOMERS,
     summary="Customers I may see (a salesperson: their own), filtered and paged")
def list_customers(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                   owner_id: FromQuery[UUID | None] = None, customer_type_id: FromQuery[UUID | None] = None,
                   tag_id: FromQuery[UUID | None] = None, name: Name = None, page: Page = 1,
                   page_size: PageSize = 50) -> page_of(CustomerRow):  # type: ignore[valid-type]
    flt = _customer_filter(company_id, owner_id, customer_type_id, tag_id, name)
    return paged(CustomerRow, read(customers.list_customers, flt, page, page_size), page, page_size)


@get("/counts", operation_id="CountCustomers", sync_to_thread=True, opt=CUSTOMERS,
     summary="How many customers per company")
def count_customers(read: ReaderDep, customer_type_id: FromQuery[UUID | None] = None,
                    tag_id: FromQuery[UUID | None] = None) -> CustomerCounts:
    flt = _customer_filter(None, None, customer_type_id, tag_id, None)
    counted = rows(CustomerCountRow, read(customers.count_customers, flt))
    return CustomerCounts(rows=counted, total=sum(r.customers for r in counted))


@get("/export", operation_id="ExportCustomers", sync_to_thread=True, media_type="text/csv", opt=CUSTOMERS,
     summary="Customers I may see, as CSV")
def export_customers(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                     customer_type_id: FromQuery[UUID | None] = None, tag_id: FromQuery[UUID | None] = None,
                     name: Name = None) -> Response[str]:
    flt = _customer_filter(company_id, None, customer_type_id, tag_id, name)
    return csv_export(read, customers.CUSTOMER_EXPORT_COLUMNS, "customers.csv", customers.export_customers, flt)


@get("/{customer_id:uuid}", operation_id="GetCustomer", sync_to_thread=True, opt=CUSTOMERS,
     summary="One customer with tags and linked contacts")
def get_customer(customer_id: FromPath[UUID], read: ReaderDep) -> CustomerDetailRow:
    found = read(customers.get_customer, customer_id)
    if found is None:
        raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
    return row(CustomerDetailRow, found)


@get("/", operation_id="ListContacts", sync_to_thread=True, opt=CUSTOMERS,
     summary="Contacts I may see (a salesperson: their own), paged")
def list_contacts(read: ReaderDep, company_id: FromQuery[UUID | None] = None, name: Name = None, page: Page = 1,
                  page_size: PageSize = 50) -> page_of(ContactRow):  # type: ignore[valid-type]
    found = read(customers.list_contacts, company_id, _name_filter(name), page, page_size)
    return paged(ContactRow, found, page, page_size)


# ---------------------------------------------------------------- contracts
def _contract_filter(company_id: UUID | None, status: ContractStatus | None, owner_id: UUID | None,
                     customer_id: UUID | None, drafted_from: date | None,
                     drafted_to: date | None) -> contracts.ContractFilter:
    return contracts.ContractFilter(company_id, status and str(status), owner_id, customer_id, drafted_from,
                                    drafted_to)


@get("/", operation_id="ListContracts", sync_to_thread=True, opt=CONTRACTS,
     summary="Contracts I may see (a salesperson: their own) by status, salesperson, customer, company, date")
def list_contracts(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                   status: FromQuery[ContractStatus | None] = None, owner_id: FromQuery[UUID | None] = None,
                   customer_id: FromQuery[UUID | None] = None, drafted_from: FromQuery[date | None] = None,
                   drafted_to: FromQuery[date | None] = None, page: Page = 1,
                   page_size: PageSize = 50) -> page_of(ContractRow):  # type: ignore[valid-type]
    flt = _contract_filter(company_id, status, owner_id, customer_id, drafted_from, drafted_to)
    return paged(ContractRow, read(contracts.list_contracts, flt, page, page_size), page, page_size)


@get("/counts", operation_id="CountContracts", sync_to_thread=True, opt=CONTRACTS,
     summary="How many contracts per company and status")
def count_contracts(read: ReaderDep, owner_id: FromQuery[UUID | None] = None,
                    drafted_from: FromQuery[date | None] = None,
                    drafted_to: FromQuery[date | None] = None) -> ContractCounts:
    flt = _contract_filter(None, None, owner_id, None, drafted_from, drafted_to)
    counted = rows(ContractCountRow, read(contracts.count_contracts, flt))
    return ContractCounts(rows=counted, total=sum(r.contracts for r in counted))


@get("/export", operation_id="ExportContracts", sync_to_thread=True, media_type="text/csv", opt=CONTRACTS,
     summary="Contracts I may see, as CSV")
def export_contracts(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                     status: FromQuery[ContractStatus | None] = None, owner_id: FromQuery[UUID | None] = None,
                     customer_id: FromQuery[UUID | None] = None, drafted_from: FromQuery[date | None] = None,
                     drafted_to: FromQuery[date | None] = None) -> Response[str]:
    flt = _contract_filter(company_id, status, owner_id, customer_id, drafted_from, drafted_to)
    return csv_export(read, contracts.EXPORT_COLUMNS, "contracts.csv", contracts.export_contracts, flt)


@get("/{contract_id:uuid}", operation_id="GetContract", sync_to_thread=True, opt=CONTRACTS,
     summary="One contract with its lines and terms")
def get_contract(contract_id: FromPath[UUID], read: ReaderDep) -> ContractDetailRow:
    found = read(contracts.get_contract, contract_id)
    if found is None:
        raise NotFoundError(f"Contract {contract_id} does not exist.", code="contract-not-found")
    return row(ContractDetailRow, found)


@get("/{contract_id:uuid}/history", operation_id="GetContractHistory", sync_to_thread=True,
     summary="Every event of a contract, in order, with who, when and why")
def get_contract_history(contract_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep) -> AggregateHistory:
    events = backoffice.history.contract_history(caller, contract_id)
    return msgspec.convert({"contract_id": contract_id, "events": events}, AggregateHistory, from_attributes=True)


# ---------------------------------------------------------------- approvals
@get("/rules", operation_id="ListApprovalRules", sync_to_thread=True,
     summary="Approval rules in force: group-wide and for the companies I see",
     opt=reads("approval_queue", Permission.VIEW_ORGANISATION))
def list_approval_rules(read: ReaderDep) -> list_of(ApprovalRuleRow):  # type: ignore[valid-type]
    return listed(ApprovalRuleRow, read(approval_queue.list_rules))


MINE = reads("approval_queue", None)


@get("/mine", operation_id="ListMyApprovals", sync_to_thread=True, opt=MINE,
     summary="What waits for my decision, oldest first, within my roles and companies")
def list_my_approvals(read: ReaderDep, document_type: FromQuery[DocumentType | None] = None,
                      company_id: FromQuery[UUID | None] = None, page: Page = 1,
                      page_size: PageSize = 50) -> page_of(ApprovalQueueRow):  # type: ignore[valid-type]
    me = read.caller
    found = read(approval_queue.list_my_approvals, me.roles, me.user_id, me.own_only,
                 document_type and str(document_type), company_id, page, page_size)
    return paged(ApprovalQueueRow, found, page, page_size)


@get("/mine/counts", operation_id="CountMyApprovals", sync_to_thread=True, opt=MINE,
     summary="How many documents wait for my decision, per company and type")
def count_my_approvals(read: ReaderDep) -> ApprovalCounts:
    me = read.caller
    counted = rows(ApprovalCountRow, read(approval_queue.count_my_approvals, me.roles, me.user_id, me.own_only))
    return ApprovalCounts(rows=counted, total=sum(r.waiting for r in counted))


SALES_CONTROLLERS: list[Any] = [
    Router("/customer-catalogue", tags=["customers"], route_handlers=[
        command_endpoint("/types", DefineCustomerType,
                         "Define a customer type (first-time, intended, potential, formal…)"),
        command_endpoint("/tags", DefineCustomerTag, "Define a tag for customers"),
        get_customer_catalogue]),
    Router("/customers", tags=["customers"], route_handlers=[
        command_endpoint("/", CreateCustomer, "Register a customer (客户)"),
        command_endpoint("/{customer_id:uuid}/tag", TagCustomer, "Put a tag on a customer"),
        command_endpoint("/{customer_id:uuid}/untag", UntagCustomer, "Take a tag off a customer"),
        command_endpoint("/{customer_id:uuid}/link-contact", LinkContactToCustomer,
                         "Link a contact to a customer (by a clerk)"),
        list_customers, count_customers, export_customers, get_customer]),
    Router("/contacts", tags=["customers"], route_handlers=[
        command_endpoint("/", CreateContact, "Register a contact (联系人)"),
        list_contacts]),
    Router("/contracts", tags=["contracts"], route_handlers=[
        command_endpoint("/", DraftContract,
                         "Draft a sales application (salesperson): customer, contact, machine models, prices"),
        command_endpoint("/{contract_id:uuid}/revise-draft", ReviseContractDraft,
                         "Change a draft (salesperson; only while it is a draft)"),
        command_endpoint("/{contract_id:uuid}/submit-to-clerk", SubmitContractToClerk,
                         "Submit the draft to the sales clerk"),
        command_endpoint("/{contract_id:uuid}/return-to-salesperson", ReturnContractToSalesperson,
                         "Return the application to the salesperson, saying what to add (clerk)"),
        command_endpoint("/{contract_id:uuid}/complete-terms", CompleteContractTerms,
                         "Set the commercial terms: payment, warranty deposit, accessories, coupons (clerk)"),
        command_endpoint("/{contract_id:uuid}/submit-for-approval", SubmitContractForApproval,
                         "Submit for approval (clerk): from now on no edit, no return to the salesperson"),
        command_endpoint("/{contract_id:uuid}/approve", ApproveContract,
                         "Approve the step waiting for me (approved at the last step)"),
        command_endpoint("/{contract_id:uuid}/reject", RejectContract,
                         "Reject the step waiting for me: back to the clerk, with the reason"),
        command_endpoint("/{contract_id:uuid}/unapprove", UnapproveContract,
                         "Un-approve (取消审核) through contract review: back to the clerk, with the reason"),
        list_contracts, count_contracts, export_contracts, get_contract, get_contract_history]),
    Router("/approvals", tags=["approvals"], route_handlers=[
        command_endpoint("/rules", SetApprovalRule,
                         "Set the approval rule of a document type for a company or the whole group (administrator)"),
        list_approval_rules, list_my_approvals, count_my_approvals]),
]
