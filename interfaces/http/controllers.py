"""One controller per resource. Commands are POSTs named for the act, with
``operation_id`` = the command's name; queries are GETs on read models."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, PathParameter, QueryParameter

from application.access import AuthenticationError
from application.caller import Caller
from application.history import contracts_of_machine
from application.ledger import CommandResult
from domain import ids
from domain.access import Permission
from domain.base import InvalidValueError, NotFoundError
from domain.machines import MachineNature, MachineStatus
from interfaces.composition import BackOffice
from interfaces.http.app import ReadModelBehindError
from interfaces.http.schemas import (
    ChangePasswordRequest,
    ChangePositionCompaniesRequest,
    CreateCompanyRequest,
    CreatePositionRequest,
    CreateUserRequest,
    CreateWarehouseRequest,
    LoginRequest,
    PositionRequest,
    ReceiveMachineRequest,
    RegisterMachineModelRequest,
    RoleRequest,
    TransferMachineRequest,
)
from projections import access_directory, machine_stock, organisation

CallerDep = NamedDependency[Caller]
OfficeDep = NamedDependency[BackOffice]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", required=False, min_length=1, max_length=200,
    description="Send the same key when retrying: the first answer comes back and nothing is recorded twice.")]
After = Annotated[int | None, QueryParameter(
    name="after", required=False, ge=0,
    description="A command's position: wait (bounded) until this list includes that command's effect.")]
Page = Annotated[int, QueryParameter(name="page", ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(name="page_size", ge=1, le=500)]
SerialPath = Annotated[str, PathParameter(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]


def answer(result: CommandResult) -> Response[dict[str, Any]]:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return Response({**result.body, "position": result.position}, status_code=result.status_code,
                    headers=headers)


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ would be
    run as a formula, so it is prefixed with an apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(columns: tuple[str, ...], rows: Any, filename: str) -> Response[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def query_day(value: date | None, name: str) -> date | None:
    """A date a query may ask about: within the years a dealer's books can hold."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationException(f"{name}: a date from {EARLIEST} to {LATEST}.",
                                  extra=[{"key": name, "source": "query", "message": f"from {EARLIEST} to {LATEST}"}])
    return value


def fresh(backoffice: BackOffice, projection: str, after: int | None) -> None:
    if not after or backoffice.projections[projection].position() >= after:
        return
    if after > (backoffice.ledger.recorder.max_notification_id() or 0):
        # A position no command has answered yet: waiting for it could only end in "try again".
        raise InvalidValueError(f"No command has been recorded at position {after} yet; send the position a "
                                "command answered with.", field="after")
    if not backoffice.wait_for(projection, after):
        raise ReadModelBehindError(
            f"The {projection} list has not yet caught up with position {after}; try again in a moment.")


class AuthController(Controller):
    path = "/auth"
    tags = ["access"]

    @post("/login", operation_id="Login", sync_to_thread=True, security=[{}], exclude_from_auth=True,
          status_code=200,
          summary="Sign in: exchange user name and password for a bearer token")
    def login(self, data: JSONBody[LoginRequest], backoffice: OfficeDep) -> Response[dict[str, Any]]:
        token = backoffice.access.login(data.username, data.password)
        return Response({"access_token": token.access_token, "token_type": "Bearer",
                         "expires_at": token.expires_at, "user_id": str(token.user_id)}, status_code=200)

    @get("/me", operation_id="GetMe", sync_to_thread=True, summary="Who I am, my permissions and my companies")
    def me(self, caller: CallerDep) -> dict[str, Any]:
        return {"user_id": caller.user_id, "username": caller.username,
                "permissions": sorted(caller.permissions),
                "all_companies": caller.scope.all_companies, "company_ids": sorted(caller.scope.companies)}

    @post("/change-password", operation_id="ChangePassword", sync_to_thread=True,
          summary="Change my own password (tokens issued before stop working)")
    def change_password(self, data: JSONBody[ChangePasswordRequest], caller: CallerDep, backoffice: OfficeDep,
                        idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        try:
            result = backoffice.access.change_password(caller, data.current_password, data.new_password,
                                                       idempotency_key)
        except AuthenticationError as error:  # a wrong current password is not a missing sign-in
            error.status = 422
            raise
        return answer(result)


class CompanyController(Controller):
    path = "/companies"
    tags = ["organisation"]

    @post("/", operation_id="CreateCompany", sync_to_thread=True, summary="Add a member company to the group")
    def create(self, data: JSONBody[CreateCompanyRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.organisation.create_company(caller, data.code, data.name, idempotency_key))

    @get("/", operation_id="ListCompanies", sync_to_thread=True, summary="Member companies I may see")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_ORGANISATION)
        fresh(backoffice, "organisation", after)
        with backoffice.read() as cur:
            items = organisation.list_companies(cur, caller.scope)
        return {"items": items, "total": len(items)}


class WarehouseController(Controller):
    path = "/warehouses"
    tags = ["organisation"]

    @post("/", operation_id="CreateWarehouse", sync_to_thread=True, summary="Add a warehouse to a company")
    def create(self, data: JSONBody[CreateWarehouseRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.organisation.create_warehouse(caller, data.company_id, data.code, data.name,
                                                               data.kind, data.technician_name, idempotency_key,
                                                               data.technician_id))

    @get("/", operation_id="ListWarehouses", sync_to_thread=True, summary="Warehouses of the companies I see")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
             after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_ORGANISATION)
        fresh(backoffice, "organisation", after)
        with backoffice.read() as cur:
            items = organisation.list_warehouses(cur, caller.scope, company_id)
        return {"items": items, "total": len(items)}


class MachineModelController(Controller):
    path = "/machine-models"
    tags = ["organisation"]

    @post("/", operation_id="RegisterMachineModel", sync_to_thread=True, summary="Register a machine model")
    def register(self, data: JSONBody[RegisterMachineModelRequest], caller: CallerDep, backoffice: OfficeDep,
                 idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.organisation.register_machine_model(caller, data.code, data.name,
                                                                     data.machine_type, idempotency_key))

    @get("/", operation_id="ListMachineModels", sync_to_thread=True, summary="Machine models of the group")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_ORGANISATION)
        fresh(backoffice, "organisation", after)
        with backoffice.read() as cur:
            items = organisation.list_machine_models(cur)
        return {"items": items, "total": len(items)}


def _stock_filter(company_id: UUID | None, warehouse_id: UUID | None, model_id: UUID | None,
                  status: MachineStatus | None, nature: MachineNature | None,
                  serial: str | None) -> machine_stock.StockFilter:
    return machine_stock.StockFilter(company_id, warehouse_id, model_id, status and str(status),
                                     nature and str(nature), serial)


SerialFilter = Annotated[str | None, QueryParameter(name="serial", required=False, max_length=40,
                                               description="Serial number starts with")]
GroupBy = Annotated[str, QueryParameter(name="group_by", max_length=100, pattern=r"^[a-z,]*$",
                                   description="Comma-separated: company, warehouse, model, status, nature")]


class MachineController(Controller):
    path = "/machines"
    tags = ["machines"]

    @post("/receive", operation_id="ReceiveMachine", sync_to_thread=True,
          summary="Receive a machine into a warehouse (入库) by serial number")
    def receive(self, data: JSONBody[ReceiveMachineRequest], caller: CallerDep, backoffice: OfficeDep,
                idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.stock.receive_machine(caller, data.serial_number, data.model_id,
                                                       data.warehouse_id, data.nature, idempotency_key))

    @post("/{serial_number:str}/transfer", operation_id="TransferMachine", sync_to_thread=True,
          summary="Transfer a machine in stock to another warehouse (调拨)")
    def transfer(self, serial_number: SerialPath, data: JSONBody[TransferMachineRequest], caller: CallerDep,
                 backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.stock.transfer_machine(caller, serial_number, data.to_warehouse_id, data.reason,
                                                        idempotency_key))

    @get("/", operation_id="ListMachineStock", sync_to_thread=True,
         summary="Machine stock I may see, filtered and paged")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
             warehouse_id: FromQuery[UUID | None] = None, model_id: FromQuery[UUID | None] = None, status: FromQuery[MachineStatus | None] = None,
             nature: FromQuery[MachineNature | None] = None, serial: SerialFilter = None, page: Page = 1,
             page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_STOCK)
        fresh(backoffice, "machine_stock", after)
        flt = _stock_filter(company_id, warehouse_id, model_id, status, nature, serial)
        with backoffice.read() as cur:
            items, total = machine_stock.list_stock(cur, caller.scope, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/counts", operation_id="CountMachineStock", sync_to_thread=True,
         summary="How many machines, grouped by company, warehouse, model, status or nature")
    def counts(self, caller: CallerDep, backoffice: OfficeDep, group_by: GroupBy = "company,status",
               company_id: FromQuery[UUID | None] = None, warehouse_id: FromQuery[UUID | None] = None, model_id: FromQuery[UUID | None] = None,
               status: FromQuery[MachineStatus | None] = None, nature: FromQuery[MachineNature | None] = None,
               after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_STOCK)
        groups = [g for g in group_by.split(",") if g]
        unknown = [g for g in groups if g not in machine_stock.GROUPINGS]
        if unknown or len(set(groups)) != len(groups):
            raise InvalidValueError(f"group_by takes {', '.join(machine_stock.GROUPINGS)}, each once; "
                                    f"got {group_by!r}.", field="group_by")
        fresh(backoffice, "machine_stock", after)
        flt = _stock_filter(company_id, warehouse_id, model_id, status, nature, None)
        with backoffice.read() as cur:
            rows = machine_stock.count_stock(cur, caller.scope, flt, groups)
        return {"group_by": groups, "rows": rows, "total": sum(r["machines"] for r in rows)}

    @get("/export", operation_id="ExportMachineStock", sync_to_thread=True, media_type="text/csv",
         summary="Machine stock I may see, as CSV")
    def export(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
               warehouse_id: FromQuery[UUID | None] = None, model_id: FromQuery[UUID | None] = None,
               status: FromQuery[MachineStatus | None] = None, nature: FromQuery[MachineNature | None] = None,
               serial: SerialFilter = None, after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_STOCK)
        fresh(backoffice, "machine_stock", after)
        flt = _stock_filter(company_id, warehouse_id, model_id, status, nature, serial)
        with backoffice.read() as cur:
            return csv_response(machine_stock.EXPORT_COLUMNS, machine_stock.export_stock(cur, caller.scope, flt),
                                "machine-stock.csv")

    @get("/{serial_number:str}", operation_id="GetMachine", sync_to_thread=True,
         summary="One machine by serial number")
    def get_machine(self, serial_number: SerialPath, caller: CallerDep, backoffice: OfficeDep,
            after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_STOCK)
        fresh(backoffice, "machine_stock", after)
        with backoffice.read() as cur:
            row = machine_stock.get_machine(cur, caller.scope, ids.machine_unit_id(serial_number))
        if row is None:
            raise NotFoundError(f"Machine {ids.normalise_key(serial_number)} does not exist.",
                                code="machine-unit-not-found")
        return row

    @get("/{serial_number:str}/history", operation_id="GetMachineHistory", sync_to_thread=True,
         summary="Every event of a machine, in order, with who, when and why")
    def history(self, serial_number: SerialPath, caller: CallerDep, backoffice: OfficeDep) -> dict[str, Any]:
        events = backoffice.history.machine_history(caller, serial_number)
        return {"serial_number": ids.normalise_key(serial_number), "contracts": contracts_of_machine(events),
                "events": events}


class UserController(Controller):
    path = "/users"
    tags = ["access"]

    @post("/", operation_id="CreateUser", sync_to_thread=True, summary="Create a user with roles and positions")
    def create(self, data: JSONBody[CreateUserRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.create_user(caller, data.username, data.display_name, data.password,
                                                    data.roles, data.position_ids, idempotency_key))

    @get("/", operation_id="ListUsers", sync_to_thread=True, summary="Users with their roles and positions")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        caller.require(Permission.MANAGE_USERS)
        fresh(backoffice, "access_directory", after)
        with backoffice.read() as cur:
            items = access_directory.list_users(cur)
        return {"items": items, "total": len(items)}

    @post("/{user_id:uuid}/grant-role", operation_id="GrantRole", sync_to_thread=True, summary="Grant a role")
    def grant_role(self, user_id: FromPath[UUID], data: JSONBody[RoleRequest], caller: CallerDep, backoffice: OfficeDep,
                   idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.grant_role(caller, user_id, data.role, idempotency_key))

    @post("/{user_id:uuid}/revoke-role", operation_id="RevokeRole", sync_to_thread=True, summary="Revoke a role")
    def revoke_role(self, user_id: FromPath[UUID], data: JSONBody[RoleRequest], caller: CallerDep, backoffice: OfficeDep,
                    idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.revoke_role(caller, user_id, data.role, idempotency_key))

    @post("/{user_id:uuid}/assign-position", operation_id="AssignPosition", sync_to_thread=True,
          summary="Give a user a position (the companies whose data they see)")
    def assign_position(self, user_id: FromPath[UUID], data: JSONBody[PositionRequest], caller: CallerDep, backoffice: OfficeDep,
                        idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.assign_position(caller, user_id, data.position_id, idempotency_key))

    @post("/{user_id:uuid}/unassign-position", operation_id="UnassignPosition", sync_to_thread=True,
          summary="Take a position from a user")
    def unassign_position(self, user_id: FromPath[UUID], data: JSONBody[PositionRequest], caller: CallerDep, backoffice: OfficeDep,
                          idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.unassign_position(caller, user_id, data.position_id, idempotency_key))


class PositionController(Controller):
    path = "/positions"
    tags = ["access"]

    @post("/", operation_id="CreatePosition", sync_to_thread=True,
          summary="Create a position granting some companies, or the whole group")
    def create(self, data: JSONBody[CreatePositionRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.create_position(caller, data.name, data.company_ids, data.all_companies,
                                                        idempotency_key))

    @get("/", operation_id="ListPositions", sync_to_thread=True, summary="Positions and the companies they grant")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        caller.require(Permission.MANAGE_USERS)
        fresh(backoffice, "access_directory", after)
        with backoffice.read() as cur:
            items = access_directory.list_positions(cur)
        return {"items": items, "total": len(items)}

    @post("/{position_id:uuid}/change-companies", operation_id="ChangePositionCompanies", sync_to_thread=True,
          summary="Change which companies a position grants")
    def change_companies(self, position_id: FromPath[UUID], data: JSONBody[ChangePositionCompaniesRequest], caller: CallerDep,
                         backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.access.change_position_companies(caller, position_id, data.company_ids,
                                                                  data.all_companies, idempotency_key))


def all_controllers() -> list[type[Controller]]:
    from interfaces.http.audit import AUDIT_CONTROLLERS
    from interfaces.http.collection import COLLECTION_CONTROLLERS
    from interfaces.http.coupons import COUPON_CONTROLLERS
    from interfaces.http.exports import EXPORT_CONTROLLERS
    from interfaces.http.delivery import DELIVERY_CONTROLLERS
    from interfaces.http.parts import PARTS_CONTROLLERS
    from interfaces.http.receivables import RECEIVABLE_CONTROLLERS
    from interfaces.http.sales import SALES_CONTROLLERS

    return [AuthController, CompanyController, WarehouseController, MachineModelController, MachineController,
            UserController, PositionController, *SALES_CONTROLLERS, *DELIVERY_CONTROLLERS,
            *RECEIVABLE_CONTROLLERS, *COLLECTION_CONTROLLERS, *COUPON_CONTROLLERS,
            *PARTS_CONTROLLERS, *AUDIT_CONTROLLERS, *EXPORT_CONTROLLERS]
