"""Typed text, the refusals clients rely on, and the context every event carries."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date
from uuid import UUID

import pytest

import domain
from domain import ids
from interfaces.http.errors import status_of
from domain.base import (
    AlreadyExistsError,
    Context,
    DomainError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    require_text,
)
from domain.machines import MachineNature, MachineUnit
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from tests.unit.given import ACTOR, BUSINESS_DATE, ctx, given

# ------------------------------------------------------------------ require_text


@pytest.mark.parametrize(("typed", "kept"), [
    ("Hefei", "Hefei"),
    ("  Hefei Machinery \n", "Hefei Machinery"),
    ("合肥 挖掘机", "合肥 挖掘机"),
    ("line one\nline two\ttab\r\n end", "line one\nline two\ttab\r\n end"),  # breaks and tabs inside stay
])
def test_text_is_kept_trimmed(typed, kept):
    assert require_text(typed, "name") == kept


@pytest.mark.parametrize("typed", ["", " ", "\t\n ", "\u3000", None], ids=repr)
def test_blank_text_is_refused_naming_the_field(typed):
    with pytest.raises(InvalidValueError) as refused:
        require_text(typed, "name")
    assert (refused.value.code, status_of(refused.value), refused.value.details) == ("invalid-value", 422,
                                                                                {"field": "name"})
    assert "name" in refused.value.message


def test_text_of_the_maximum_length_is_accepted_and_one_more_character_is_refused():
    assert require_text("x" * 200, "name") == "x" * 200
    assert require_text("  " + "x" * 20 + "  ", "code", 20) == "x" * 20  # outer spaces do not count
    with pytest.raises(InvalidValueError) as refused:
        require_text("x" * 201, "name")
    assert refused.value.details == {"field": "name"} and "200" in refused.value.message
    with pytest.raises(InvalidValueError):
        require_text("x" * 21, "code", 20)


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f"], ids=repr)
def test_text_with_a_control_character_is_refused(control):
    with pytest.raises(InvalidValueError) as refused:
        require_text(f"Hefei{control}Machinery", "name")
    assert refused.value.details == {"field": "name"} and "control character" in refused.value.message


@pytest.mark.parametrize("control", ["\x80", "\x9b", "\x9f"], ids=repr)
def test_text_with_a_c1_control_character_is_refused(control):
    with pytest.raises(InvalidValueError):
        require_text(f"SY{control}215", "serial_number")


def _hefei_main() -> Warehouse:
    return given(Warehouse.create(ctx(), given(Company.create(ctx(), "HF", "Hefei")), "MAIN", "Main",
                                  WarehouseKind.MAIN))


def _model() -> MachineModel:
    return given(MachineModel.register(ctx(), "M", "m", MachineType.OTHER))


@pytest.mark.parametrize(("create", "limit"), [
    (lambda: Company.create(ctx(), "ß" * 20, "Hefei").code, 20),
    (lambda: Warehouse.create(ctx(), given(Company.create(ctx(), "HF", "Hefei")), "ß" * 20, "Main",
                              WarehouseKind.MAIN).code, 20),
    (lambda: MachineModel.register(ctx(), "ß" * 40, "Model", MachineType.OTHER).code, 40),
    (lambda: MachineUnit.receive(ctx(), "ß" * 40, _model(), _hefei_main(), MachineNature.TRADE_IN).serial_number,
     40),
], ids=["company", "warehouse", "machine-model", "machine-unit"])
def test_a_normalised_key_is_never_longer_than_its_limit(create, limit):
    try:
        key = create()
    except InvalidValueError:
        return  # refused as too long: right too
    assert len(key) <= limit


# ------------------------------------------------------------------ the refusals clients rely on
EXPECTED_ERRORS = {
    # class name: (code, HTTP status). Codes are a contract with clients: never renamed.
    "DomainError": ("rule-violated", 409),
    "InvalidValueError": ("invalid-value", 422),
    "NotFoundError": ("not-found", 404),
    "AlreadyExistsError": ("already-exists", 409),
    "PermissionDeniedError": ("forbidden", 403),
    "MachineAlreadyInStockError": ("serial-number-exists", 409),
    "MachineNotInStockError": ("machine-not-in-stock", 409),
    "SameWarehouseError": ("same-warehouse", 422),
    "WarehouseCannotHoldMachinesError": ("warehouse-cannot-hold-machines", 422),
    "RoleAlreadyGrantedError": ("role-already-granted", 409),
    "RoleNotGrantedError": ("role-not-granted", 409),
    "PositionAlreadyAssignedError": ("position-already-assigned", 409),
    "PositionNotAssignedError": ("position-not-assigned", 409),
    "LastAdministratorError": ("last-administrator", 409),
    "IdempotencyKeyReusedError": ("idempotency-key-reused", 422),
    "NoApprovalRuleError": ("no-approval-rule", 409),
    "NotYourStepError": ("not-your-approval-step", 403),
    "SelfApprovalError": ("own-document", 403),
    "NotAwaitingApprovalError": ("not-awaiting-approval", 409),
    "TagAlreadyOnCustomerError": ("tag-already-on-customer", 409),
    "TagNotOnCustomerError": ("tag-not-on-customer", 409),
    "ContactAlreadyLinkedError": ("contact-already-linked", 409),
    "OtherCompanyError": ("other-company", 422),
    "ContractStateError": ("contract-state", 409),
    "ContractTermsMissingError": ("contract-terms-missing", 409),
    "ContractAlreadyStartedError": ("contract-already-started", 409),
    "MachineAlreadyReservedError": ("machine-already-reserved", 409),
    "MachineNotReservedError": ("machine-not-reserved", 409),
    "MachineNotOutError": ("machine-not-out", 409),
    "MachineDoesNotFitContractError": ("machine-does-not-fit-contract", 409),
    "MachineAlreadyPickedError": ("machine-already-picked", 409),
    "MachineNotOnContractError": ("machine-not-on-contract", 409),
    "OutboundStateError": ("outbound-state", 409),
    "AccessoryOverDeliveredError": ("accessory-over-delivered", 409),
    "PenaltyRateNotInFutureError": ("penalty-rate-not-in-future", 422),
    "DebtStateError": ("debt-state", 409),
    "ReceiptStateError": ("receipt-state", 409),
    "OverpaymentError": ("overpayment", 422),
    "ScheduleLockedError": ("schedule-locked", 409),
    "OwnReceiptError": ("own-receipt", 403),
    "PenaltyDateError": ("penalty-date", 422),
    # debt collection (催收)
    "DebtNotOverdueError": ("debt-not-overdue", 409),
    "NothingChangedError": ("nothing-changed", 409),
    "ApplicationPendingError": ("application-pending", 409),
    "PrincipalOutstandingError": ("principal-outstanding", 409),
    "WaiverExceedsPenaltyError": ("waiver-exceeds-penalty", 422),
    "WaiverConflictError": ("waiver-conflict", 409),
    "DebtOutstandingError": ("debt-outstanding", 409),
    "DocumentsAlreadyReleasedError": ("documents-already-released", 409),
    "ApplicationStateError": ("application-state", 409),
    "MachineLockStateError": ("machine-lock-state", 409),
    # coupons (卡券)
    "CouponCodeTakenError": ("coupon-code-exists", 409),
    "CouponBalanceError": ("coupon-balance", 422),
    "CouponValidityError": ("coupon-not-valid", 422),
    "CouponVoidedError": ("coupon-voided", 409),
    "CouponUsedError": ("coupon-used", 409),
    "CouponOtherCompanyError": ("coupon-other-company", 422),
    "CouponHolderError": ("coupon-holder", 422),
    # parts (配件)
    "InsufficientPartStockError": ("insufficient-part-stock", 409),
    "OverReceiptError": ("over-receipt", 409),
    "PartsDocumentStateError": ("parts-document-state", 409),
    "WarehouseNotUsableError": ("warehouse-not-usable", 422),
    "NotYourMobileWarehouseError": ("not-your-mobile-warehouse", 403),
}


def _domain_errors() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    # Every module, also those inside a package (an aggregate's package keeps its errors apart).
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DomainError) and cls.__module__ == module.__name__:
                found[name] = cls
    return found


def test_every_domain_error_has_its_stable_code_and_status_pinned():
    errors = _domain_errors()
    assert {name: (cls.code, status_of(cls)) for name, cls in errors.items()} == EXPECTED_ERRORS


def test_no_two_domain_errors_share_a_code():
    codes = [cls.code for cls in _domain_errors().values()]
    assert len(codes) == len(set(codes))


def test_a_domain_error_keeps_its_message_and_details_and_may_name_a_finer_code():
    error = DomainError("Position Hefei already grants exactly these companies.", code="nothing-changed",
                        position="Hefei")
    assert (str(error), error.message, error.code, status_of(error), error.details) == (
        "Position Hefei already grants exactly these companies.",
        "Position Hefei already grants exactly these companies.", "nothing-changed", 409, {"position": "Hefei"})
    assert DomainError("plain").code == "rule-violated"  # the class's code when none is given
    assert DomainError.code == "rule-violated"           # and the class keeps its own


def test_the_generic_refusals_are_domain_errors():
    for cls in (InvalidValueError, NotFoundError, AlreadyExistsError, PermissionDeniedError):
        assert issubclass(cls, DomainError)


# ------------------------------------------------------------------ context
def test_the_context_is_the_metadata_of_every_event():
    command = UUID("22222222-2222-5222-8222-222222222222")
    context = Context(actor_id=ACTOR, command_id=command, business_date=date(2026, 3, 2), reason="month end")
    assert context.metadata(ids.company_id("HF")) == {
        "actor_id": ACTOR, "company_id": ids.company_id("HF"), "command_id": command,
        "business_date": date(2026, 3, 2), "reason": "month end"}
    assert context.metadata(None)["company_id"] is None


def test_the_context_is_immutable_and_has_no_reason_by_default():
    context = ctx()
    assert context.reason is None and context.business_date == BUSINESS_DATE
    with pytest.raises(AttributeError):
        context.reason = "changed"  # type: ignore[misc]
