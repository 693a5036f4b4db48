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

# The read model's modules: ``projection`` (the tables and how each event changes them),
# ``amounts`` (fen and yuan, aging buckets), and the queries by what they read: ``debts``
# (receivables and their items), ``receipts``, ``reports`` (aging, customer statement),
# ``penalty`` (rates, debts to accrue) and ``collection`` (contact logs, collection applications).
from projections.receivables.amounts import BUCKETS, bucket_of, fen, yuan
from projections.receivables.collection import ApplicationFilter, get_application, list_applications
from projections.receivables.debts import (EXPORT_COLUMNS, ReceivableFilter, export_receivables, get_receivable,
                                           list_receivables)
from projections.receivables.penalty import debts_to_accrue, list_penalty_rates
from projections.receivables.projection import ReceivablesProjection
from projections.receivables.receipts import ReceiptFilter, list_receipts
from projections.receivables.reports import aging_report, customer_statement

__all__ = [
    "fen", "yuan", "BUCKETS", "bucket_of", "ReceivablesProjection",
    "ReceivableFilter", "list_receivables", "export_receivables", "EXPORT_COLUMNS", "get_receivable",
    "ReceiptFilter", "list_receipts", "aging_report", "customer_statement", "list_penalty_rates", "debts_to_accrue",
    "ApplicationFilter", "list_applications", "get_application",
]
