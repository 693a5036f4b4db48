"""Customers, contacts, contracts and approvals over HTTP: commands named for the acts, queries on read models."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from application.sales import LineRequest
from domain.access import Permission
from domain.approvals import AmountBand, ApprovalStep, DocumentType
from domain.base import InvalidValueError, NotFoundError
from domain.contracts import AgreedAccessory, CommercialTerms, ContractStatus, GrantedCoupon, InstallmentTerms
from interfaces.http.controllers import After, CallerDep, IdempotencyKey, OfficeDep, Page, PageSize, answer, csv_response, fresh
from interfaces.http.schemas import (
    CompleteContractTermsRequest,
    ContractLineRequest,
    CreateContactRequest,
    CreateCustomerRequest,
    DefineCatalogueItemRequest,
    DraftContractRequest,
    LinkContactRequest,
    ReasonRequest,
    ReviseContractDraftRequest,
    SetApprovalRuleRequest,
    TagRequest,
)
from projections import approval_queue, contracts, customers

Name = FromQuery[str | None]


def _lines(lines: list[ContractLineRequest]) -> list[LineRequest]:
    return [LineRequest(line.model_id, line.quantity, line.unit_price, line.substitute_allowed) for line in lines]


class CustomerCatalogueController(Controller):
    path = "/customer-catalogue"
    tags = ["customers"]

    @post("/types", operation_id="DefineCustomerType", sync_to_thread=True,
          summary="Define a customer type (first-time, intended, potential, formal…)")
    def define_type(self, data: JSONBody[DefineCatalogueItemRequest], caller: CallerDep, backoffice: OfficeDep,
                    idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.define_customer_type(caller, data.code, data.name, idempotency_key))

    @post("/tags", operation_id="DefineCustomerTag", sync_to_thread=True, summary="Define a tag for customers")
    def define_tag(self, data: JSONBody[DefineCatalogueItemRequest], caller: CallerDep, backoffice: OfficeDep,
                   idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.define_customer_tag(caller, data.code, data.name, idempotency_key))

    @get("/", operation_id="GetCustomerCatalogue", sync_to_thread=True, summary="Customer types and tags")
    def catalogue(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CUSTOMERS)
        fresh(backoffice, "customers", after)
        with backoffice.read() as cur:
            return {"types": customers.list_customer_types(cur), "tags": customers.list_customer_tags(cur)}


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @post("/", operation_id="CreateCustomer", sync_to_thread=True, summary="Register a customer (客户)")
    def create(self, data: JSONBody[CreateCustomerRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.register_customer(
            caller, data.company_id, data.name, data.kind, data.customer_type_id, data.id_number, data.phone,
            data.address, data.owner_id, idempotency_key))

    @post("/{customer_id:uuid}/tag", operation_id="TagCustomer", sync_to_thread=True, summary="Put a tag on a customer")
    def tag(self, customer_id: FromPath[UUID], data: JSONBody[TagRequest], caller: CallerDep, backoffice: OfficeDep,
            idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.tag_customer(caller, customer_id, data.tag_id, idempotency_key))

    @post("/{customer_id:uuid}/untag", operation_id="UntagCustomer", sync_to_thread=True,
          summary="Take a tag off a customer")
    def untag(self, customer_id: FromPath[UUID], data: JSONBody[TagRequest], caller: CallerDep, backoffice: OfficeDep,
              idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.untag_customer(caller, customer_id, data.tag_id, idempotency_key))

    @post("/{customer_id:uuid}/link-contact", operation_id="LinkContactToCustomer", sync_to_thread=True,
          summary="Link a contact to a customer (by a clerk)")
    def link(self, customer_id: FromPath[UUID], data: JSONBody[LinkContactRequest], caller: CallerDep,
             backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.link_contact(caller, customer_id, data.contact_id, idempotency_key))

    def _filter(self, company_id: UUID | None, owner_id: UUID | None, customer_type_id: UUID | None,
                tag_id: UUID | None, name: str | None) -> customers.CustomerFilter:
        if name is not None and len(name) > 100:
            raise InvalidValueError("name filter: at most 100 characters.", field="name")
        return customers.CustomerFilter(company_id, owner_id, customer_type_id, tag_id, name)

    @get("/", operation_id="ListCustomers", sync_to_thread=True,
         summary="Customers I may see (a salesperson: their own), filtered and paged")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 owner_id: FromQuery[UUID | None] = None, customer_type_id: FromQuery[UUID | None] = None,
                 tag_id: FromQuery[UUID | None] = None, name: Name = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CUSTOMERS)
        fresh(backoffice, "customers", after)
        flt = self._filter(company_id, owner_id, customer_type_id, tag_id, name)
        with backoffice.read() as cur:
            items, total = customers.list_customers(cur, caller.scope, caller.own_only, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/counts", operation_id="CountCustomers", sync_to_thread=True, summary="How many customers per company")
    def counts(self, caller: CallerDep, backoffice: OfficeDep, customer_type_id: FromQuery[UUID | None] = None,
               tag_id: FromQuery[UUID | None] = None, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CUSTOMERS)
        fresh(backoffice, "customers", after)
        flt = self._filter(None, None, customer_type_id, tag_id, None)
        with backoffice.read() as cur:
            rows = customers.count_customers(cur, caller.scope, caller.own_only, flt)
        return {"rows": rows, "total": sum(r["customers"] for r in rows)}

    @get("/export", operation_id="ExportCustomers", sync_to_thread=True, media_type="text/csv",
         summary="Customers I may see, as CSV")
    def export(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
               customer_type_id: FromQuery[UUID | None] = None, tag_id: FromQuery[UUID | None] = None,
               name: Name = None, after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_CUSTOMERS)
        fresh(backoffice, "customers", after)
        flt = self._filter(company_id, None, customer_type_id, tag_id, name)
        with backoffice.read() as cur:
            return csv_response(customers.CUSTOMER_EXPORT_COLUMNS,
                                customers.export_customers(cur, caller.scope, caller.own_only, flt), "customers.csv")

    @get("/{customer_id:uuid}", operation_id="GetCustomer", sync_to_thread=True,
         summary="One customer with tags and linked contacts")
    def get_one(self, customer_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CUSTOMERS)
        fresh(backoffice, "customers", after)
        with backoffice.read() as cur:
            row = customers.get_customer(cur, caller.scope, caller.own_only, customer_id)
        if row is None:
            raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
        return row


class ContactController(Controller):
    path = "/contacts"
    tags = ["customers"]

    @post("/", operation_id="CreateContact", sync_to_thread=True, summary="Register a contact (联系人)")
    def create(self, data: JSONBody[CreateContactRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.customers.register_contact(caller, data.company_id, data.name, data.phone,
                                                            data.title, data.owner_id, idempotency_key))

    @get("/", operation_id="ListContacts", sync_to_thread=True,
         summary="Contacts I may see (a salesperson: their own), paged")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 name: Name = None, page: Page = 1, page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CUSTOMERS)
        fresh(backoffice, "customers", after)
        if name is not None and len(name) > 100:
            raise InvalidValueError("name filter: at most 100 characters.", field="name")
        with backoffice.read() as cur:
            items, total = customers.list_contacts(cur, caller.scope, caller.own_only, company_id, name, page,
                                                   page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


class ContractController(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @post("/", operation_id="DraftContract", sync_to_thread=True,
          summary="Draft a sales application (salesperson): customer, contact, machine models, prices")
    def draft(self, data: JSONBody[DraftContractRequest], caller: CallerDep, backoffice: OfficeDep,
              idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.draft_contract(caller, data.company_id, data.customer_id, data.contact_id,
                                                          _lines(data.lines), idempotency_key))

    @post("/{contract_id:uuid}/revise-draft", operation_id="ReviseContractDraft", sync_to_thread=True,
          summary="Change a draft (salesperson; only while it is a draft)")
    def revise(self, contract_id: FromPath[UUID], data: JSONBody[ReviseContractDraftRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.revise_contract_draft(caller, contract_id, data.customer_id,
                                                                 data.contact_id, _lines(data.lines), idempotency_key))

    @post("/{contract_id:uuid}/submit-to-clerk", operation_id="SubmitContractToClerk", sync_to_thread=True,
          summary="Submit the draft to the sales clerk")
    def submit_to_clerk(self, contract_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                        idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.submit_to_clerk(caller, contract_id, idempotency_key))

    @post("/{contract_id:uuid}/return-to-salesperson", operation_id="ReturnContractToSalesperson",
          sync_to_thread=True, summary="Return the application to the salesperson, saying what to add (clerk)")
    def return_(self, contract_id: FromPath[UUID], data: JSONBody[ReasonRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.return_to_salesperson(caller, contract_id, data.reason, idempotency_key))

    @post("/{contract_id:uuid}/complete-terms", operation_id="CompleteContractTerms", sync_to_thread=True,
          summary="Set the commercial terms: payment, warranty deposit, accessories, coupons (clerk)")
    def complete_terms(self, contract_id: FromPath[UUID], data: JSONBody[CompleteContractTermsRequest],
                       caller: CallerDep, backoffice: OfficeDep,
                       idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        i = data.installment
        terms = CommercialTerms(
            data.payment, data.down_payment,
            InstallmentTerms(i.months, i.annual_rate, i.first_due_date, i.method) if i else None,
            data.warranty_deposit, data.warranty_due_date,
            tuple(AgreedAccessory(a.name, a.quantity, a.unit_price) for a in data.accessories),
            tuple(GrantedCoupon(c.face_value, c.quantity, c.note) for c in data.coupons))
        return answer(backoffice.contracts.complete_terms(caller, contract_id, terms, idempotency_key))

    @post("/{contract_id:uuid}/submit-for-approval", operation_id="SubmitContractForApproval", sync_to_thread=True,
          summary="Submit for approval (clerk): from now on no edit, no return to the salesperson")
    def submit_for_approval(self, contract_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                            idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.submit_for_approval(caller, contract_id, idempotency_key))

    @post("/{contract_id:uuid}/approve", operation_id="ApproveContract", sync_to_thread=True,
          summary="Approve the step waiting for me (approved at the last step)")
    def approve(self, contract_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.approve(caller, contract_id, idempotency_key))

    @post("/{contract_id:uuid}/reject", operation_id="RejectContract", sync_to_thread=True,
          summary="Reject the step waiting for me: back to the clerk, with the reason")
    def reject(self, contract_id: FromPath[UUID], data: JSONBody[ReasonRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.reject(caller, contract_id, data.reason, idempotency_key))

    @post("/{contract_id:uuid}/unapprove", operation_id="UnapproveContract", sync_to_thread=True,
          summary="Un-approve (取消审核) through contract review: back to the clerk, with the reason")
    def unapprove(self, contract_id: FromPath[UUID], data: JSONBody[ReasonRequest], caller: CallerDep,
                  backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.contracts.unapprove(caller, contract_id, data.reason, idempotency_key))

    @staticmethod
    def _filter(company_id: UUID | None, status: ContractStatus | None, owner_id: UUID | None,
                customer_id: UUID | None, drafted_from: date | None,
                drafted_to: date | None) -> contracts.ContractFilter:
        return contracts.ContractFilter(company_id, status and str(status), owner_id, customer_id, drafted_from,
                                        drafted_to)

    @get("/", operation_id="ListContracts", sync_to_thread=True,
         summary="Contracts I may see (a salesperson: their own) by status, salesperson, customer, company, date")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 status: FromQuery[ContractStatus | None] = None, owner_id: FromQuery[UUID | None] = None,
                 customer_id: FromQuery[UUID | None] = None, drafted_from: FromQuery[date | None] = None,
                 drafted_to: FromQuery[date | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CONTRACTS)
        fresh(backoffice, "contracts", after)
        flt = self._filter(company_id, status, owner_id, customer_id, drafted_from, drafted_to)
        with backoffice.read() as cur:
            items, total = contracts.list_contracts(cur, caller.scope, caller.own_only, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/counts", operation_id="CountContracts", sync_to_thread=True,
         summary="How many contracts per company and status")
    def counts(self, caller: CallerDep, backoffice: OfficeDep, owner_id: FromQuery[UUID | None] = None,
               drafted_from: FromQuery[date | None] = None, drafted_to: FromQuery[date | None] = None,
               after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CONTRACTS)
        fresh(backoffice, "contracts", after)
        flt = self._filter(None, None, owner_id, None, drafted_from, drafted_to)
        with backoffice.read() as cur:
            rows = contracts.count_contracts(cur, caller.scope, caller.own_only, flt)
        return {"rows": rows, "total": sum(r["contracts"] for r in rows)}

    @get("/export", operation_id="ExportContracts", sync_to_thread=True, media_type="text/csv",
         summary="Contracts I may see, as CSV")
    def export(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
               status: FromQuery[ContractStatus | None] = None, owner_id: FromQuery[UUID | None] = None,
               customer_id: FromQuery[UUID | None] = None, drafted_from: FromQuery[date | None] = None,
               drafted_to: FromQuery[date | None] = None, after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_CONTRACTS)
        fresh(backoffice, "contracts", after)
        flt = self._filter(company_id, status, owner_id, customer_id, drafted_from, drafted_to)
        with backoffice.read() as cur:
            return csv_response(contracts.EXPORT_COLUMNS,
                                contracts.export_contracts(cur, caller.scope, caller.own_only, flt), "contracts.csv")

    @get("/{contract_id:uuid}", operation_id="GetContract", sync_to_thread=True,
         summary="One contract with its lines and terms")
    def get_one(self, contract_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_CONTRACTS)
        fresh(backoffice, "contracts", after)
        with backoffice.read() as cur:
            row = contracts.get_contract(cur, caller.scope, caller.own_only, contract_id)
        if row is None:
            raise NotFoundError(f"Contract {contract_id} does not exist.", code="contract-not-found")
        return row

    @get("/{contract_id:uuid}/history", operation_id="GetContractHistory", sync_to_thread=True,
         summary="Every event of a contract, in order, with who, when and why")
    def history(self, contract_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep) -> dict[str, Any]:
        return {"contract_id": contract_id, "events": backoffice.history.contract_history(caller, contract_id)}


class ApprovalController(Controller):
    path = "/approvals"
    tags = ["approvals"]

    @post("/rules", operation_id="SetApprovalRule", sync_to_thread=True,
          summary="Set the approval rule of a document type for a company or the whole group (administrator)")
    def set_rule(self, data: JSONBody[SetApprovalRuleRequest], caller: CallerDep, backoffice: OfficeDep,
                 idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        bands = [AmountBand(b.from_amount, tuple(ApprovalStep(s.name, s.role, s.scope) for s in b.steps))
                 for b in data.bands]
        return answer(backoffice.approval_rules.set_approval_rule(caller, data.document_type, data.company_id, bands,
                                                                  idempotency_key))

    @get("/rules", operation_id="ListApprovalRules", sync_to_thread=True,
         summary="Approval rules in force: group-wide and for the companies I see")
    def rules(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_ORGANISATION)
        fresh(backoffice, "approval_queue", after)
        with backoffice.read() as cur:
            items = approval_queue.list_rules(cur, caller.scope)
        return {"items": items, "total": len(items)}

    @get("/mine", operation_id="ListMyApprovals", sync_to_thread=True,
         summary="What waits for my decision, oldest first, within my roles and companies")
    def mine(self, caller: CallerDep, backoffice: OfficeDep, document_type: FromQuery[DocumentType | None] = None,
             company_id: FromQuery[UUID | None] = None, page: Page = 1, page_size: PageSize = 50,
             after: After = None) -> dict[str, Any]:
        fresh(backoffice, "approval_queue", after)
        with backoffice.read() as cur:
            items, total = approval_queue.list_my_approvals(
                cur, caller.scope, caller.roles, caller.user_id, caller.own_only,
                document_type and str(document_type), company_id, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/mine/counts", operation_id="CountMyApprovals", sync_to_thread=True,
         summary="How many documents wait for my decision, per company and type")
    def mine_counts(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        fresh(backoffice, "approval_queue", after)
        with backoffice.read() as cur:
            rows = approval_queue.count_my_approvals(cur, caller.scope, caller.roles, caller.user_id, caller.own_only)
        return {"rows": rows, "total": sum(r["waiting"] for r in rows)}


SALES_CONTROLLERS = [CustomerCatalogueController, CustomerController, ContactController, ContractController,
                     ApprovalController]
