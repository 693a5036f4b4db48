"""The receivables read model: its tables and how each event changes them (the package's
docstring says what the tables hold)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.collection import CollectionApplication
from domain.machines import MachineUnit
from domain.receivables import Debt, DebtItem, PenaltyPolicy, PenaltyRate
from projections.base import Projection, handles
from projections.receivables.amounts import _as_date, _json_decode, _json_encode, fen, yuan


class ReceivablesProjection(Projection):
    name = "receivables"
    version = 3   # 2: collection (collector, logs, applications, waivers, locks, settlement); 3: coupons on receipts
    tables = ("receivables", "receivable_items", "receivable_receipts", "receivable_allocations",
              "receivable_entries", "penalty_rates", "collection_logs", "collection_applications")
    ddl = (
        "CREATE TABLE IF NOT EXISTS receivables (debt_id {uuid} PRIMARY KEY, contract_id {uuid} NOT NULL,"
        " contract_number TEXT NOT NULL, company_id {uuid} NOT NULL, customer_id {uuid} NOT NULL,"
        " owner_id {uuid} NOT NULL, status TEXT NOT NULL, payment TEXT NOT NULL, schedule_method TEXT,"
        " schedule_pending {bool} NOT NULL, financed_fen {bigint} NOT NULL, received_fen {bigint} NOT NULL,"
        " penalty_accrued_fen {bigint} NOT NULL, penalty_received_fen {bigint} NOT NULL,"
        " penalty_waived_fen {bigint} NOT NULL, penalty_accrued_through {date}, opened_on {date} NOT NULL,"
        " last_change_on {date} NOT NULL, version INTEGER NOT NULL, collector_id {uuid}, collector_name TEXT,"
        " collector_assigned_on {date}, last_contact_date {date}, last_contact_result TEXT, promised_date {date},"
        " promised_amount_fen {bigint}, locked_machines INTEGER NOT NULL DEFAULT 0, settled_on {date},"
        " documents_released_on {date}, invoice_number TEXT, certificate_number TEXT)",
        "CREATE INDEX IF NOT EXISTS receivables_collector ON receivables (collector_id)",
        "CREATE UNIQUE INDEX IF NOT EXISTS receivables_contract ON receivables (contract_id)",
        "CREATE INDEX IF NOT EXISTS receivables_company ON receivables (company_id, status)",
        "CREATE INDEX IF NOT EXISTS receivables_customer ON receivables (customer_id)",
        "CREATE TABLE IF NOT EXISTS receivable_items (debt_id {uuid} NOT NULL, item_key TEXT NOT NULL,"
        " kind TEXT NOT NULL, due_date {date} NOT NULL, principal_fen {bigint} NOT NULL,"
        " interest_fen {bigint} NOT NULL, principal_paid_fen {bigint} NOT NULL, interest_paid_fen {bigint} NOT NULL,"
        " unpaid_fen {bigint} NOT NULL, penalty_accrued_fen {bigint} NOT NULL, penalty_paid_fen {bigint} NOT NULL,"
        " penalty_waived_fen {bigint} NOT NULL DEFAULT 0, PRIMARY KEY (debt_id, item_key))",
        "CREATE INDEX IF NOT EXISTS receivable_items_due ON receivable_items (due_date, debt_id)",
        "CREATE TABLE IF NOT EXISTS receivable_receipts (receipt_id {uuid} PRIMARY KEY, debt_id {uuid} NOT NULL,"
        " contract_id {uuid} NOT NULL, contract_number TEXT NOT NULL, company_id {uuid} NOT NULL,"
        " customer_id {uuid} NOT NULL, owner_id {uuid} NOT NULL, amount_fen {bigint} NOT NULL,"
        " value_date {date} NOT NULL, method TEXT NOT NULL, reference TEXT, allocate_to TEXT NOT NULL,"
        " status TEXT NOT NULL, recorded_on {date} NOT NULL, recorded_by {uuid} NOT NULL, decided_on {date},"
        " decided_by {uuid}, reason TEXT, penalty_last {bool} NOT NULL DEFAULT FALSE,"
        " coupon_fen {bigint} NOT NULL DEFAULT 0, coupons_json TEXT)",
        "CREATE INDEX IF NOT EXISTS receivable_receipts_status ON receivable_receipts (company_id, status, recorded_on)",
        "CREATE INDEX IF NOT EXISTS receivable_receipts_debt ON receivable_receipts (debt_id)",
        "CREATE TABLE IF NOT EXISTS receivable_allocations (receipt_id {uuid} NOT NULL, item_key TEXT NOT NULL,"
        " debt_id {uuid} NOT NULL, penalty_fen {bigint} NOT NULL, interest_fen {bigint} NOT NULL,"
        " principal_fen {bigint} NOT NULL, PRIMARY KEY (receipt_id, item_key))",
        "CREATE TABLE IF NOT EXISTS receivable_entries (debt_id {uuid} NOT NULL, seq {bigint} NOT NULL,"
        " company_id {uuid} NOT NULL, customer_id {uuid} NOT NULL, owner_id {uuid} NOT NULL,"
        " contract_number TEXT NOT NULL, entry_date {date} NOT NULL, kind TEXT NOT NULL, item_key TEXT,"
        " receipt_id {uuid}, description TEXT NOT NULL, debit_fen {bigint} NOT NULL, credit_fen {bigint} NOT NULL,"
        " PRIMARY KEY (debt_id, seq))",
        "CREATE INDEX IF NOT EXISTS receivable_entries_customer ON receivable_entries (customer_id, entry_date)",
        "CREATE TABLE IF NOT EXISTS penalty_rates (company_id {uuid} NOT NULL, effective_from {date} NOT NULL,"
        " daily_rate TEXT NOT NULL, grace_days INTEGER NOT NULL, set_on {date} NOT NULL, set_by {uuid} NOT NULL,"
        " PRIMARY KEY (company_id, effective_from))",
        "CREATE TABLE IF NOT EXISTS collection_logs (log_id {uuid} PRIMARY KEY, debt_id {uuid} NOT NULL,"
        " contract_id {uuid} NOT NULL, contract_number TEXT NOT NULL, company_id {uuid} NOT NULL,"
        " customer_id {uuid} NOT NULL, owner_id {uuid} NOT NULL, written_by {uuid} NOT NULL,"
        " contact_date {date} NOT NULL, contact_person TEXT NOT NULL, channel TEXT NOT NULL, result TEXT NOT NULL,"
        " promised_date {date}, promised_amount_fen {bigint}, written_on {date} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS collection_logs_debt ON collection_logs (debt_id, contact_date)",
        "CREATE TABLE IF NOT EXISTS collection_applications (application_id {uuid} PRIMARY KEY,"
        " debt_id {uuid} NOT NULL, contract_id {uuid} NOT NULL, contract_number TEXT NOT NULL,"
        " company_id {uuid} NOT NULL, customer_id {uuid} NOT NULL, owner_id {uuid} NOT NULL,"
        " document_type TEXT NOT NULL, serial_number TEXT, amount_fen {bigint} NOT NULL, status TEXT NOT NULL,"
        " applied_by {uuid} NOT NULL, applied_on {date} NOT NULL, statement TEXT, overdue_amount_fen {bigint} NOT NULL,"
        " days_past_due INTEGER NOT NULL, principal_outstanding_fen {bigint} NOT NULL,"
        " penalty_outstanding_fen {bigint} NOT NULL, decided_on {date}, decided_by {uuid}, decision_reason TEXT,"
        " done_on {date}, done_by {uuid}, details TEXT)",
        "CREATE INDEX IF NOT EXISTS collection_applications_debt ON collection_applications (debt_id, document_type)",
        "CREATE INDEX IF NOT EXISTS collection_applications_status ON collection_applications"
        " (company_id, status, applied_on)",
    )

    # ------------------------------------------------------------ opening and closing
    @handles(Debt.Opened)
    def opened(self, cur: Any, e: Debt.Opened) -> None:
        cur.execute("INSERT INTO receivables (debt_id, contract_id, contract_number, company_id, customer_id,"
                    " owner_id, status, payment, schedule_method, schedule_pending, financed_fen, received_fen,"
                    " penalty_accrued_fen, penalty_received_fen, penalty_waived_fen, penalty_accrued_through,"
                    " opened_on, last_change_on, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, 'open', %s, %s, %s, %s, 0, 0, 0, 0, %s, %s, %s, %s)",
                    (e.originator_id, e.contract_id, e.contract_number, e.company_id, e.customer_id, e.owner_id,
                     e.payment, e.schedule_method, e.schedule_method == "typed", fen(e.financed), e.business_date,
                     e.business_date, e.business_date, e.originator_version))
        self._items(cur, e, e.items)

    @handles(Debt.Reopened)
    def reopened(self, cur: Any, e: Debt.Reopened) -> None:
        self._clear(cur, e.originator_id)
        cur.execute("UPDATE receivables SET status = 'open', customer_id = %s, payment = %s, schedule_method = %s,"
                    " schedule_pending = %s, financed_fen = %s, received_fen = 0, penalty_accrued_fen = 0,"
                    " penalty_received_fen = 0, penalty_waived_fen = 0, penalty_accrued_through = %s,"
                    " opened_on = %s, last_change_on = %s, version = %s WHERE debt_id = %s",
                    (e.customer_id, e.payment, e.schedule_method, e.schedule_method == "typed", fen(e.financed),
                     e.business_date, e.business_date, e.business_date, e.originator_version, e.originator_id))
        self._items(cur, e, e.items)

    @handles(Debt.Closed)
    def closed(self, cur: Any, e: Debt.Closed) -> None:
        """The contract was un-approved: nothing is owed under it any more."""
        self._clear(cur, e.originator_id)
        self._touch(cur, e, status="closed")

    @staticmethod
    def _clear(cur: Any, debt_id: UUID) -> None:
        cur.execute("DELETE FROM receivable_items WHERE debt_id = %s", (debt_id,))
        cur.execute("DELETE FROM receivable_entries WHERE debt_id = %s", (debt_id,))

    @handles(Debt.ScheduleSet)
    def schedule_set(self, cur: Any, e: Debt.ScheduleSet) -> None:
        cur.execute("DELETE FROM receivable_items WHERE debt_id = %s AND kind = 'installment'", (e.originator_id,))
        cur.execute("DELETE FROM receivable_entries WHERE debt_id = %s AND kind = 'charge' AND item_key LIKE 'I%%'",
                    (e.originator_id,))
        cur.execute("UPDATE receivables SET schedule_method = %s, schedule_pending = %s WHERE debt_id = %s",
                    (e.method, False, e.originator_id))
        self._items(cur, e, e.installments)

    def _items(self, cur: Any, e: Any, items: tuple[DebtItem, ...]) -> None:
        cur.executemany("INSERT INTO receivable_items (debt_id, item_key, kind, due_date, principal_fen, interest_fen,"
                        " principal_paid_fen, interest_paid_fen, unpaid_fen, penalty_accrued_fen, penalty_paid_fen)"
                        " VALUES (%s, %s, %s, %s, %s, %s, 0, 0, %s, 0, 0)",
                        [(e.originator_id, i.key, str(i.kind), i.due_date, fen(i.principal), fen(i.interest),
                          fen(i.amount)) for i in items])
        for n, item in enumerate(items):
            label = {"down_payment": "Down payment (首付)", "installment": f"Installment {item.key[1:]} (分期款)",
                     "warranty_deposit": "Warranty deposit (质保金)", "full_payment": "Full price (全款)"}[item.kind]
            self._entry(cur, e, n, item.due_date, "charge", f"{label}: principal {item.principal}, "
                        f"interest {item.interest}", fen(item.amount), 0, item_key=item.key)
        self._touch(cur, e)

    # ------------------------------------------------------------ receipts
    @handles(Debt.ReceiptRecorded)
    def receipt_recorded(self, cur: Any, e: Debt.ReceiptRecorded) -> None:
        cur.execute("INSERT INTO receivable_receipts (receipt_id, debt_id, contract_id, contract_number, company_id,"
                    " customer_id, owner_id, amount_fen, value_date, method, reference, allocate_to, status,"
                    " recorded_on, recorded_by, penalty_last, coupon_fen, coupons_json) SELECT %s, debt_id,"
                    " contract_id, contract_number, company_id, customer_id, owner_id, %s, %s, %s, %s, %s, 'recorded',"
                    " %s, %s, %s, %s, %s FROM receivables WHERE debt_id = %s",
                    (e.receipt_id, fen(e.amount), e.value_date, e.method, e.reference, ",".join(e.allocate_to),
                     e.business_date, e.actor_id, e.penalty_last, sum(fen(c.amount) for c in e.coupons),
                     _json_encode([{"code": c.code, "amount": c.amount} for c in e.coupons]) if e.coupons else None,
                     e.originator_id))
        self._touch(cur, e)

    @handles(Debt.ReceiptRejected)
    def receipt_rejected(self, cur: Any, e: Debt.ReceiptRejected) -> None:
        self._decide(cur, e, "rejected")
        self._touch(cur, e)

    @handles(Debt.ReceiptConfirmed)
    def receipt_confirmed(self, cur: Any, e: Debt.ReceiptConfirmed) -> None:
        self._decide(cur, e, "confirmed")
        self._allocate(cur, e.originator_id, e.receipt_id, e.allocations)
        cur.execute("SELECT amount_fen, value_date, method, reference, coupon_fen FROM receivable_receipts"
                    " WHERE receipt_id = %s", (e.receipt_id,))
        r = cur.fetchone()
        paid_with = (f"{r['method']} {yuan(r['amount_fen'] - r['coupon_fen'])} and coupons {yuan(r['coupon_fen'])}"
                     if r["coupon_fen"] else r["method"])
        cur.execute("UPDATE receivables SET received_fen = received_fen + %s WHERE debt_id = %s",
                    (r["amount_fen"], e.originator_id))
        split = "; ".join(f"{a.item_key}: penalty {a.penalty}, interest {a.interest}, principal {a.principal}"
                          for a in e.allocations)
        self._entry(cur, e, 0, _as_date(r["value_date"]), "receipt",
                    f"Receipt by {paid_with}{' ' + r['reference'] if r['reference'] else ''} ({split})", 0,
                    r["amount_fen"], receipt_id=e.receipt_id)
        self._touch(cur, e)

    @handles(Debt.ReceiptReallocated)
    def receipt_reallocated(self, cur: Any, e: Debt.ReceiptReallocated) -> None:
        self._allocate(cur, e.originator_id, e.receipt_id, e.allocations)
        self._touch(cur, e)

    @handles(Debt.ReceiptReversed)
    def receipt_reversed(self, cur: Any, e: Debt.ReceiptReversed) -> None:
        self._decide(cur, e, "reversed")
        self._allocate(cur, e.originator_id, e.receipt_id, ())
        cur.execute("SELECT amount_fen, value_date FROM receivable_receipts WHERE receipt_id = %s", (e.receipt_id,))
        r = cur.fetchone()
        cur.execute("UPDATE receivables SET received_fen = received_fen - %s WHERE debt_id = %s",
                    (r["amount_fen"], e.originator_id))
        self._entry(cur, e, 0, e.business_date, "reversal",
                    f"Receipt of {_as_date(r['value_date'])} reversed: {e.reason}", r["amount_fen"], 0,
                    receipt_id=e.receipt_id)
        self._touch(cur, e)

    @staticmethod
    def _decide(cur: Any, e: Any, status: str) -> None:
        cur.execute("UPDATE receivable_receipts SET status = %s, decided_on = %s, decided_by = %s, reason = %s"
                    " WHERE receipt_id = %s", (status, e.business_date, e.actor_id, e.reason, e.receipt_id))

    @staticmethod
    def _allocate(cur: Any, debt_id: UUID, receipt_id: UUID, allocations: tuple) -> None:
        """Replaces what a receipt pays, keeping the items' paid figures and the debt's totals in step."""
        cur.execute("SELECT item_key, penalty_fen, interest_fen, principal_fen FROM receivable_allocations"
                    " WHERE receipt_id = %s", (receipt_id,))
        changes: dict[str, list[int]] = {}
        for row in cur.fetchall():
            changes[row["item_key"]] = [-row["penalty_fen"], -row["interest_fen"], -row["principal_fen"]]
        for a in allocations:
            change = changes.setdefault(a.item_key, [0, 0, 0])
            change[0] += fen(a.penalty)
            change[1] += fen(a.interest)
            change[2] += fen(a.principal)
        cur.execute("DELETE FROM receivable_allocations WHERE receipt_id = %s", (receipt_id,))
        cur.executemany("INSERT INTO receivable_allocations (receipt_id, item_key, debt_id, penalty_fen, interest_fen,"
                        " principal_fen) VALUES (%s, %s, %s, %s, %s, %s)",
                        [(receipt_id, a.item_key, debt_id, fen(a.penalty), fen(a.interest), fen(a.principal))
                         for a in allocations])
        for key, (penalty, interest, principal) in changes.items():
            cur.execute("UPDATE receivable_items SET penalty_paid_fen = penalty_paid_fen + %s,"
                        " interest_paid_fen = interest_paid_fen + %s, principal_paid_fen = principal_paid_fen + %s,"
                        " unpaid_fen = unpaid_fen - %s WHERE debt_id = %s AND item_key = %s",
                        (penalty, interest, principal, interest + principal, debt_id, key))
        total_penalty = sum(c[0] for c in changes.values())
        cur.execute("UPDATE receivables SET penalty_received_fen = penalty_received_fen + %s WHERE debt_id = %s",
                    (total_penalty, debt_id))

    # ------------------------------------------------------------ penalty
    @handles(Debt.PenaltyAccrued, Debt.PenaltyAdjusted)
    def penalty(self, cur: Any, e: Any) -> None:
        accrued = isinstance(e, Debt.PenaltyAccrued)
        for n, line in enumerate(e.lines):
            amount = fen(line.amount)
            cur.execute("UPDATE receivable_items SET penalty_accrued_fen = penalty_accrued_fen + %s"
                        " WHERE debt_id = %s AND item_key = %s", (amount, e.originator_id, line.item_key))
            days = f"{line.first_day}…{line.last_day}" if line.days > 1 else f"{line.first_day}"
            if accrued:
                text = (f"Penalty interest (罚息) {line.item_key} {days}: {line.days} day(s) × {line.daily_amount}"
                        f" ({line.daily_rate} a day on {line.overdue})")
                day = line.last_day
            else:
                text = (f"Penalty correction {line.item_key} {days}: {line.days} day(s) × {line.daily_amount}"
                        f" (after a receipt dated earlier, a reversal or a schedule change, {e.caused_by};"
                        f" overdue now {line.overdue})")
                day = e.business_date
            self._entry(cur, e, n, day, "penalty" if accrued else "penalty_correction", text,
                        max(amount, 0), max(-amount, 0), item_key=line.item_key)
        total = sum(fen(line.amount) for line in e.lines)
        extra = ", penalty_accrued_through = %s" if accrued else ""
        params: list[Any] = [total, e.business_date, e.originator_version, *([e.through] if accrued else []),
                             e.originator_id]
        cur.execute("UPDATE receivables SET penalty_accrued_fen = penalty_accrued_fen + %s, last_change_on = %s,"
                    f" version = %s{extra} WHERE debt_id = %s", params)

    # ------------------------------------------------------------ collection (催收)
    @handles(Debt.CollectorAssigned)
    def collector_assigned(self, cur: Any, e: Debt.CollectorAssigned) -> None:
        cur.execute("UPDATE receivables SET collector_id = %s, collector_name = %s, collector_assigned_on = %s"
                    " WHERE debt_id = %s", (e.collector_id, e.collector_name, e.business_date, e.originator_id))
        self._touch(cur, e)

    @handles(Debt.CollectionLogged)
    def collection_logged(self, cur: Any, e: Debt.CollectionLogged) -> None:
        log = e.log
        promised = fen(log.promised_amount) if log.promised_amount is not None else None
        cur.execute("INSERT INTO collection_logs (log_id, debt_id, contract_id, contract_number, company_id,"
                    " customer_id, owner_id, written_by, contact_date, contact_person, channel, result, promised_date,"
                    " promised_amount_fen, written_on) SELECT %s, debt_id, contract_id, contract_number, company_id,"
                    " customer_id, owner_id, %s, %s, %s, %s, %s, %s, %s, %s FROM receivables WHERE debt_id = %s",
                    (log.log_id, e.actor_id, log.contact_date, log.contact_person, str(log.channel), log.result,
                     log.promised_date, promised, e.business_date, e.originator_id))
        # The latest contact by its date (a log written late for an earlier contact does not replace it).
        cur.execute("UPDATE receivables SET last_contact_date = %s, last_contact_result = %s, promised_date = %s,"
                    " promised_amount_fen = %s WHERE debt_id = %s AND (last_contact_date IS NULL"
                    " OR last_contact_date <= %s)",
                    (log.contact_date, log.result[:500], log.promised_date, promised, e.originator_id,
                     log.contact_date))
        self._touch(cur, e)

    @handles(Debt.ApplicationOpened, Debt.ApplicationClosed)
    def application_bookkeeping(self, cur: Any, e: Any) -> None:
        self._touch(cur, e)

    @handles(Debt.PenaltyWaived)
    def penalty_waived(self, cur: Any, e: Debt.PenaltyWaived) -> None:
        for n, line in enumerate(e.lines):
            cur.execute("UPDATE receivable_items SET penalty_waived_fen = penalty_waived_fen + %s"
                        " WHERE debt_id = %s AND item_key = %s", (fen(line.amount), e.originator_id, line.item_key))
            self._entry(cur, e, n, e.business_date, "penalty_waiver",
                        f"Penalty interest waived (利息减免) {line.item_key}: application {e.application_id}", 0,
                        fen(line.amount), item_key=line.item_key)
        cur.execute("UPDATE receivables SET penalty_waived_fen = penalty_waived_fen + %s WHERE debt_id = %s",
                    (sum(fen(line.amount) for line in e.lines), e.originator_id))
        self._touch(cur, e)

    @handles(Debt.Settled)
    def settled(self, cur: Any, e: Debt.Settled) -> None:
        cur.execute("UPDATE receivables SET settled_on = %s WHERE debt_id = %s", (e.business_date, e.originator_id))
        self._touch(cur, e, status="settled")

    @handles(Debt.DocumentsReleased)
    def documents_released(self, cur: Any, e: Debt.DocumentsReleased) -> None:
        cur.execute("UPDATE receivables SET documents_released_on = %s, invoice_number = %s, certificate_number = %s"
                    " WHERE debt_id = %s", (e.business_date, e.invoice_number, e.certificate_number, e.originator_id))
        self._touch(cur, e)

    @handles(MachineUnit.Locked, MachineUnit.Unlocked, MachineUnit.RepossessionReceived)
    def machine_lock(self, cur: Any, e: Any) -> None:
        if isinstance(e, MachineUnit.RepossessionReceived) and not e.lock_lifted:
            return
        change = 1 if isinstance(e, MachineUnit.Locked) else -1
        cur.execute("UPDATE receivables SET locked_machines = locked_machines + %s WHERE contract_id = %s",
                    (change, e.contract_id))

    @handles(CollectionApplication.Applied)
    def application_made(self, cur: Any, e: CollectionApplication.Applied) -> None:
        f = e.facts
        cur.execute("INSERT INTO collection_applications (application_id, debt_id, contract_id, contract_number,"
                    " company_id, customer_id, owner_id, document_type, serial_number, amount_fen, status, applied_by,"
                    " applied_on, statement, overdue_amount_fen, days_past_due, principal_outstanding_fen,"
                    " penalty_outstanding_fen) SELECT %s, debt_id, contract_id, contract_number, company_id,"
                    " customer_id, owner_id, %s, %s, %s, 'in_approval', %s, %s, %s, %s, %s, %s, %s"
                    " FROM receivables WHERE debt_id = %s",
                    (e.originator_id, str(e.document_type), e.serial_number, fen(e.amount), e.actor_id,
                     e.business_date, e.reason, fen(f.overdue_amount), f.days_past_due,
                     fen(f.principal_outstanding), fen(f.penalty_outstanding), e.debt_id))

    @handles(CollectionApplication.Approved, CollectionApplication.Rejected)
    def application_decided(self, cur: Any, e: Any) -> None:
        status = "approved" if isinstance(e, CollectionApplication.Approved) else "rejected"
        cur.execute("UPDATE collection_applications SET status = %s, decided_on = %s, decided_by = %s,"
                    " decision_reason = %s WHERE application_id = %s",
                    (status, e.business_date, e.actor_id, e.reason, e.originator_id))

    @handles(CollectionApplication.LockRegistered, CollectionApplication.UnlockRegistered,
             CollectionApplication.TowRegistered, CollectionApplication.MachineReceivedBack)
    def application_carried_out(self, cur: Any, e: Any) -> None:
        if isinstance(e, CollectionApplication.TowRegistered):
            status, details = "towed", {"towed_on": e.towed_on, "place": e.place, "people": list(e.people)}
        elif isinstance(e, CollectionApplication.MachineReceivedBack):
            status, details = "done", {"warehouse_id": e.warehouse_id}
        elif isinstance(e, CollectionApplication.LockRegistered):
            status, details = "done", {"locked_at": e.locked_at}
        else:
            status, details = "done", {"unlocked_at": e.unlocked_at}
        cur.execute("SELECT details FROM collection_applications WHERE application_id = %s", (e.originator_id,))
        row = cur.fetchone()
        merged = {**(_json_decode(row["details"]) if row and row["details"] else {}), **details}
        cur.execute("UPDATE collection_applications SET status = %s, done_on = %s, done_by = %s, details = %s"
                    " WHERE application_id = %s",
                    (status, e.business_date, e.actor_id, _json_encode(merged), e.originator_id))

    # ------------------------------------------------------------ rates
    @handles(PenaltyPolicy.Created, PenaltyPolicy.RateSet)
    def rate_set(self, cur: Any, e: Any) -> None:
        rate: PenaltyRate = e.rate
        cur.execute("DELETE FROM penalty_rates WHERE company_id = %s AND effective_from = %s",
                    (e.company_id, rate.effective_from))
        cur.execute("INSERT INTO penalty_rates (company_id, effective_from, daily_rate, grace_days, set_on, set_by)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (e.company_id, rate.effective_from, str(rate.daily_rate), rate.grace_days, e.business_date,
                     e.actor_id))

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _entry(cur: Any, e: Any, n: int, day: date, kind: str, description: str, debit: int, credit: int,
               item_key: str | None = None, receipt_id: UUID | None = None) -> None:
        """A statement line; whose it is comes from the receivable's row (no read: nothing
        waits for an answer, which lets a batch of events go to the database in one go)."""
        cur.execute("INSERT INTO receivable_entries (debt_id, seq, company_id, customer_id, owner_id, contract_number,"
                    " entry_date, kind, item_key, receipt_id, description, debit_fen, credit_fen)"
                    " SELECT debt_id, %s, company_id, customer_id, owner_id, contract_number, %s, %s, %s, %s, %s, %s, %s"
                    " FROM receivables WHERE debt_id = %s",
                    (e.originator_version * 10_000 + n, day, kind, item_key, receipt_id, description[:500], debit,
                     credit, e.originator_id))

    @staticmethod
    def _touch(cur: Any, e: Any, status: str | None = None) -> None:
        extra, params = ("", []) if status is None else (", status = %s", [status])
        cur.execute(f"UPDATE receivables SET last_change_on = %s, version = %s{extra} WHERE debt_id = %s",
                    [e.business_date, e.originator_version, *params, e.originator_id])
