"""Every route of the API, in the order the docs list them."""

from __future__ import annotations

from typing import Any


def all_route_handlers() -> list[Any]:
    from interfaces.http.access import ACCESS_ROUTERS
    from interfaces.http.audit import AUDIT_CONTROLLERS
    from interfaces.http.collection import COLLECTION_CONTROLLERS
    from interfaces.http.coupons import COUPON_CONTROLLERS
    from interfaces.http.delivery import DELIVERY_CONTROLLERS
    from interfaces.http.exports import EXPORT_CONTROLLERS
    from interfaces.http.machines import MACHINE_ROUTERS
    from interfaces.http.organisation import ORGANISATION_ROUTERS
    from interfaces.http.parts import PARTS_CONTROLLERS
    from interfaces.http.receivables import RECEIVABLE_CONTROLLERS
    from interfaces.http.sales import SALES_CONTROLLERS

    return [*ACCESS_ROUTERS[:1], *ORGANISATION_ROUTERS, *MACHINE_ROUTERS, *ACCESS_ROUTERS[1:],
            *SALES_CONTROLLERS, *DELIVERY_CONTROLLERS, *RECEIVABLE_CONTROLLERS, *COLLECTION_CONTROLLERS,
            *COUPON_CONTROLLERS, *PARTS_CONTROLLERS, *AUDIT_CONTROLLERS, *EXPORT_CONTROLLERS]
