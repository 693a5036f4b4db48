"""The questions the office asks, each declared once: the read model that answers it, the
permission it needs and whose rows it shows. The API's GETs and the console's pages
both ask through these (``ReadSide.reader(caller, spec)``)."""

from __future__ import annotations

from application.reading import Reads, ScopeRule
from domain.access import Permission

CONTRACTS = Reads("contracts", Permission.VIEW_CONTRACTS, ScopeRule.OWN_SALES)
CUSTOMERS = Reads("customers", Permission.VIEW_CUSTOMERS, ScopeRule.OWN_SALES)
CUSTOMER_CATALOGUE = Reads("customers", Permission.VIEW_CUSTOMERS, ScopeRule.GROUP)
MY_APPROVALS = Reads("approval_queue", None)
DELIVERIES = Reads("deliveries", Permission.VIEW_DELIVERIES, ScopeRule.OWN_SALES)
STOCK = Reads("machine_stock", Permission.VIEW_STOCK)
RECEIVABLES = Reads("receivables", Permission.VIEW_RECEIVABLES, ScopeRule.OWN_SALES)
ORGANISATION = Reads("organisation", Permission.VIEW_ORGANISATION)
ORGANISATION_GROUP = Reads("organisation", Permission.VIEW_ORGANISATION, ScopeRule.GROUP)
PENALTY_RATES = Reads("receivables", Permission.VIEW_RECEIVABLES, ScopeRule.COMPANIES)
COUPONS = Reads("coupons", Permission.VIEW_COUPONS)
APPROVAL_RULES = Reads("approval_queue", Permission.VIEW_ORGANISATION)
USER_DIRECTORY = Reads("access_directory", Permission.MANAGE_USERS, ScopeRule.GROUP)
AUDIT_EVENTS = Reads("audit_events", Permission.VIEW_HISTORY)
PARTS = Reads("parts", Permission.VIEW_PARTS)
PARTS_OFFICE = Reads("parts", Permission.VIEW_PARTS, any_of=frozenset({
    Permission.VIEW_ALL_SALES, Permission.PURCHASE_PARTS, Permission.SELL_PARTS, Permission.SHIP_PARTS,
    Permission.RECEIVE_PARTS}), refusal="Parts documents are the office's and the warehouse's; your roles do not "
                                        "show them.")
