"""Receivables (应收): per contract, its items and receipts, aging, per-customer statements.

Amounts in these tables are **integers in fen** (columns ending ``_fen``; 1 yuan =
100 fen) so that sums are exact in SQL on both stores (SQLite has no exact
decimal). Queries give them back as yuan with two places.

What depends on the day asked about (overdue amount, days past due, aging bucket,
next due item) is computed at query time from the items' due dates and unpaid
amounts, ``as_of`` a date (default: today's business date):

- an item is **overdue** on day X when its due date is before X and it is unpaid;
- **days past due** = X − the oldest overdue item's due date;
- **aging bucket**: current (nothing overdue), 1–30, 31–60, 61–90, 91–180, over 180.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from domain.access import Scope
from domain.collection import CollectionApplication
from domain.machines import MachineUnit
from domain.receivables import Debt, DebtItem, PenaltyPolicy, PenaltyRate
from projections.base import Projection, handles, page_bounds, visible_filter


def fen(amount: Decimal) -> int:
    return int(amount * 100)


def yuan(value: int | None) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


BUCKETS = (("current", None, None), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90),
           ("91-180", 91, 180), ("over-180", 181, None))


def bucket_of(days_past_due: int) -> str:
    for name, low, high in BUCKETS:
        if low is None and days_past_due <= 0:
            return name
        if low is not None and days_past_due >= low and (high is None or days_past_due <= high):
            return name
    raise AssertionError(days_past_due)


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


_encoder = msgspec.json.Encoder(decimal_format="string")


def _json_encode(value: Any) -> str:
    return _encoder.encode(value).decode()


def _json_decode(text: str) -> Any:
    return msgspec.json.decode(text)


def _opt_date(value: Any) -> date | None:
    return None if value is None else _as_date(value)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# ================================================================ queries
@dataclass(frozen=True)
class ReceivableFilter:
    company_id: UUID | None = None
    customer_id: UUID | None = None
    owner_id: UUID | None = None
    status: str | None = None
    aging: str | None = None          # one of BUCKETS' names
    overdue_only: bool = False
    collector_id: UUID | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_UNPAID = "i.unpaid_fen > 0"


def _figures(as_of: date) -> tuple[str, list[Any]]:
    """Per receivable: its own columns plus what depends on the day asked about."""
    sql = (
        "SELECT r.debt_id, r.contract_id, r.contract_number, r.company_id, c.code AS company_code,"
        " r.customer_id, cu.name AS customer_name, r.owner_id, u.username AS salesperson, r.status, r.payment,"
        " r.schedule_method, r.schedule_pending, r.financed_fen, r.received_fen, r.penalty_accrued_fen,"
        " r.penalty_received_fen, r.penalty_waived_fen, r.penalty_accrued_through, r.opened_on, r.last_change_on,"
        " r.collector_id, r.collector_name, r.collector_assigned_on, r.last_contact_date, r.last_contact_result,"
        " r.promised_date, r.promised_amount_fen, r.locked_machines, r.settled_on, r.documents_released_on,"
        " (SELECT MAX(a.status) FROM collection_applications a WHERE a.debt_id = r.debt_id"
        "   AND a.document_type = 'tow' AND a.status IN ('in_approval', 'approved', 'towed')) AS tow_state,"
        " (SELECT COUNT(*) FROM collection_applications a WHERE a.debt_id = r.debt_id"
        "   AND a.status IN ('in_approval', 'approved', 'towed')) AS open_applications,"
        " (SELECT COALESCE(SUM(i.principal_fen + i.interest_fen), 0) FROM receivable_items i"
        "   WHERE i.debt_id = r.debt_id) AS charged_fen,"
        " (SELECT COALESCE(SUM(i.principal_fen - i.principal_paid_fen), 0) FROM receivable_items i"
        "   WHERE i.debt_id = r.debt_id) AS principal_outstanding_fen,"
        " (SELECT COALESCE(SUM(i.unpaid_fen), 0) FROM receivable_items i WHERE i.debt_id = r.debt_id)"
        "   AS outstanding_fen,"
        f" (SELECT COALESCE(SUM(i.unpaid_fen), 0) FROM receivable_items i WHERE i.debt_id = r.debt_id"
        f"   AND i.due_date < %s) AS overdue_fen,"
        f" (SELECT MIN(i.due_date) FROM receivable_items i WHERE i.debt_id = r.debt_id AND {_UNPAID}"
        f"   AND i.due_date < %s) AS oldest_overdue_date,"
        f" (SELECT MIN(i.due_date) FROM receivable_items i WHERE i.debt_id = r.debt_id AND {_UNPAID}"
        f"   AND i.due_date >= %s) AS next_due_date"
        " FROM receivables r LEFT JOIN org_companies c ON c.company_id = r.company_id"
        " LEFT JOIN customers cu ON cu.customer_id = r.customer_id"
        " LEFT JOIN access_users u ON u.user_id = r.owner_id")
    return sql, [as_of, as_of, as_of]


def _where(scope: Scope, own_only: UUID | None, flt: ReceivableFilter, as_of: date) -> tuple[str, list[Any]]:
    where, params = visible_filter(scope, "x.company_id", "x.owner_id", own_only)
    for column, value in (("x.company_id", flt.company_id), ("x.customer_id", flt.customer_id),
                          ("x.owner_id", flt.owner_id), ("x.status", flt.status),
                          ("x.collector_id", flt.collector_id)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    if flt.overdue_only:
        where += " AND x.oldest_overdue_date IS NOT NULL"
    if flt.aging is not None:
        low, high = next((lo, hi) for name, lo, hi in BUCKETS if name == flt.aging)
        if low is None:
            where += " AND x.oldest_overdue_date IS NULL"
        else:
            where += " AND x.oldest_overdue_date <= %s"
            params.append(as_of - timedelta(days=low))
            if high is not None:
                where += " AND x.oldest_overdue_date >= %s"
                params.append(as_of - timedelta(days=high))
    return where, params


def _shape(row: dict[str, Any], as_of: date) -> dict[str, Any]:
    oldest = row.pop("oldest_overdue_date")
    oldest = _as_date(oldest) if oldest is not None else None
    next_due = row.pop("next_due_date")
    days = (as_of - oldest).days if oldest is not None else 0
    penalty_outstanding = row["penalty_accrued_fen"] - row["penalty_received_fen"] - row["penalty_waived_fen"]
    shaped = {k: v for k, v in row.items() if not k.endswith("_fen")}
    shaped.update({
        "schedule_pending": bool(row["schedule_pending"]),
        "as_of": as_of,
        "financed": yuan(row["financed_fen"]),
        "charged": yuan(row["charged_fen"]),
        "received": yuan(row["received_fen"]),
        "principal_outstanding": yuan(row["principal_outstanding_fen"]),
        "outstanding": yuan(row["outstanding_fen"]),
        "overdue_amount": yuan(row["overdue_fen"]),
        "penalty_accrued": yuan(row["penalty_accrued_fen"]),
        "penalty_received": yuan(row["penalty_received_fen"]),
        "penalty_waived": yuan(row["penalty_waived_fen"]),
        "penalty_outstanding": yuan(penalty_outstanding),
        "next_due_date": _as_date(next_due) if next_due is not None else None,
        "oldest_overdue_date": oldest,
        "days_past_due": days,
        "aging_bucket": bucket_of(days),
        "collection": {
            "collector_id": row["collector_id"],
            "collector_name": row["collector_name"],
            "assigned_on": _opt_date(row["collector_assigned_on"]),
            "last_contact_date": _opt_date(row["last_contact_date"]),
            "last_contact_result": row["last_contact_result"],
            "promised_date": _opt_date(row["promised_date"]),
            "promised_amount": yuan(row["promised_amount_fen"]) if row["promised_amount_fen"] is not None else None,
            "locked": row["locked_machines"] > 0,
            "locked_machines": row["locked_machines"],
            "tow_pending": row["tow_state"] is not None,
            "tow_state": row["tow_state"],
            "open_applications": row["open_applications"],
            "settled": row["status"] == "settled",
            "settled_on": _opt_date(row["settled_on"]),
            "documents_released_on": _opt_date(row["documents_released_on"]),
        },
    })
    for key in ("collector_id", "collector_name", "collector_assigned_on", "last_contact_date", "last_contact_result",
                "promised_date", "locked_machines", "settled_on", "documents_released_on", "tow_state",
                "open_applications"):
        shaped.pop(key, None)
    return shaped


def _next_due_amounts(cur: Any, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["next_due_amount"] = None
        if row["next_due_date"] is not None:
            cur.execute("SELECT COALESCE(SUM(unpaid_fen), 0) AS n FROM receivable_items WHERE debt_id = %s"
                        " AND due_date = %s AND unpaid_fen > 0", (row["debt_id"], row["next_due_date"]))
            row["next_due_amount"] = yuan(cur.fetchone()["n"])


# Longest overdue first; nothing overdue last (SQLite sorts NULL first, PostgreSQL last: say it).
_ORDERS = {"contract": "x.contract_number",
           "days_past_due": "(x.oldest_overdue_date IS NULL), x.oldest_overdue_date, x.contract_number",
           "outstanding": "x.outstanding_fen DESC, x.contract_number"}


def list_receivables(cur: Any, scope: Scope, own_only: UUID | None, flt: ReceivableFilter, as_of: date, page: int,
                     page_size: int, order: str = "contract") -> tuple[list[dict[str, Any]], int]:
    inner, inner_params = _figures(as_of)
    where, params = _where(scope, own_only, flt, as_of)
    cur.execute(f"SELECT COUNT(*) AS n FROM ({inner}) x WHERE {where}", [*inner_params, *params])
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT * FROM ({inner}) x WHERE {where} ORDER BY {_ORDERS[order]}, x.debt_id LIMIT %s OFFSET %s",
                [*inner_params, *params, limit, offset])
    rows = [_shape(r, as_of) for r in cur.fetchall()]
    _next_due_amounts(cur, rows)
    return rows, total


def export_receivables(cur: Any, scope: Scope, own_only: UUID | None, flt: ReceivableFilter, as_of: date,
                       batch: int = 1000) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        rows, _ = list_receivables(cur, scope, own_only, flt, as_of, page, batch)
        yield from (_flat(r) for r in rows)
        if len(rows) < batch:
            return
        page += 1


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """An export row: the collection state as columns of their own."""
    collection = row["collection"]
    return {**row, "collector": collection["collector_name"], "last_contact_date": collection["last_contact_date"],
            "promised_date": collection["promised_date"], "locked": collection["locked"],
            "tow_state": collection["tow_state"], "settled_on": collection["settled_on"]}


EXPORT_COLUMNS = ("contract_number", "company_code", "customer_name", "salesperson", "status", "payment",
                  "financed", "charged", "received", "principal_outstanding", "outstanding", "overdue_amount",
                  "penalty_accrued", "penalty_received", "penalty_waived", "penalty_outstanding", "next_due_date",
                  "next_due_amount", "oldest_overdue_date", "days_past_due", "aging_bucket", "collector",
                  "last_contact_date", "promised_date", "locked", "tow_state", "settled_on", "as_of", "contract_id")


def get_receivable(cur: Any, scope: Scope, own_only: UUID | None, contract_id: UUID,
                   as_of: date) -> dict[str, Any] | None:
    inner, inner_params = _figures(as_of)
    where, params = visible_filter(scope, "x.company_id", "x.owner_id", own_only)
    cur.execute(f"SELECT * FROM ({inner}) x WHERE x.contract_id = %s AND {where}",
                [*inner_params, contract_id, *params])
    row = cur.fetchone()
    if row is None:
        return None
    shaped = _shape(row, as_of)
    _next_due_amounts(cur, [shaped])
    cur.execute("SELECT item_key, kind, due_date, principal_fen, interest_fen, principal_paid_fen, interest_paid_fen,"
                " unpaid_fen, penalty_accrued_fen, penalty_paid_fen, penalty_waived_fen FROM receivable_items"
                " WHERE debt_id = %s"
                " ORDER BY due_date, kind, item_key", (shaped["debt_id"],))
    items = []
    for i in cur.fetchall():
        due = _as_date(i["due_date"])
        items.append({"item": i["item_key"], "kind": i["kind"], "due_date": due,
                      "principal": yuan(i["principal_fen"]), "interest": yuan(i["interest_fen"]),
                      "principal_paid": yuan(i["principal_paid_fen"]), "interest_paid": yuan(i["interest_paid_fen"]),
                      "unpaid": yuan(i["unpaid_fen"]), "penalty_accrued": yuan(i["penalty_accrued_fen"]),
                      "penalty_paid": yuan(i["penalty_paid_fen"]), "penalty_waived": yuan(i["penalty_waived_fen"]),
                      "penalty_outstanding": yuan(i["penalty_accrued_fen"] - i["penalty_paid_fen"]
                                                  - i["penalty_waived_fen"]),
                      "overdue": i["unpaid_fen"] > 0 and due < as_of,
                      "days_past_due": (as_of - due).days if i["unpaid_fen"] > 0 and due < as_of else 0})
    items.sort(key=lambda i: (i["due_date"], _rank(i["item"])))
    shaped["items"] = items
    shaped["receipts"] = _receipts_of(cur, shaped["debt_id"])
    shaped["collection_logs"] = _logs_of(cur, shaped["debt_id"])
    shaped["applications"] = _applications(cur, "a.debt_id = %s", [shaped["debt_id"]], 1, 1000)[0]
    return shaped


def _rank(key: str) -> int:
    return int(key[1:]) if key.startswith("I") else (10_000 if key == "WD" else 0)


def _receipts_of(cur: Any, debt_id: UUID) -> list[dict[str, Any]]:
    cur.execute("SELECT receipt_id, amount_fen, value_date, method, reference, allocate_to, status, recorded_on,"
                " recorded_by, decided_on, decided_by, reason, penalty_last, coupon_fen, coupons_json"
                " FROM receivable_receipts WHERE debt_id = %s"
                " ORDER BY value_date, recorded_on, receipt_id", (debt_id,))
    receipts = [_receipt(r) for r in cur.fetchall()]
    for receipt in receipts:
        cur.execute("SELECT item_key, penalty_fen, interest_fen, principal_fen FROM receivable_allocations"
                    " WHERE receipt_id = %s", (receipt["receipt_id"],))
        receipt["allocations"] = sorted(
            ({"item": a["item_key"], "penalty": yuan(a["penalty_fen"]), "interest": yuan(a["interest_fen"]),
              "principal": yuan(a["principal_fen"])} for a in cur.fetchall()), key=lambda a: _rank(a["item"]))
    return receipts


def _receipt(r: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in r.items() if k != "amount_fen"}
    shaped["amount"] = yuan(r["amount_fen"])
    shaped["allocate_to"] = [k for k in (r["allocate_to"] or "").split(",") if k]
    if "penalty_last" in r:
        shaped["penalty_last"] = bool(r["penalty_last"])
    if "coupon_fen" in r:
        shaped.pop("coupon_fen", None)
        coupons = shaped.pop("coupons_json", None)
        shaped["coupons"] = [{"code": c["code"], "amount": Decimal(c["amount"])}
                             for c in (_json_decode(coupons) if coupons else [])]
        shaped["paid_with_coupons"] = yuan(r["coupon_fen"])
    return shaped


@dataclass(frozen=True)
class ReceiptFilter:
    company_id: UUID | None = None
    contract_id: UUID | None = None
    status: str | None = None


def list_receipts(cur: Any, scope: Scope, own_only: UUID | None, flt: ReceiptFilter, page: int,
                  page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Receipts, oldest first; ``status=recorded`` is finance's confirmation queue."""
    where, params = visible_filter(scope, "company_id", "owner_id", own_only)
    for column, value in (("company_id", flt.company_id), ("contract_id", flt.contract_id), ("status", flt.status)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    cur.execute(f"SELECT COUNT(*) AS n FROM receivable_receipts WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT receipt_id, contract_id, contract_number, company_id, customer_id, amount_fen, value_date,"
                " method, reference, allocate_to, status, recorded_on, recorded_by, decided_on, decided_by, reason,"
                f" penalty_last, coupon_fen, coupons_json FROM receivable_receipts WHERE {where} ORDER BY recorded_on, contract_number, receipt_id"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    return [_receipt(r) for r in cur.fetchall()], total


def aging_report(cur: Any, scope: Scope, own_only: UUID | None, as_of: date, group_by: str = "company",
                 company_id: UUID | None = None) -> list[dict[str, Any]]:
    """Unpaid principal and interest by how long each item is past due, with penalty
    outstanding, per member company or per customer; and the total of all rows."""
    where, params = visible_filter(scope, "r.company_id", "r.owner_id", own_only)
    if company_id is not None:
        where += " AND r.company_id = %s"
        params.append(company_id)
    cases, case_params = [], []
    for name, low, high in BUCKETS:
        if low is None:
            cases.append(f"COALESCE(SUM(CASE WHEN i.due_date >= %s THEN i.unpaid_fen ELSE 0 END), 0) AS b{len(cases)}")
            case_params.append(as_of)
        else:
            cond = "i.due_date <= %s" + (" AND i.due_date >= %s" if high is not None else "")
            cases.append(f"COALESCE(SUM(CASE WHEN {cond} THEN i.unpaid_fen ELSE 0 END), 0) AS b{len(cases)}")
            case_params.append(as_of - timedelta(days=low))
            if high is not None:
                case_params.append(as_of - timedelta(days=high))
    if group_by == "customer":
        key, label, join = "r.customer_id", "cu.name", "LEFT JOIN customers cu ON cu.customer_id = r.customer_id"
    else:
        key, label, join = "r.company_id", "c.code", "LEFT JOIN org_companies c ON c.company_id = r.company_id"
    cur.execute(f"SELECT {key} AS group_id, {label} AS group_name, COUNT(DISTINCT r.debt_id) AS receivables,"
                f" {', '.join(cases)}, COALESCE(SUM(i.unpaid_fen), 0) AS outstanding_fen"
                f" FROM receivables r JOIN receivable_items i ON i.debt_id = r.debt_id {join}"
                f" WHERE r.status = 'open' AND {where} GROUP BY {key}, {label} ORDER BY {label}, {key}",
                [*case_params, *params])
    rows = cur.fetchall()
    cur.execute(f"SELECT {key} AS group_id, COALESCE(SUM(r.penalty_accrued_fen - r.penalty_received_fen"
                f" - r.penalty_waived_fen), 0) AS penalty_fen FROM receivables r WHERE r.status = 'open' AND {where}"
                f" GROUP BY {key}", params)
    penalty = {str(r["group_id"]): r["penalty_fen"] for r in cur.fetchall()}
    report = []
    for row in rows:
        entry = {"group_by": group_by, "id": row["group_id"], "name": row["group_name"],
                 "receivables": row["receivables"], "outstanding": yuan(row["outstanding_fen"]),
                 "penalty_outstanding": yuan(penalty.get(str(row["group_id"]), 0))}
        entry.update({name: yuan(row[f"b{n}"]) for n, (name, _, _) in enumerate(BUCKETS)})
        entry["overdue"] = sum((entry[name] for name, low, _ in BUCKETS if low is not None), Decimal("0.00"))
        report.append(entry)
    return report


def customer_statement(cur: Any, scope: Scope, own_only: UUID | None, customer_id: UUID, date_from: date | None,
                       date_to: date) -> dict[str, Any] | None:
    """对账单: every charge, penalty, receipt and reversal of the customer's receivables in
    date order, with the running balance (what the customer owes after each line)."""
    where, params = visible_filter(scope, "company_id", "owner_id", own_only)
    # The customer as the customers read model has it: one the caller may not see is not found;
    # one without receivables has an empty statement.
    cur.execute(f"SELECT name FROM customers WHERE customer_id = %s AND {where}", [customer_id, *params])
    customer = cur.fetchone()
    if customer is None:
        return None
    opening = 0
    if date_from is not None:
        cur.execute(f"SELECT COALESCE(SUM(debit_fen - credit_fen), 0) AS n FROM receivable_entries"
                    f" WHERE customer_id = %s AND entry_date < %s AND {where}", [customer_id, date_from, *params])
        opening = cur.fetchone()["n"]
    bounds, bound_params = "entry_date <= %s", [date_to]
    if date_from is not None:
        bounds += " AND entry_date >= %s"
        bound_params.append(date_from)
    cur.execute("SELECT entry_date, contract_number, kind, item_key, receipt_id, description, debit_fen, credit_fen"
                f" FROM receivable_entries WHERE customer_id = %s AND {bounds} AND {where}"
                " ORDER BY entry_date, contract_number, seq", [customer_id, *bound_params, *params])
    balance = opening
    lines = []
    for e in cur.fetchall():
        balance += e["debit_fen"] - e["credit_fen"]
        lines.append({"date": _as_date(e["entry_date"]), "contract_number": e["contract_number"], "kind": e["kind"],
                      "item": e["item_key"], "receipt_id": e["receipt_id"], "description": e["description"],
                      "debit": yuan(e["debit_fen"]), "credit": yuan(e["credit_fen"]), "balance": yuan(balance)})
    return {"customer_id": customer_id, "customer_name": customer["name"], "date_from": date_from, "date_to": date_to,
            "opening_balance": yuan(opening), "closing_balance": yuan(balance), "lines": lines}


def list_penalty_rates(cur: Any, scope: Scope, company_id: UUID | None = None) -> list[dict[str, Any]]:
    where, params = visible_filter(scope, "p.company_id")
    if company_id is not None:
        where += " AND p.company_id = %s"
        params.append(company_id)
    cur.execute("SELECT p.company_id, c.code AS company_code, p.effective_from, p.daily_rate, p.grace_days, p.set_on"
                " FROM penalty_rates p LEFT JOIN org_companies c ON c.company_id = p.company_id"
                f" WHERE {where} ORDER BY c.code, p.effective_from", params)
    return cur.fetchall()


def debts_to_accrue(cur: Any, through: date, scope: Scope) -> list[UUID]:
    """Open receivables that may owe penalty for days up to ``through``: an unpaid item due
    before it, and penalty not yet accrued through it."""
    where, params = visible_filter(scope, "r.company_id")
    cur.execute("SELECT r.debt_id FROM receivables r WHERE r.status = 'open' AND"
                " (r.penalty_accrued_through IS NULL OR r.penalty_accrued_through < %s) AND EXISTS ("
                " SELECT 1 FROM receivable_items i WHERE i.debt_id = r.debt_id AND i.unpaid_fen > 0"
                f" AND i.due_date < %s) AND {where} ORDER BY r.debt_id", [through, through, *params])
    return [r["debt_id"] if isinstance(r["debt_id"], UUID) else UUID(r["debt_id"]) for r in cur.fetchall()]


# ================================================================ collection
def _logs_of(cur: Any, debt_id: UUID) -> list[dict[str, Any]]:
    cur.execute("SELECT l.log_id, l.contact_date, l.contact_person, l.channel, l.result, l.promised_date,"
                " l.promised_amount_fen, l.written_by, u.username AS written_by_name, l.written_on"
                " FROM collection_logs l LEFT JOIN access_users u ON u.user_id = l.written_by"
                " WHERE l.debt_id = %s ORDER BY l.contact_date DESC, l.written_on DESC, l.log_id", (debt_id,))
    logs = []
    for row in cur.fetchall():
        amount = row.pop("promised_amount_fen")
        logs.append({**row, "promised_amount": yuan(amount) if amount is not None else None})
    return logs


_APPLICATION = ("a.application_id, a.document_type, a.contract_id, a.contract_number, a.company_id,"
                " c.code AS company_code, a.customer_id, cu.name AS customer_name, a.serial_number, a.amount_fen,"
                " a.status, a.applied_by, u.username AS applied_by_name, a.applied_on, a.statement,"
                " a.overdue_amount_fen, a.days_past_due, a.principal_outstanding_fen, a.penalty_outstanding_fen,"
                " a.decided_on, a.decided_by, a.decision_reason, a.done_on, a.done_by, a.details")
_APPLICATION_FROM = ("collection_applications a LEFT JOIN org_companies c ON c.company_id = a.company_id"
                     " LEFT JOIN customers cu ON cu.customer_id = a.customer_id"
                     " LEFT JOIN access_users u ON u.user_id = a.applied_by")


def _application(row: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in row.items() if not k.endswith("_fen") and k != "details"}
    shaped.update({
        "amount": yuan(row["amount_fen"]),
        "facts": {"overdue_amount": yuan(row["overdue_amount_fen"]), "days_past_due": row.get("days_past_due"),
                  "principal_outstanding": yuan(row["principal_outstanding_fen"]),
                  "penalty_outstanding": yuan(row["penalty_outstanding_fen"])},
        "details": _json_decode(row["details"]) if row["details"] else None,
    })
    shaped.pop("days_past_due", None)
    return shaped


def _applications(cur: Any, where: str, params: list[Any], page: int,
                  page_size: int) -> tuple[list[dict[str, Any]], int]:
    cur.execute(f"SELECT COUNT(*) AS n FROM collection_applications a WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_APPLICATION} FROM {_APPLICATION_FROM} WHERE {where}"
                " ORDER BY a.applied_on DESC, a.contract_number, a.application_id LIMIT %s OFFSET %s",
                [*params, limit, offset])
    return [_application(r) for r in cur.fetchall()], total


@dataclass(frozen=True)
class ApplicationFilter:
    company_id: UUID | None = None
    contract_id: UUID | None = None
    document_type: str | None = None
    status: str | None = None
    applied_by: UUID | None = None


def list_applications(cur: Any, scope: Scope, own_only: UUID | None, flt: ApplicationFilter, page: int,
                      page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Collection applications, newest first: what each asked for, on which facts, and where it stands."""
    where, params = visible_filter(scope, "a.company_id", "a.owner_id", own_only)
    for column, value in (("a.company_id", flt.company_id), ("a.contract_id", flt.contract_id),
                          ("a.document_type", flt.document_type), ("a.status", flt.status),
                          ("a.applied_by", flt.applied_by)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    return _applications(cur, where, params, page, page_size)


def get_application(cur: Any, scope: Scope, own_only: UUID | None, application_id: UUID) -> dict[str, Any] | None:
    where, params = visible_filter(scope, "a.company_id", "a.owner_id", own_only)
    rows, _ = _applications(cur, f"a.application_id = %s AND {where}", [application_id, *params], 1, 1)
    return rows[0] if rows else None
