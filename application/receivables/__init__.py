"""Receivables (应收): schedules, receipts and their confirmation, penalty rates and the daily
penalty accrual."""

from application.receivables.commands import (
    AccruePenalties,
    AccruePenaltyBatch,
    ConfirmReceipt,
    GenerateSchedule,
    PenaltiesAccrued,
    ReceiptRecorded,
    ReceivableItem,
    ReceivableSummary,
    RecordReceipt,
    RejectReceipt,
    ReverseReceipt,
    ScheduleLineEntry,
    SetPenaltyRate,
    SetSchedule,
)
from application.receivables.handlers import ReceivableService, receivable_summary

__all__ = ["AccruePenalties", "AccruePenaltyBatch", "ConfirmReceipt", "GenerateSchedule", "PenaltiesAccrued",
           "ReceiptRecorded", "ReceivableItem", "ReceivableService", "ReceivableSummary", "RecordReceipt",
           "RejectReceipt", "ReverseReceipt", "ScheduleLineEntry", "SetPenaltyRate", "SetSchedule",
           "receivable_summary"]
