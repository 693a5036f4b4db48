"""Delivery of contracts over HTTP (交机出库): pick, accessory outbound, review, dispatch, swap."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from domain.access import Permission
from domain.base import InvalidValueError, NotFoundError
from domain.contracts import OutboundStatus
from interfaces.http.controllers import After, CallerDep, IdempotencyKey, OfficeDep, Page, PageSize, answer, fresh
from interfaces.http.schemas import (
    AccessoryOutboundLineRequest,
    OutboundRequest,
    PickMachineRequest,
    ReleaseMachineRequest,
    ReturnOutboundRequest,
    SwapMachineRequest,
)
from projections import deliveries

ContractId = FromPath[UUID]


class DeliveryController(Controller):
    path = "/contracts/{contract_id:uuid}/delivery"
    tags = ["delivery"]

    @post("/pick", operation_id="PickMachine", sync_to_thread=True,
          summary="Pick a machine by serial number (推选机号): reserved for this contract, nobody else can pick it")
    def pick(self, contract_id: ContractId, data: JSONBody[PickMachineRequest], caller: CallerDep,
             backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.pick_machine(caller, contract_id, data.serial_number, data.line_no,
                                                         idempotency_key))

    @post("/release", operation_id="ReleaseMachine", sync_to_thread=True,
          summary="Undo a pick not yet dispatched, with the reason: the unit can be picked again")
    def release(self, contract_id: ContractId, data: JSONBody[ReleaseMachineRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.release_machine(caller, contract_id, data.serial_number, data.reason,
                                                            idempotency_key))

    @post("/accessory-lines", operation_id="AddAccessoryOutboundLine", sync_to_thread=True,
          summary="Add an accessory line to the open outbound: an agreed accessory, or an extra line")
    def add_line(self, contract_id: ContractId, data: JSONBody[AccessoryOutboundLineRequest], caller: CallerDep,
                 backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.add_accessory_outbound_line(
            caller, contract_id, data.quantity, data.agreed_accessory_no, data.name, data.unit_price,
            data.part_id, data.warehouse_id, idempotency_key))

    @post("/accessory-lines/{line_no:int}/remove", operation_id="RemoveAccessoryOutboundLine", sync_to_thread=True,
          summary="Remove an accessory line from an outbound not yet reviewed")
    def remove_line(self, contract_id: ContractId, line_no: FromPath[int], caller: CallerDep, backoffice: OfficeDep,
                    idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.remove_accessory_outbound_line(caller, contract_id, line_no,
                                                                           idempotency_key))

    @post("/review", operation_id="ReviewOutbound", sync_to_thread=True,
          summary="Finance reviews the outbound (出库单财务审核); it may then be dispatched")
    def review(self, contract_id: ContractId, data: JSONBody[OutboundRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.review_outbound(caller, contract_id, data.outbound_no, idempotency_key))

    @post("/return", operation_id="ReturnOutbound", sync_to_thread=True,
          summary="Finance returns a reviewed outbound to be changed, with the reason")
    def return_(self, contract_id: ContractId, data: JSONBody[ReturnOutboundRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.return_outbound(caller, contract_id, data.outbound_no, data.reason,
                                                            idempotency_key))

    @post("/dispatch", operation_id="DispatchMachine", sync_to_thread=True,
          summary="Dispatch a reviewed outbound (出库发车): its machines leave and are out (sold)")
    def dispatch(self, contract_id: ContractId, data: JSONBody[OutboundRequest], caller: CallerDep,
                 backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.dispatch(caller, contract_id, data.outbound_no, idempotency_key))

    @post("/swap", operation_id="SwapMachine", sync_to_thread=True,
          summary="Sales swap (销售换机): a unit in stock replaces a dispatched one, which comes back to stock")
    def swap(self, contract_id: ContractId, data: JSONBody[SwapMachineRequest], caller: CallerDep,
             backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.deliveries.swap_machine(caller, contract_id, data.old_serial, data.new_serial,
                                                         data.reason, data.return_warehouse_id, idempotency_key))

    @get("/", operation_id="GetContractDeliveries", sync_to_thread=True,
         summary="A contract's outbounds with their machines and accessory lines, and its swaps")
    def get_deliveries(self, contract_id: ContractId, caller: CallerDep, backoffice: OfficeDep,
                       after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_DELIVERIES)
        fresh(backoffice, "deliveries", after)
        with backoffice.read() as cur:
            row = deliveries.get_contract_deliveries(cur, caller.scope, caller.own_only, contract_id)
        if row is None:
            raise NotFoundError(f"Contract {contract_id} does not exist.", code="contract-not-found")
        return row


class OutboundController(Controller):
    path = "/outbounds"
    tags = ["delivery"]

    @get("/", operation_id="ListOutbounds", sync_to_thread=True,
         summary="Outbounds I may see by status: open ones wait for finance, reviewed ones for dispatch")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, status: FromQuery[OutboundStatus | None] = None,
                 company_id: FromQuery[UUID | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_DELIVERIES)
        fresh(backoffice, "deliveries", after)
        flt = deliveries.OutboundFilter(company_id, status and str(status))
        with backoffice.read() as cur:
            items, total = deliveries.list_outbounds(cur, caller.scope, caller.own_only, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


class SwapController(Controller):
    path = "/machine-swaps"
    tags = ["delivery"]

    @get("/", operation_id="ListMachineSwaps", sync_to_thread=True,
         summary="Every sales swap in a period: contract, old and new unit, who, when, why")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, swapped_from: FromQuery[date | None] = None,
                 swapped_to: FromQuery[date | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_DELIVERIES)
        if swapped_from and swapped_to and swapped_from > swapped_to:
            raise InvalidValueError("swapped_from is after swapped_to.", field="swapped_from")
        fresh(backoffice, "deliveries", after)
        with backoffice.read() as cur:
            items, total = deliveries.list_swaps(cur, caller.scope, caller.own_only, swapped_from, swapped_to, page,
                                                 page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


DELIVERY_CONTROLLERS = [DeliveryController, OutboundController, SwapController]
