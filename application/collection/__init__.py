"""Debt collection (催收): dispatch to collectors, collection logs, and the applications that
follow the approval rules (interest waiver, lock, unlock, tow, settlement)."""

from application.collection.handlers import CollectionService

__all__ = ["CollectionService"]
