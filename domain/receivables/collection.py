"""The debt's side of collection (催收): overdue facts, collectors and their logs, the
applications of ``domain.collection`` opened and closed here, interest waivers, settlement
and the release of documents. A part of ``Debt`` (``domain.receivables.debt``), mixed in;
the events it records are ``Debt``'s."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from domain.base import Context, InvalidValueError, require_text
from domain.money import ZERO, require_money
from domain.receivables.errors import (ApplicationPendingError, DebtNotOverdueError, DebtOutstandingError,
                                       DebtStateError, DocumentsAlreadyReleasedError, NothingChangedError,
                                       PrincipalOutstandingError, WaiverExceedsPenaltyError)
from domain.receivables.values import (CollectionLog, ContactChannel, DebtStatus, OverdueFacts, ReceiptStatus,
                                       WaiverLine)


class DebtCollection:
    """Collection acts on a debt (a mixin of ``Debt``)."""

    # ------------------------------------------------------------ collection (催收)
    def overdue_facts(self, as_of: date) -> OverdueFacts:
        overdue = [k for k in self.item_order() if self.items[k].due_date < as_of and self.outstanding(k) > 0]
        oldest = overdue[0] if overdue else None
        return OverdueFacts(
            as_of=as_of,
            overdue_amount=sum((self.outstanding(k) for k in overdue), ZERO),
            days_past_due=(as_of - self.items[oldest].due_date).days if oldest else 0,
            oldest_overdue_item=oldest,
            principal_outstanding=sum((self.outstanding(k) for k in self.items), ZERO),
            penalty_outstanding=sum((self.penalty_outstanding(k) for k in self.items), ZERO))

    def require_overdue(self, ctx: Context, act: str) -> OverdueFacts:
        self._require_open(act)
        facts = self.overdue_facts(ctx.business_date)
        if facts.overdue_amount <= 0:
            raise DebtNotOverdueError(f"Nothing of contract {self.contract_number} is overdue on {ctx.business_date}; "
                                      f"it cannot be {act}.")
        return facts

    def assign_collector(self, ctx: Context, collector_id: UUID, collector_name: str) -> None:
        self.require_overdue(ctx, "given to a collector")
        if collector_id == self.collector_id:
            raise NothingChangedError(f"{collector_name} already collects contract {self.contract_number}.")
        self._record(self.CollectorAssigned, ctx, self.company_id, collector_id=collector_id,
                     collector_name=collector_name)

    def write_log(self, ctx: Context, contact_date: date, contact_person: str, channel: ContactChannel,
                  result: str, promised_date: date | None = None, promised_amount: Decimal | None = None,
                  log_id: UUID | None = None) -> UUID:
        self._require_open("given a collection log")
        if contact_date > ctx.business_date:
            raise InvalidValueError(f"The contact date {contact_date} is in the future; write the log after the "
                                    "contact.", field="contact_date")
        if contact_date < self.opened_on:
            raise InvalidValueError(f"The contact date {contact_date} is before the receivable opened "
                                    f"({self.opened_on}).", field="contact_date")
        if promised_date is not None and promised_date < contact_date:
            raise InvalidValueError("The promised payment date is on or after the contact date.",
                                    field="promised_date")
        if promised_amount is not None:
            promised_amount = require_money(promised_amount, "promised_amount", positive=True)
            if promised_date is None:
                raise InvalidValueError("A promised amount comes with the promised payment date.",
                                        field="promised_date")
        log = CollectionLog(log_id or uuid4(), contact_date, require_text(contact_person, "contact_person", 100),
                            ContactChannel(channel), require_text(result, "result", 2000), promised_date,
                            promised_amount)
        self._record(self.CollectionLogged, ctx, self.company_id, log=log)
        return log.log_id

    def open_application(self, ctx: Context, application_id: UUID, document_type: str,
                         serial_number: str | None) -> None:
        # A machine still locked when the debt is settled can be unlocked after it.
        if not (self.status == DebtStatus.SETTLED and document_type == "machine_unlock"):
            self._require_open("given a collection application")
        pending = self.pending_applications.get((document_type, serial_number))
        if pending is not None:
            what = f"{document_type.replace('_', ' ')}" + (f" of machine {serial_number}" if serial_number else "")
            raise ApplicationPendingError(f"A {what} application ({pending}) of contract {self.contract_number} is "
                                          "still open; it is decided or finished first.",
                                          application_id=str(pending))
        self._record(self.ApplicationOpened, ctx, self.company_id, application_id=application_id,
                     document_type=document_type, serial_number=serial_number)

    def close_application(self, ctx: Context, application_id: UUID, outcome: str) -> None:
        if application_id in self.pending_applications.values():
            self._record(self.ApplicationClosed, ctx, self.company_id, application_id=application_id, outcome=outcome)

    def check_waiver(self, amount: Decimal) -> Decimal:
        """利息减免 only once every item's principal and interest is received, and for no more
        than the penalty outstanding."""
        self._require_open("given a waiver")
        amount = require_money(amount, "amount", positive=True)
        if waiting := [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]:
            raise DebtOutstandingError(f"Contract {self.contract_number} has {len(waiting)} receipt(s) waiting for "
                                       "confirmation; finance confirms or rejects them before a waiver.")
        unpaid = sum((self.outstanding(k) for k in self.items), ZERO)
        if unpaid > 0:
            raise PrincipalOutstandingError(
                f"{unpaid} of principal and interest of contract {self.contract_number} is still unpaid; penalty "
                "interest is waived only once all of it is received.", principal_outstanding=unpaid)
        penalty = sum((self.penalty_outstanding(k) for k in self.items), ZERO)
        if amount > penalty:
            raise WaiverExceedsPenaltyError(f"{amount} is more than the penalty outstanding on contract "
                                            f"{self.contract_number} ({penalty}).", penalty_outstanding=penalty,
                                            field="amount")
        return amount

    def waive_penalty(self, ctx: Context, application_id: UUID, amount: Decimal) -> None:
        """Takes ``amount`` off the penalty outstanding, oldest item first."""
        left = self.check_waiver(amount)
        lines = []
        for key in self.item_order():
            take = min(left, self.penalty_outstanding(key))
            if take > 0:
                lines.append(WaiverLine(key, take))
                left -= take
        self._record(self.PenaltyWaived, ctx, self.company_id, application_id=application_id, lines=tuple(lines))
        self.close_application(ctx, application_id, "waived")

    def check_settlement(self, application_id: UUID | None = None) -> None:
        self._require_open("settled")
        if others := [a for a in self.pending_applications.values() if a != application_id]:
            raise DebtOutstandingError(f"Contract {self.contract_number} has {len(others)} collection application(s) "
                                       f"still open ({', '.join(map(str, others))}); they are decided or finished "
                                       "before settlement.", application_id=str(others[0]))
        if waiting := [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]:
            raise DebtOutstandingError(f"Contract {self.contract_number} has {len(waiting)} receipt(s) waiting for "
                                       "confirmation; finance confirms or rejects them before settlement.")
        owed = {k: self.outstanding(k) + self.penalty_outstanding(k) for k in self.item_order()}
        if owed := {k: v for k, v in owed.items() if v > 0}:
            raise DebtOutstandingError(
                f"Contract {self.contract_number} still owes {sum(owed.values(), ZERO)} "
                f"({', '.join(f'{k} {v}' for k, v in owed.items())}); it is settled once everything is received "
                "or waived.", outstanding=sum(owed.values(), ZERO))

    def settle(self, ctx: Context, application_id: UUID) -> None:
        self.check_settlement(application_id)
        self._record(self.Settled, ctx, self.company_id, application_id=application_id)
        self.close_application(ctx, application_id, "settled")

    def release_documents(self, ctx: Context, invoice_number: str, certificate_number: str, released_to: str) -> None:
        if self.status != DebtStatus.SETTLED:
            raise DebtStateError(f"The receivable of contract {self.contract_number} is {self.status}; the invoice "
                                 "and certificate are released after settlement.", state=str(self.status))
        if self.documents_released:
            raise DocumentsAlreadyReleasedError(f"The documents of contract {self.contract_number} were already "
                                                "released.")
        self._record(self.DocumentsReleased, ctx, self.company_id,
                     invoice_number=require_text(invoice_number, "invoice_number", 100),
                     certificate_number=require_text(certificate_number, "certificate_number", 100),
                     released_to=require_text(released_to, "released_to", 100))
