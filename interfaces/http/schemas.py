"""Request bodies. Validation of shape, type and size happens here (answered 400);
business rules are the domain's (answered 404/409/422)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.access import Role
from domain.machines import MachineNature
from domain.organisation import MachineType, WarehouseKind

Code = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.\- ]+$",
                           description="Short code, letters and digits; case and spaces are ignored.")]
# Plain text: no control characters except tab and line breaks (PostgreSQL text cannot hold NUL).
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)]
Serial = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$",
                             description="Machine serial number (机号).")]
Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=PLAIN,
                             description="Why; kept in the audit trail.")]
Username = Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._\-]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=200)]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LoginRequest(Body):
    username: Annotated[str, Meta(min_length=1, max_length=60)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]


class ChangePasswordRequest(Body):
    current_password: Annotated[str, Meta(min_length=1, max_length=200)]
    new_password: Password


class CreateCompanyRequest(Body):
    code: Code
    name: Name


class CreateWarehouseRequest(Body):
    company_id: UUID
    code: Code
    name: Name
    kind: WarehouseKind = WarehouseKind.MAIN
    technician_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None


class RegisterMachineModelRequest(Body):
    code: Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]
    name: Name
    machine_type: MachineType


class ReceiveMachineRequest(Body):
    serial_number: Serial
    model_id: UUID
    warehouse_id: UUID
    nature: MachineNature


class TransferMachineRequest(Body):
    to_warehouse_id: UUID
    reason: Reason


class CreateUserRequest(Body):
    username: Username
    display_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    password: Password
    roles: Annotated[list[Role], Meta(max_length=20)] = []
    position_ids: Annotated[list[UUID], Meta(max_length=50)] = []


class RoleRequest(Body):
    role: Role


class PositionRequest(Body):
    position_id: UUID


class CreatePositionRequest(Body):
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
    company_ids: Annotated[list[UUID], Meta(max_length=500)] = []
    all_companies: bool = False


class ChangePositionCompaniesRequest(Body):
    company_ids: Annotated[list[UUID], Meta(max_length=500)] = []
    all_companies: bool = False
