"""A hypothesis state machine over the real application on SQLite: coupons (卡券) of one
customer spent on receipts of its three approved contracts. Coupons are issued (promotion
and gift, sometimes with a validity window that runs out as the days pass), spent one or
two at a time on receipts (sometimes beyond their balance, beyond what the contract owes,
expired, voided, held by someone else, of another company), the receipts confirmed,
rejected and reversed, the coupons adjusted, voided and their details changed.

The test keeps its own model of every coupon and predicts whether each command is taken
or refused. Whatever the sequence, for every coupon:

- face value + adjustments = redeemed (net of restorations) + balance + voided, with the
  adjustments and voids read from the coupon's own events; the balance is never negative;
- what the active (recorded or confirmed) receipts of the debts take from it is exactly
  its net redeemed amount, receipt by receipt;
- the read model equals the aggregates (balance, redeemed, voided, adjusted, status, its
  usage history), and ``coupon_summary`` adds them up per company and origin;
- a refused command records nothing;
- at the end, the read model rebuilt from the log equals the live one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

from argon2 import PasswordHasher
from hypothesis import event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from application.caller import SYSTEM, Caller
from application.sales import ContractLineRequest
from domain import ids
from domain.access import Permission, Role, Scope
from domain.approvals import AmountBand, ApprovalStep, DocumentType
from domain.base import DomainError
from domain.contracts import CommercialTerms, PaymentMethod
from domain.coupons import Coupon, CouponOrigin, HolderKind
from domain.customers import PartyKind
from domain.organisation import MachineType
from domain.receivables import Debt, ReceiptMethod, ReceiptStatus
from interfaces.composition import BackOffice
from interfaces.settings import Settings
from projections import coupons as coupons_view
from tests.conftest import PASSWORD
from application.access.commands import CreateUser
from application.organisation.commands import CreateCompany, RegisterMachineModel
from application.coupons.commands import AdjustCoupon, ChangeCouponDetails, IssueCoupon, VoidCoupon
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, CreateContact, CreateCustomer, DefineCustomerType, DraftContract, LinkContactToCustomer, SubmitContractForApproval, SubmitContractToClerk
from application.receivables.commands import ConfirmReceipt, CouponPart, RecordReceipt, RejectReceipt, ReverseReceipt

D = Decimal
ZERO = D("0.00")
CENT = D("0.01")
START = date(2025, 12, 15)
EVERYTHING = Scope(all_companies=True)
ACTIVE_RECEIPT = (ReceiptStatus.RECORDED, ReceiptStatus.CONFIRMED)
VALIDITY = ("open", "window", "later", "expired", "bad")


def _person(name: str) -> Caller:
    return Caller(uuid4(), name, frozenset(Permission), EVERYTHING, frozenset({Role.FINANCE, Role.APPROVER}))


def _money(fen: int) -> Decimal:
    return (D(fen) / 100).quantize(CENT)


@dataclass
class CouponModel:
    """What the test expects of one coupon."""

    code: str
    company: str                   # "HF" or "CZ"
    origin: CouponOrigin
    face: Decimal
    paid: Decimal
    holder: tuple[HolderKind, UUID]
    valid_from: date | None
    valid_until: date | None
    note: str | None
    adjusted: Decimal = ZERO
    voided: Decimal = ZERO
    active: bool = True
    uses: dict[UUID, Decimal] = field(default_factory=dict)
    issued_on: date = date.min

    @property
    def redeemed(self) -> Decimal:
        return sum(self.uses.values(), ZERO)

    @property
    def balance(self) -> Decimal:
        return self.face + self.adjusted - self.redeemed - self.voided

    def valid_on(self, day: date) -> bool:
        # As the product checks it, on the receipt's value date, and never before the coupon was issued.
        first = max(self.valid_from or self.issued_on, self.issued_on)
        return not (day < first or (self.valid_until and day > self.valid_until))


class CouponsOnTheStore(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.day = START
        self.started = False          # set-up done: the rules' outcomes are counted as hypothesis events
        self.office = office = BackOffice(Settings(data_dir=self.folder, admin_password="admin-pass-2026",
                                                   secret_key="k" * 40, run_penalty_accrual=False),
                                          today=lambda: self.day)
        try:
            self._set_up(office)
        except BaseException:
            office.stop()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def _set_up(self, office: BackOffice) -> None:
        # Two member companies, a model and two users: a salesperson (who promises gifts and may not
        # approve an adjustment) and an approver (who may). Passwords are never checked here, so they
        # are hashed cheaply: the library's defaults would make most of the time of each example.
        office.access.hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        org = office.organisation
        self.hefei = UUID(office.execute(SYSTEM, CreateCompany(code="HF", name="Hefei")).body["company_id"])
        self.chuzhou = UUID(office.execute(SYSTEM, CreateCompany(code="CZ", name="Chuzhou")).body["company_id"])
        excavator = UUID(office.execute(SYSTEM, RegisterMachineModel(
            code="SY215C", name="SY215C excavator", machine_type=MachineType.EXCAVATOR))
                         .body["model_id"])
        self.salesperson_id = UUID(office.execute(SYSTEM, CreateUser(
            username="sales.hf", display_name="Sales", password=PASSWORD, roles=[Role.SALESPERSON])).body["user_id"])
        self.manager_id = UUID(office.execute(SYSTEM, CreateUser(
            username="manager.hf", display_name="Manager", password=PASSWORD, roles=[Role.APPROVER])).body["user_id"])
        self.clerk, self.finance, self.approver = _person("clerk"), _person("finance"), _person("approver")
        office.execute(SYSTEM, SetApprovalRule(
            document_type=DocumentType.SALES_CONTRACT, company_id=None,
            bands=[
            AmountBand(D("0.00"), (ApprovalStep("Manager", Role.APPROVER),))]))
        office.execute(SYSTEM, DefineCustomerType(code="FORMAL", name="Formal"))

        def customer(company: UUID, name: str) -> UUID:
            return UUID(office.execute(SYSTEM, CreateCustomer(
                company_id=company, name=name, kind=PartyKind.ORGANISATION,
                customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])

        self.buyer = customer(self.hefei, "Buyer")
        self.other_buyer = customer(self.hefei, "Other buyer")           # same company, not the buyer
        self.far_buyer = customer(self.chuzhou, "Chuzhou buyer")          # another company
        self.contact = UUID(office.execute(SYSTEM, CreateContact(
            company_id=self.hefei, name="Buyer's foreman"))
                            .body["contact_id"])
        office.execute(SYSTEM, LinkContactToCustomer(customer_id=self.buyer, contact_id=self.contact))
        # Holders a coupon may be given to, by company.
        self.holders: dict[str, dict[str, tuple[HolderKind, UUID]]] = {
            "HF": {"buyer": (HolderKind.CUSTOMER, self.buyer), "contact": (HolderKind.CONTACT, self.contact),
                   "other": (HolderKind.CUSTOMER, self.other_buyer)},
            "CZ": {"far": (HolderKind.CUSTOMER, self.far_buyer)},
        }
        self.contracts: list[UUID] = []
        cash = CommercialTerms(PaymentMethod.CASH, D("0.00"), None, D("0.00"), None, (), ())
        for price in ("40000.00", "65000.00", "90000.00"):
            contract = UUID(office.execute(SYSTEM, DraftContract(
                company_id=self.hefei, customer_id=self.buyer, contact_id=None,
                lines=[
                ContractLineRequest(excavator, 1, D(price))])).body["contract_id"])
            office.execute(SYSTEM, SubmitContractToClerk(contract_id=contract))
            office.execute(SYSTEM, CompleteContractTerms.of(contract, cash))
            office.execute(SYSTEM, SubmitContractForApproval(contract_id=contract))
            office.execute(self.approver, ApproveContract(contract_id=contract))
            self.contracts.append(contract)
        self.coupons: dict[str, CouponModel] = {}
        self.receipts: dict[UUID, tuple[UUID, ReceiptStatus, dict[str, Decimal]]] = {}
        self.serial = 0
        for origin, holder, face, paid, validity in (
                (CouponOrigin.PROMOTION, "buyer", 200000, 100000, "open"),
                (CouponOrigin.GIFT, "contact", 50000, 0, "open"),
                (CouponOrigin.PROMOTION, "buyer", 150000, 80000, "window"),
                (CouponOrigin.GIFT, "other", 30000, 0, "open")):
            assert self._issue(origin, "HF", holder, face, paid, validity, None), "a set-up coupon was refused"
        assert self._issue(CouponOrigin.PROMOTION, "CZ", "far", 100000, 50000, "open", None)
        self.started = True

    def teardown(self) -> None:
        try:
            live = self._dump()
            self.office.projections["coupons"].reset()
            assert self._dump() == live, "the coupons read model rebuilt from the log differs from the live one"
        finally:
            self.office.stop()
            shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------ helpers
    def _events(self) -> int:
        return self.office.ledger.recorder.max_notification_id() or 0

    def _attempt(self, command, expected: bool, what: str) -> bool:
        """Runs a command; a refusal must record nothing, and the outcome must be the one the
        model predicts."""
        before = self._events()
        try:
            command()
        except DomainError as error:
            assert self._events() == before, f"{what}: the refused command recorded something"
            assert not expected, f"{what}: refused ({error.code}: {error}) though the model expected it taken"
            if self.started:
                event(f"{what.split()[0]}: refused ({error.code})")
            return False
        assert self._events() > before, f"{what}: taken but recorded nothing"
        assert expected, f"{what}: taken though the model expected a refusal"
        if self.started:
            event(f"{what.split()[0]}: taken")
        return True

    def _validity(self, option: str) -> tuple[date | None, date | None]:
        return {"open": (None, None),
                "window": (START, self.day + timedelta(days=15)),
                "later": (self.day + timedelta(days=5), None),
                "expired": (None, self.day - timedelta(days=1)),
                "bad": (self.day + timedelta(days=5), self.day)}[option]

    def _issue(self, origin: CouponOrigin, company: str, holder: str, face_fen: int, paid_fen: int,
               validity: str, note: str | None, code: str | None = None) -> bool:
        fresh = code is None
        if fresh:
            self.serial += 1
            code = f"K{self.serial}"
        face, paid = _money(face_fen), _money(paid_fen)
        valid_from, valid_until = self._validity(validity)
        kind, holder_id = self.holders[company][holder]
        expected = (fresh and face > 0 and (0 < paid <= face if origin == CouponOrigin.PROMOTION else paid == 0)
                    and validity != "bad")
        promised_by = self.salesperson_id if origin == CouponOrigin.GIFT else None
        taken = self._attempt(
            lambda: self.office.execute(self.finance, IssueCoupon(
                code=code, company_id=self.hefei if company == "HF" else self.chuzhou, origin=origin,
                holder_kind=kind, holder_id=holder_id, face_value=face, amount_paid=paid,
                valid_from=valid_from, valid_until=valid_until, promised_by=promised_by, note=note,
                reason="Referral reward" if origin == CouponOrigin.GIFT else None)),
            expected, f"issue {code} {origin} face {face} paid {paid} {validity}")
        if taken:
            self.coupons[code] = CouponModel(code, company, origin, face, paid, (kind, holder_id), valid_from,
                                             valid_until, note, issued_on=self.day)
        return taken

    def _usable(self, model: CouponModel, on: date) -> bool:
        """The buyer may spend it on a receipt of that value date (balance aside)."""
        return (model.active and model.company == "HF" and model.holder in (
            (HolderKind.CUSTOMER, self.buyer), (HolderKind.CONTACT, self.contact)) and model.valid_on(on))

    def _code(self, pick: int) -> str:
        codes = sorted(self.coupons)
        return codes[pick % len(codes)]

    def _debt(self, contract: UUID) -> Debt:
        debt = self.office.commands.find(ids.debt_id(contract), Debt)
        assert debt is not None
        return debt

    def _coupon(self, code: str) -> Coupon:
        coupon = self.office.commands.find(ids.coupon_id(code), Coupon)
        assert coupon is not None, f"coupon {code} is missing"
        return coupon

    def _adjusted_and_voided(self, coupon: Coupon) -> tuple[Decimal, Decimal]:
        """The adjustments and voids of a coupon, from its own events."""
        adjusted = voided = ZERO
        for fact in self.office.ledger.events.get(coupon.id):
            if isinstance(fact, Coupon.Adjusted):
                adjusted += fact.amount
            elif isinstance(fact, Coupon.Voided):
                voided += fact.amount
        return adjusted, voided

    # In the order they were recorded (receipt ids are random: sorting by them would make the
    # choices of one example differ from run to run).
    def _waiting(self) -> list[UUID]:
        return [r for r, (_, status, _) in self.receipts.items() if status == ReceiptStatus.RECORDED]

    def _confirmed(self) -> list[UUID]:
        return [r for r, (_, status, _) in self.receipts.items() if status == ReceiptStatus.CONFIRMED]

    def _dump(self) -> dict[str, list]:
        self.office.catch_up()
        with self.office.read() as cur:
            tables = {}
            for table in coupons_view.CouponsProjection.tables:
                cur.execute(f"SELECT * FROM {table}")
                tables[table] = sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in cur.fetchall())
        return tables

    # ------------------------------------------------------------ rules
    @rule(origin=st.sampled_from([CouponOrigin.PROMOTION, CouponOrigin.GIFT]),
          holder=st.sampled_from(["buyer", "buyer", "contact", "other"]),
          face=st.integers(1, 300000), paid_share=st.integers(0, 110), validity=st.sampled_from(VALIDITY),
          note=st.sampled_from([None, "Spring promotion"]), reuse=st.none() | st.integers(0, 20))
    def a_coupon_is_issued(self, origin: CouponOrigin, holder: str, face: int, paid_share: int, validity: str,
                           note: str | None, reuse: int | None) -> None:
        paid = face * paid_share // 100 if origin == CouponOrigin.PROMOTION else 0
        # Now and then a code already taken, written in lower case: refused.
        code = self._code(reuse).lower() if reuse is not None and reuse % 4 == 0 else None
        self._issue(origin, "HF", holder, face, paid, validity, note, code)

    @rule(n=st.integers(0, 2), uses=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 130), st.booleans()),
                                               min_size=1, max_size=2),
          how=st.sampled_from(["coupons only", "plus cash", "plus cash", "all owed", "over owed", "over owed",
                               "under coupons"]),
          cash=st.integers(1, 1000000), back=st.integers(0, 20), unknown=st.integers(0, 9),
          odd=st.sampled_from([None, None, None, None, None, D("0.00"), D("-5.00"), D("0.005")]))
    def a_receipt_is_recorded_with_coupons(self, n: int, uses: list[tuple[int, int, bool]], how: str, cash: int,
                                           back: int, unknown: int, odd: Decimal | None) -> None:
        """Anything goes: coupons of others, voided, expired, beyond their balance, twice the same,
        an unknown code, an odd amount (zero, negative, a fraction of a fen), beyond what is owed."""
        self._record(n, uses, how, cash, back, unknown, odd)

    @rule(n=st.integers(0, 2), uses=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 100), st.just(True)),
                                               min_size=1, max_size=2),
          how=st.sampled_from(["coupons only", "plus cash", "plus cash"]), cash=st.integers(1, 500000),
          back=st.integers(0, 5))
    def the_buyer_spends_what_is_left_on_a_coupon(self, n: int, uses: list[tuple[int, int, bool]], how: str,
                                                  cash: int, back: int) -> None:
        """Mostly taken: coupons the buyer may spend, within their balance."""
        self._record(n, uses, how, cash, back, unknown=-1)

    def _record(self, n: int, uses: list[tuple[int, int, bool]], how: str, cash: int, back: int,
                unknown: int, odd: Decimal | None = None) -> None:
        contract = self.contracts[n]
        debt = self._debt(contract)
        value_date = max(self.day - timedelta(days=back), START)
        # Half the picks are among the coupons the buyer may spend that day, for at most their balance.
        spendable = sorted(c for c, m in self.coupons.items() if self._usable(m, value_date) and m.balance > 0)
        used: list[tuple[str, Decimal]] = []
        for pick, share, good in uses:
            if unknown == 0:
                used.append(("NO-SUCH-COUPON", D("1.00")))
                unknown = -1
                continue
            fresh = [c for c in spendable if c not in {ids.normalise_key(u) for u, _ in used}]
            if good and fresh:
                code, share = fresh[pick % len(fresh)], min(share, 100)
            else:
                code = self._code(pick)
            model = self.coupons[code]
            amount = max((model.balance * share / 100).quantize(CENT), CENT)
            used.append((code if pick % 3 else code.lower(), amount if odd is None or used else odd))
        coupon_total = sum((a for _, a in used), ZERO)
        waiting = sum((r.amount for r in debt.receipts.values() if r.status == ReceiptStatus.RECORDED), ZERO)
        owed = debt.total_outstanding - waiting
        amount = {"coupons only": coupon_total, "plus cash": coupon_total + _money(cash),
                  "all owed": max(owed, coupon_total), "over owed": max(owed, coupon_total) + CENT,
                  "under coupons": coupon_total - CENT}[how]
        codes = [ids.normalise_key(c) for c, _ in used]

        def usable(code: str, taken: Decimal) -> bool:
            model = self.coupons.get(code)
            return model is not None and self._usable(model, value_date) and 0 < taken <= model.balance

        expected = (odd is None and amount > 0 and len(set(codes)) == len(codes) and coupon_total <= amount <= owed
                    and all(usable(c, a) for c, a in zip(codes, (a for _, a in used))))
        recorded: dict[str, str] = {}

        def record() -> None:
            recorded.update(self.office.execute(self.clerk, RecordReceipt(
                contract_id=contract, amount=amount, value_date=value_date, method=ReceiptMethod.CASH,
                coupons=[CouponPart(code=c, amount=a) for c, a in used])).body)

        if self._attempt(record, expected, f"receipt {amount} on contract {n} ({value_date}, owed {owed}) "
                                           f"with coupons {used}"):
            receipt = UUID(recorded["receipt_id"])
            taken = dict(zip(codes, (a for _, a in used)))
            for code, coupon_amount in taken.items():
                self.coupons[code].uses[receipt] = coupon_amount
            self.receipts[receipt] = (contract, ReceiptStatus.RECORDED, taken)

    @precondition(lambda self: self._waiting())
    @rule(pick=st.integers(0, 20), how=st.sampled_from(["confirm", "confirm", "reject"]))
    def finance_decides(self, pick: int, how: str) -> None:
        waiting = self._waiting()
        if not waiting:
            return
        receipt = waiting[pick % len(waiting)]
        contract, _, taken = self.receipts[receipt]
        if how == "confirm":
            self._attempt(lambda: self.office.execute(self.finance, ConfirmReceipt(
                contract_id=contract, receipt_id=receipt)), True,
                          f"confirm {receipt}")
            self.receipts[receipt] = (contract, ReceiptStatus.CONFIRMED, taken)
            return
        self._attempt(lambda: self.office.execute(self.finance, RejectReceipt(
            contract_id=contract, receipt_id=receipt, reason="Coupon not shown")), True,
                      f"reject {receipt}")
        self.receipts[receipt] = (contract, ReceiptStatus.REJECTED, taken)
        for code in taken:
            del self.coupons[code].uses[receipt]

    @precondition(lambda self: self._confirmed())
    @rule(pick=st.integers(0, 20), which=st.sampled_from(["waiting", "confirmed", "confirmed"]))
    def finance_reverses(self, pick: int, which: str) -> None:
        receipts = self._confirmed() if which == "confirmed" else self._waiting()
        if not receipts:
            return
        receipt = receipts[pick % len(receipts)]
        contract, status, taken = self.receipts[receipt]
        expected = status == ReceiptStatus.CONFIRMED      # only a confirmed receipt is reversed
        if self._attempt(lambda: self.office.execute(self.finance, ReverseReceipt(
            contract_id=contract, receipt_id=receipt, reason="Bounced")),
                         expected, f"reverse {status} {receipt}"):
            self.receipts[receipt] = (contract, ReceiptStatus.REVERSED, taken)
            for code in taken:
                del self.coupons[code].uses[receipt]

    @rule(pick=st.integers(0, 50), fen=st.integers(-300000, 300000),
          approved=st.sampled_from(["manager", "manager", "salesperson"]))
    def a_coupon_is_adjusted(self, pick: int, fen: int, approved: str) -> None:
        code = self._code(pick)
        model = self.coupons[code]
        if fen < 0 and pick % 2:
            fen = -int(model.balance * 100) + (pick % 3 - 1)      # down to just above, at or below zero
        amount = _money(fen)
        expected = model.active and amount != 0 and approved == "manager" and model.balance + amount >= 0
        if self._attempt(lambda: self.office.execute(self.finance, AdjustCoupon(
            code=code, amount=amount,
            approved_by=self.manager_id if approved == "manager" else self.salesperson_id,
            reason="Goodwill correction")), expected, f"adjust {code} by {amount} (balance {model.balance})"):
            model.adjusted += amount

    @rule(pick=st.integers(0, 50), active_one=st.booleans())
    def a_coupon_is_voided(self, pick: int, active_one: bool) -> None:
        active = sorted(c for c, m in self.coupons.items() if m.active)
        code = active[pick % len(active)] if active_one and active else self._code(pick)
        model = self.coupons[code]
        expected = model.active and not model.uses
        if self._attempt(lambda: self.office.execute(self.finance, VoidCoupon(
            code=code, reason="Printed by mistake")),
                         expected, f"void {code} (uses {model.uses})"):
            model.voided += model.balance
            model.active = False

    @rule(pick=st.integers(0, 50), holder=st.sampled_from(["buyer", "contact", "other", "far"]),
          validity=st.sampled_from(VALIDITY), note=st.sampled_from([None, "Spring promotion", "Moved"]),
          keep_validity=st.booleans())
    def a_coupons_details_change(self, pick: int, holder: str, validity: str, note: str | None,
                                 keep_validity: bool) -> None:
        code = self._code(pick)
        model = self.coupons[code]
        valid_from, valid_until = ((model.valid_from, model.valid_until) if keep_validity
                                   else self._validity(validity))
        company = next(c for c, names in self.holders.items() if holder in names)
        kind, holder_id = self.holders[company][holder]
        expected = (model.active and company == model.company
                    and not (valid_from and valid_until and valid_until < valid_from)
                    and ((kind, holder_id), valid_from, valid_until, note)
                    != (model.holder, model.valid_from, model.valid_until, model.note))
        if self._attempt(lambda: self.office.execute(self.finance, ChangeCouponDetails(
            code=code, holder_kind=kind, holder_id=holder_id, valid_from=valid_from, valid_until=valid_until,
            note=note, reason="Customer asked")),
                expected, f"change {code} to {holder} {valid_from}..{valid_until} {note!r}"):
            model.holder, model.valid_from, model.valid_until, model.note = ((kind, holder_id), valid_from,
                                                                             valid_until, note)

    @rule(days=st.integers(1, 10))
    def days_pass(self, days: int) -> None:
        self.day += timedelta(days=days)

    # ------------------------------------------------------------ invariants
    @invariant()
    def every_coupon_adds_up_and_is_what_the_model_expects(self) -> None:
        taken_by_receipts: dict[UUID, dict[UUID, Decimal]] = defaultdict(dict)
        for contract in self.contracts:
            for receipt in self._debt(contract).receipts.values():
                if receipt.status in ACTIVE_RECEIPT:
                    for use in receipt.coupons:
                        taken_by_receipts[use.coupon_id][receipt.receipt_id] = use.amount
        for code, model in self.coupons.items():
            coupon = self._coupon(code)
            adjusted, voided = self._adjusted_and_voided(coupon)
            assert coupon.face_value + adjusted == coupon.redeemed + coupon.balance + voided, \
                f"{code}: face + adjustments != redeemed + balance + voided"
            assert coupon.balance >= 0, f"{code}: negative balance {coupon.balance}"
            assert coupon.redeemed == sum(taken_by_receipts[coupon.id].values(), ZERO), \
                f"{code}: redeemed {coupon.redeemed} is not what the active receipts take"
            assert coupon.uses == taken_by_receipts[coupon.id], f"{code}: uses differ from the active receipts"
            assert (coupon.balance, coupon.redeemed, adjusted, voided, str(coupon.status)) == (
                model.balance, model.redeemed, model.adjusted, model.voided, "active" if model.active else "voided")
            assert coupon.uses == model.uses
            assert ((coupon.holder.kind, coupon.holder.holder_id), coupon.valid_from, coupon.valid_until) == (
                model.holder, model.valid_from, model.valid_until)

    @invariant()
    def the_read_model_equals_the_coupons(self) -> None:
        self.office.catch_up()
        totals: dict[tuple[str, str], dict[str, Decimal | int]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        with self.office.read() as cur:
            for code, model in self.coupons.items():
                coupon = self._coupon(code)
                adjusted, voided = self._adjusted_and_voided(coupon)
                row = coupons_view.get_coupon(cur, EVERYTHING, coupon.id)
                assert row is not None, f"{code} is not in the read model"
                assert (row["code"], row["face_value"], row["amount_paid"], row["adjusted"], row["redeemed"],
                        row["voided"], row["balance"], row["status"]) == (
                    coupon.code, coupon.face_value, model.paid, adjusted, coupon.redeemed, voided, coupon.balance,
                    str(coupon.status)), f"{code}: the read model differs from the coupon"
                assert (str(row["holder_id"]), row["holder_kind"]) == (str(coupon.holder.holder_id),
                                                                      str(coupon.holder.kind))
                usage = coupons_view.coupon_usage(cur, row["coupon_id"])
                assert len(usage) == coupon.version, f"{code}: one usage row per event"
                assert usage[-1]["balance_after"] == coupon.balance
                moves = sum((u["amount"] for u in usage), ZERO)
                assert moves == coupon.balance, f"{code}: the usage history adds up to {moves}, not the balance"
                group = totals[(str(coupon.company_id), str(coupon.origin))]
                group["coupons"] += 1
                for key, value in (("issued", coupon.face_value), ("amount_paid", model.paid),
                                   ("adjusted", adjusted), ("redeemed", coupon.redeemed), ("voided", voided),
                                   ("outstanding", coupon.balance)):
                    group[key] += value
            summary = coupons_view.coupon_summary(cur, EVERYTHING)
        shown = {(str(r["company_id"]), r["origin"]): {k: r[k] for k in ("coupons", "issued", "amount_paid",
                                                                          "adjusted", "redeemed", "voided",
                                                                          "outstanding")} for r in summary}
        assert shown == {k: dict(v) for k, v in totals.items()}, "coupon_summary does not add up the coupons"


TestCouponsOnTheStore = CouponsOnTheStore.TestCase
TestCouponsOnTheStore.settings = hsettings(max_examples=120, stateful_step_count=40, deadline=None)
