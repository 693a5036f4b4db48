"""Request bodies. Validation of shape, type and size happens here (answered 400);
business rules are the domain's (answered 404/409/422)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.access import Role
from domain.approvals import DocumentType, StepScope
from domain.contracts import PaymentMethod, ScheduleMethod
from domain.customers import PartyKind
from domain.machines import MachineNature
from domain.organisation import MachineType, WarehouseKind
from domain.parts import JobType, PartCategory, RequestPath, SaleChannel
from domain.coupons import HolderKind
from domain.receivables import ContactChannel, ReceiptMethod

Code = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.\- ]+$",
                           description="Short code, letters and digits; case and spaces are ignored.")]
# Plain text: no control characters except tab and line breaks (PostgreSQL text cannot hold NUL).
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)]
Serial = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$",
                             description="Machine serial number (机号).")]
Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=PLAIN,
                             description="Why; kept in the audit trail.")]
Username = Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._\-]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=200)]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LoginRequest(Body):
    username: Annotated[str, Meta(min_length=1, max_length=60)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]


class ChangePasswordRequest(Body):
    current_password: Annotated[str, Meta(min_length=1, max_length=200)]
    new_password: Password


class CreateCompanyRequest(Body):
    code: Code
    name: Name


class CreateWarehouseRequest(Body):
    company_id: UUID
    code: Code
    name: Name
    kind: WarehouseKind = WarehouseKind.MAIN
    technician_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None
    technician_id: Annotated[UUID, Meta(description=(
        "A mobile warehouse's technician (a user with the technician role): they request, receive and use its "
        "parts."))] | None = None


class RegisterMachineModelRequest(Body):
    code: Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]
    name: Name
    machine_type: MachineType


class ReceiveMachineRequest(Body):
    serial_number: Serial
    model_id: UUID
    warehouse_id: UUID
    nature: MachineNature


class TransferMachineRequest(Body):
    to_warehouse_id: UUID
    reason: Reason


class CreateUserRequest(Body):
    username: Username
    display_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    password: Password
    roles: Annotated[list[Role], Meta(max_length=20)] = []
    position_ids: Annotated[list[UUID], Meta(max_length=50)] = []


class RoleRequest(Body):
    role: Role


class PositionRequest(Body):
    position_id: UUID


class CreatePositionRequest(Body):
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    company_ids: Annotated[list[UUID], Meta(max_length=500)] = []
    all_companies: bool = False


class ChangePositionCompaniesRequest(Body):
    company_ids: Annotated[list[UUID], Meta(max_length=500)] = []
    all_companies: bool = False


# ---------------------------------------------------------------- customers and contracts
Money = Annotated[Decimal, Meta(description="CNY with at most two decimal places, sent as a string: \"380000.00\".")]
Text100 = Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
Phone = Annotated[str, Meta(min_length=1, max_length=30, pattern=r"^\+?[0-9][0-9 \-]*$")]


class DefineCatalogueItemRequest(Body):
    code: Code
    name: Text100


class CreateCustomerRequest(Body):
    company_id: UUID
    name: Name
    kind: PartyKind
    customer_type_id: UUID
    id_number: Annotated[str, Meta(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9 \-]+$",
                                   description="Unified social credit code or ID card number.")] | None = None
    phone: Phone | None = None
    address: Annotated[str, Meta(min_length=1, max_length=300, pattern=PLAIN)] | None = None
    owner_id: UUID | None = None  # the salesperson it belongs to; a clerk may name one (default: me)


class CreateContactRequest(Body):
    company_id: UUID
    name: Text100
    phone: Phone | None = None
    title: Text100 | None = None
    owner_id: UUID | None = None


class TagRequest(Body):
    tag_id: UUID


class LinkContactRequest(Body):
    contact_id: UUID


class ContractLineRequest(Body):
    model_id: UUID
    quantity: Annotated[int, Meta(ge=1, le=1000)]
    unit_price: Money
    substitute_allowed: Annotated[bool, Meta(description=(
        "A unit of another model of the same machine type may be delivered (同类型替代)."))] = False


class DraftContractRequest(Body):
    company_id: UUID
    customer_id: UUID
    lines: Annotated[list[ContractLineRequest], Meta(min_length=1, max_length=20)]
    contact_id: UUID | None = None


class ReviseContractDraftRequest(Body):
    customer_id: UUID
    lines: Annotated[list[ContractLineRequest], Meta(min_length=1, max_length=20)]
    contact_id: UUID | None = None


class InstallmentTermsRequest(Body):
    months: Annotated[int, Meta(ge=1, le=120)]
    annual_rate: Annotated[Decimal, Meta(description="A fraction: \"0.0435\" is 4.35 % a year.")]
    first_due_date: date
    method: ScheduleMethod = ScheduleMethod.EQUAL_INSTALLMENT


class AccessoryRequest(Body):
    name: Text100
    quantity: Annotated[int, Meta(ge=1, le=1000)] = 1
    unit_price: Money = Decimal("0.00")


class CouponGrantRequest(Body):
    face_value: Money
    quantity: Annotated[int, Meta(ge=1, le=100)] = 1
    note: Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)] | None = None


class CompleteContractTermsRequest(Body):
    payment: PaymentMethod
    down_payment: Money = Decimal("0.00")
    installment: InstallmentTermsRequest | None = None
    warranty_deposit: Money = Decimal("0.00")
    warranty_due_date: date | None = None
    accessories: Annotated[list[AccessoryRequest], Meta(max_length=50)] = []
    coupons: Annotated[list[CouponGrantRequest], Meta(max_length=20)] = []


class ReasonRequest(Body):
    reason: Reason


class ApprovalStepRequest(Body):
    name: Text100
    role: Role
    scope: StepScope = StepScope.COMPANY


class AmountBandRequest(Body):
    from_amount: Money
    steps: Annotated[list[ApprovalStepRequest], Meta(min_length=1, max_length=10)]


class SetApprovalRuleRequest(Body):
    document_type: DocumentType
    bands: Annotated[list[AmountBandRequest], Meta(min_length=1, max_length=20)]
    company_id: UUID | None = None  # the member company; left out, the group-wide rule


# ------------------------------------------------------------------ delivery
LineNo = Annotated[int, Meta(ge=1, le=10_000)]


class PickMachineRequest(Body):
    serial_number: Serial
    line_no: LineNo | None = None


class ReleaseMachineRequest(Body):
    serial_number: Serial
    reason: Reason


class AccessoryOutboundLineRequest(Body):
    quantity: Annotated[int, Meta(ge=1, le=1000)]
    agreed_accessory_no: Annotated[int, Meta(ge=1, le=1000, description=(
        "The contract's agreed accessory (1 = the first); its name and price come from the contract."))] | None = None
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN, description=(
        "An extra line not in the contract: what goes out."))] | None = None
    unit_price: Money | None = None
    part_id: Annotated[UUID, Meta(description=(
        "A catalogue part: its stock in warehouse_id is reserved now and drawn down at dispatch. An extra line "
        "takes the part's name and sale price unless given."))] | None = None
    warehouse_id: Annotated[UUID, Meta(description="The main or parts warehouse the part comes from.")] | None = None


class OutboundRequest(Body):
    outbound_no: LineNo


class ReturnOutboundRequest(Body):
    outbound_no: LineNo
    reason: Reason


class SwapMachineRequest(Body):
    old_serial: Serial
    new_serial: Serial
    reason: Reason
    return_warehouse_id: UUID | None = None


# ------------------------------------------------------------------ receivables
ItemKey = Annotated[str, Meta(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$",
                              description="An item of the receivable: DP, I1 … In, WD or FULL.")]


class GenerateScheduleRequest(Body):
    annual_rate: Annotated[Decimal, Meta(description="A fraction: \"0.0435\" is 4.35 % a year; 0 allowed.")]
    months: Annotated[int, Meta(ge=1, le=120)]
    first_due_date: date
    method: ScheduleMethod = ScheduleMethod.EQUAL_INSTALLMENT


class ScheduleLineRequest(Body):
    due_date: date
    principal: Money
    interest: Money = Decimal("0.00")


class SetScheduleRequest(Body):
    lines: Annotated[list[ScheduleLineRequest], Meta(min_length=1, max_length=120)]


CouponCode = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$",
                                 description="Coupon code; case and spaces are ignored.")]


class CouponPart(Body):
    code: CouponCode
    amount: Money


class RecordReceiptRequest(Body):
    amount: Money
    value_date: Annotated[date, Meta(description="The day the money arrived (起息日); not in the future.")]
    method: ReceiptMethod
    reference: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None
    allocate_to: Annotated[list[ItemKey], Meta(max_length=130, description=(
        "Pay these items only, in this order (each: penalty, interest, principal). Empty: oldest due first."))] = []
    penalty_last: Annotated[bool, Meta(description=(
        "Pay interest and principal of every item before any penalty interest (the customer pays the principal "
        "and applies for the penalty to be waived)."))] = False
    coupons: Annotated[list[CouponPart], Meta(max_length=20, description=(
        "Part of the amount paid with coupons (卡券); the amount is the whole receipt, coupons included."))] = []


class ReceiptDecisionRequest(Body):
    reason: Reason


class SetPenaltyRateRequest(Body):
    company_id: UUID
    effective_from: Annotated[date, Meta(description="First day the rate applies; after today.")]
    daily_rate: Annotated[Decimal, Meta(description="A fraction a day: \"0.0005\" is 0.05 % a day.")]
    grace_days: Annotated[int, Meta(ge=0, le=90)] = 0


class AccruePenaltiesRequest(Body):
    through: Annotated[date, Meta(description="Last day to accrue; a day that has ended.")]


# ---------------------------------------------------------------- debt collection (催收)
Statement = Annotated[str, Meta(min_length=1, max_length=2000, pattern=PLAIN,
                                description="The applicant's statement of the facts and why; kept in the audit trail.")]


class AssignCollectorRequest(Body):
    collector_id: Annotated[UUID, Meta(description="A user with the collector role whose positions cover the "
                                                   "contract's company.")]


class CollectionLogRequest(Body):
    contact_date: Annotated[date, Meta(description="The day of the contact; not in the future.")]
    contact_person: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    channel: ContactChannel
    result: Annotated[str, Meta(min_length=1, max_length=2000, pattern=PLAIN,
                                description="What was said or agreed.")]
    promised_date: Annotated[date, Meta(description="The day the customer promised to pay.")] | None = None
    promised_amount: Money | None = None


class InterestWaiverRequest(Body):
    amount: Annotated[Money, Meta(description="Penalty interest to waive: at most the penalty outstanding.")]
    reason: Statement


class MachineApplicationRequest(Body):
    serial_number: Serial
    reason: Statement


class SettlementRequest(Body):
    reason: Statement


class DecideApplicationRequest(Body):
    decision: Literal["approve", "reject"]
    reason: Reason | None = None


class RegisterLockRequest(Body):
    at: Annotated[datetime, Meta(tz=True, description="When it was done, with time zone (2026-11-23T09:30:00+08:00).")]


class RegisterTowRequest(Body):
    towed_on: date
    place: Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)]
    people: Annotated[list[Annotated[str, Meta(min_length=1, max_length=50, pattern=PLAIN)]],
                      Meta(min_length=1, max_length=20, description="Who towed the machine.")]


class ReceiveRepossessedRequest(Body):
    warehouse_id: Annotated[UUID, Meta(description="A main warehouse of the contract's company.")]


class ReleaseDocumentsRequest(Body):
    invoice_number: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    certificate_number: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN,
                                            description="Certificate of conformity (合格证) number.")]
    released_to: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]


# ---------------------------------------------------------------- coupons (卡券)
class IssueCouponRequest(Body):
    code: CouponCode
    company_id: UUID
    origin: Literal["promotion", "gift"]
    holder_kind: HolderKind
    holder_id: Annotated[UUID, Meta(description="The customer, or the contact rewarded for a referral.")]
    face_value: Money
    amount_paid: Annotated[Money, Meta(description="Promotion: the money received for it (pay 1000, get 2000).")] = \
        Decimal("0.00")
    valid_from: date | None = None
    valid_until: date | None = None
    promised_by: Annotated[UUID, Meta(description="Gift: the salesperson who promised it.")] | None = None
    note: Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)] | None = None
    reason: Annotated[Reason, Meta(description="Gift: why it is given.")] | None = None


class AdjustCouponRequest(Body):
    amount: Annotated[Decimal, Meta(description="Change of the balance: positive raises it, negative lowers it.")]
    approved_by: Annotated[UUID, Meta(description="Who approved the adjustment (approver, finance, administrator).")]
    reason: Reason


class ChangeCouponDetailsRequest(Body, kw_only=True):
    holder_kind: HolderKind
    holder_id: UUID
    valid_from: date | None = None
    valid_until: date | None = None
    note: Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)] | None = None
    reason: Reason


class VoidCouponRequest(Body):
    reason: Reason


# ------------------------------------------------------------------ parts
PartNo = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-/ ]+$",
                             description="Part number (配件编号); case and spaces are ignored.")]
Quantity = Annotated[int, Meta(ge=1, le=100_000, description="Whole units, in the part's unit.")]


class CreatePartRequest(Body):
    part_no: PartNo
    name: Name
    unit: Annotated[str, Meta(min_length=1, max_length=20, pattern=PLAIN, description="pc, set, barrel, litre …")]
    category: PartCategory
    purchase_price: Money
    sale_price: Money


class ChangePartPricesRequest(Body):
    purchase_price: Money
    sale_price: Money
    reason: Reason


class PartLineRequest(Body):
    part_id: UUID
    quantity: Quantity
    unit_price: Annotated[Money, Meta(description="Leave out for the catalogue's price.")] | None = None


class PartQuantityRequest(Body):
    part_id: UUID
    quantity: Quantity


class CreatePurchaseOrderRequest(Body):
    company_id: UUID
    supplier: Name
    warehouse_id: UUID
    lines: Annotated[list[PartLineRequest], Meta(min_length=1, max_length=50)]


class ReceivedLineRequest(Body):
    line_no: LineNo
    quantity: Quantity


class ReceivePurchaseRequest(Body):
    lines: Annotated[list[ReceivedLineRequest], Meta(min_length=1, max_length=50, description=(
        "What arrived, by line of the order; part or whole. More than is still outstanding is refused."))]


class CreatePartsQuoteRequest(Body, kw_only=True):
    company_id: UUID
    customer_id: Annotated[UUID, Meta(description="A registered customer; or leave out and name a walk-in.")] | None = None
    customer_name: Name | None = None
    lines: Annotated[list[PartLineRequest], Meta(min_length=1, max_length=50)]
    valid_until: date


class CreatePartsSaleRequest(Body):
    quote_id: UUID
    channel: SaleChannel
    warehouse_id: Annotated[UUID, Meta(description="The main or parts warehouse that ships it.")]


class PartsSaleReceiptRequest(Body):
    amount: Money
    value_date: Annotated[date, Meta(description="The day the money arrived; not in the future.")]
    method: ReceiptMethod
    reference: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None
    coupons: Annotated[list[CouponPart], Meta(max_length=20, description=(
        "Part of the amount paid with the customer's coupons (卡券)."))] = []


class RequestPartsRequest(Body):
    mobile_warehouse_id: UUID
    lines: Annotated[list[PartQuantityRequest], Meta(min_length=1, max_length=50)]
    work_order_id: Annotated[UUID, Meta(description="Asked for from within this work order.")] | None = None
    note: Annotated[str, Meta(min_length=1, max_length=500, pattern=PLAIN)] | None = None


class LinePriceRequest(Body):
    line_no: LineNo
    unit_price: Money


class HandlePartsRequestRequest(Body):
    path: RequestPath
    warehouse_id: Annotated[UUID, Meta(description=(
        "from_warehouse: the warehouse that ships; purchase_to_warehouse: the warehouse that receives the "
        "purchase; purchase_to_technician: leave out."))] | None = None
    supplier: Name | None = None
    unit_prices: Annotated[list[LinePriceRequest], Meta(max_length=50, description=(
        "Purchase prices by request line; the catalogue's purchase price where left out."))] = []


class OpenWorkOrderRequest(Body, kw_only=True):
    mobile_warehouse_id: UUID
    customer_id: UUID | None = None
    customer_name: Name | None = None
    serial_number: Serial
    job_type: JobType


class ConsumePartsRequest(Body):
    lines: Annotated[list[PartQuantityRequest], Meta(min_length=1, max_length=50)]
