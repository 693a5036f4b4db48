"""Delivery of contracts over HTTP (交机出库): pick, accessory outbound, review, dispatch, swap."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Router, get
from litestar.params import FromPath, FromQuery

from application.delivery.commands import (
    AddAccessoryOutboundLine,
    DispatchMachine,
    PickMachine,
    ReleaseMachine,
    RemoveAccessoryOutboundLine,
    ReturnOutbound,
    ReviewOutbound,
    SwapMachine,
)
from application.reading import ScopeRule, page_of, paged, row
from domain.access import Permission
from domain.base import InvalidValueError, NotFoundError
from domain.contracts import OutboundStatus
from interfaces.http.kit import Page, PageSize, ReaderDep, command_endpoint, reads
from projections import deliveries
from projections.deliveries import ContractDeliveriesRow, DeliveryOutboundRow, MachineSwapRow

DELIVERY = "/{contract_id:uuid}/delivery"
DELIVERIES = reads("deliveries", Permission.VIEW_DELIVERIES, ScopeRule.OWN_SALES)


@get(DELIVERY, operation_id="GetContractDeliveries", sync_to_thread=True, opt=DELIVERIES,
     summary="A contract's outbounds with their machines and accessory lines, and its swaps")
def get_contract_deliveries(contract_id: FromPath[UUID], read: ReaderDep) -> ContractDeliveriesRow:
    found = read(deliveries.get_contract_deliveries, contract_id)
    if found is None:
        raise NotFoundError(f"Contract {contract_id} does not exist.", code="contract-not-found")
    return row(ContractDeliveriesRow, found)


@get("/", operation_id="ListOutbounds", sync_to_thread=True, opt=DELIVERIES,
     summary="Outbounds I may see by status: open ones wait for finance, reviewed ones for dispatch")
def list_outbounds(read: ReaderDep, status: FromQuery[OutboundStatus | None] = None,
                   company_id: FromQuery[UUID | None] = None, page: Page = 1,
                   page_size: PageSize = 50) -> page_of(DeliveryOutboundRow):  # type: ignore[valid-type]
    flt = deliveries.OutboundFilter(company_id, status and str(status))
    return paged(DeliveryOutboundRow, read(deliveries.list_outbounds, flt, page, page_size), page, page_size)


@get("/", operation_id="ListMachineSwaps", sync_to_thread=True, opt=DELIVERIES,
     summary="Every sales swap in a period: contract, old and new unit, who, when, why")
def list_machine_swaps(read: ReaderDep, swapped_from: FromQuery[date | None] = None,
                       swapped_to: FromQuery[date | None] = None, page: Page = 1,
                       page_size: PageSize = 50) -> page_of(MachineSwapRow):  # type: ignore[valid-type]
    if swapped_from and swapped_to and swapped_from > swapped_to:
        raise InvalidValueError("swapped_from is after swapped_to.", field="swapped_from")
    return paged(MachineSwapRow, read(deliveries.list_swaps, swapped_from, swapped_to, page, page_size),
                 page, page_size)


DELIVERY_CONTROLLERS: list[Any] = [
    Router("/contracts", tags=["delivery"], route_handlers=[
        command_endpoint(f"{DELIVERY}/pick", PickMachine,
                         "Pick a machine by serial number (推选机号): reserved for this contract, nobody else can pick it"),
        command_endpoint(f"{DELIVERY}/release", ReleaseMachine,
                         "Undo a pick not yet dispatched, with the reason: the unit can be picked again"),
        command_endpoint(f"{DELIVERY}/accessory-lines", AddAccessoryOutboundLine,
                         "Add an accessory line to the open outbound: an agreed accessory, or an extra line"),
        command_endpoint(DELIVERY + "/accessory-lines/{line_no:int}/remove", RemoveAccessoryOutboundLine,
                         "Remove an accessory line from an outbound not yet reviewed",
                         path_types={"line_no": int}),
        command_endpoint(f"{DELIVERY}/review", ReviewOutbound,
                         "Finance reviews the outbound (出库单财务审核); it may then be dispatched"),
        command_endpoint(f"{DELIVERY}/return", ReturnOutbound,
                         "Finance returns a reviewed outbound to be changed, with the reason"),
        command_endpoint(f"{DELIVERY}/dispatch", DispatchMachine,
                         "Dispatch a reviewed outbound (出库发车): its machines leave and are out (sold)"),
        command_endpoint(f"{DELIVERY}/swap", SwapMachine,
                         "Sales swap (销售换机): a unit in stock replaces a dispatched one, which comes back to stock"),
        get_contract_deliveries]),
    Router("/outbounds", tags=["delivery"], route_handlers=[list_outbounds]),
    Router("/machine-swaps", tags=["delivery"], route_handlers=[list_machine_swaps]),
]
