"""Commands of the group's reference data and their answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar
from uuid import UUID

from msgspec import Meta

from application.fields import PLAIN, Code, Name
from application.handling import Answer, Command
from domain.organisation import MachineType, WarehouseKind


class CompanyCreated(Answer):
    company_id: UUID
    code: str


class WarehouseCreated(Answer):
    warehouse_id: UUID
    code: str


class MachineModelRegistered(Answer):
    model_id: UUID
    code: str


class CreateCompany(Command):
    """Add a member company to the group."""

    answer_type: ClassVar = CompanyCreated
    creates: ClassVar = True
    code: Code
    name: Name


class CreateWarehouse(Command):
    """Add a warehouse (a main store, a branch or a technician's van) to a member company."""

    answer_type: ClassVar = WarehouseCreated
    creates: ClassVar = True
    company_id: UUID
    code: Code
    name: Name
    kind: WarehouseKind = WarehouseKind.MAIN
    technician_name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None
    technician_id: Annotated[UUID, Meta(description=(
        "A mobile warehouse's technician (a user with the technician role): they request, receive and use its "
        "parts."))] | None = None

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        # Requests before technician_id existed were fingerprinted without it.
        request: dict[str, Any] = {"company_id": self.company_id, "code": self.code, "name": self.name,
                                   "kind": self.kind, "technician_name": self.technician_name}
        if self.technician_id:
            request["technician_id"] = self.technician_id
        return request


class RegisterMachineModel(Command):
    """Register a machine model the group sells."""

    answer_type: ClassVar = MachineModelRegistered
    creates: ClassVar = True
    code: Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]
    name: Name
    machine_type: MachineType
