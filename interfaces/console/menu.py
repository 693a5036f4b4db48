"""The console's menu: the pages a person's roles let them open, in the office's order."""

from __future__ import annotations

from dataclasses import dataclass

from application.caller import Caller
from domain.access import Permission
from interfaces.console.i18n import Language


@dataclass(frozen=True)
class MenuItem:
    path: str
    label: str


def N_(text: str) -> str:
    """Marks a text for the catalogue; translated where it is shown."""
    return text


# (path, English label, the permission that opens it)
PAGES: tuple[tuple[str, str, Permission | None], ...] = (
    ("/console/", N_("Home"), None),
    ("/console/approvals", N_("Approvals"), Permission.VIEW_APPROVALS),
    ("/console/contracts", N_("Contracts"), Permission.VIEW_CONTRACTS),
    ("/console/machines", N_("Machine stock"), Permission.VIEW_STOCK),
    ("/console/outbounds", N_("Outbounds"), Permission.VIEW_DELIVERIES),
    ("/console/receipts", N_("Receipts"), Permission.VIEW_RECEIVABLES),
    ("/console/receivables", N_("Receivables"), Permission.VIEW_RECEIVABLES),
    ("/console/customers", N_("Customers"), Permission.VIEW_CUSTOMERS),
)


def menu_for(caller: Caller, lang: Language) -> list[MenuItem]:
    return [MenuItem(path, lang.gettext(label)) for path, label, permission in PAGES
            if permission is None or caller.may(permission)]
