"""The dealer group: member companies, their warehouses, and the machine models sold."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate, InvalidValueError, require_key, require_text


class Company(DealerAggregate):
    """A member company (公司) of the group. Its id is derived from its code."""

    is_reference_data = True

    class Created(DealerAggregate.Created):
        code: str
        name: str

        def apply(self, company: Company) -> None:
            company.code = self.code
            company.name = self.name

    @classmethod
    def create(cls, ctx: Context, code: str, name: str) -> Company:
        code = require_key(code, "code", 20)
        name = require_text(name, "name")
        company_id = ids.company_id(code)
        return cls._start(cls.Created, company_id, ctx, company_id, code=code, name=name)


class WarehouseKind(StrEnum):
    MAIN = "main"          # whole machines and parts
    PARTS = "parts"        # 配件库
    MOBILE = "mobile"      # 移动库: a technician's van, named after the technician


class Warehouse(DealerAggregate):
    """A warehouse (仓库) of one member company."""

    is_reference_data = True

    class Created(DealerAggregate.Created):
        """Version 2: a mobile warehouse names the technician's user (``technician_id``),
        so that the technician acts on it; version 1 named them only by name."""

        class_version = 2

        code: str
        name: str
        kind: WarehouseKind
        technician_name: str | None
        technician_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["technician_id"] = None

        def apply(self, warehouse: Warehouse) -> None:
            warehouse.company_id = self.company_id
            warehouse.code = self.code
            warehouse.name = self.name
            warehouse.kind = self.kind
            warehouse.technician_name = self.technician_name
            warehouse.technician_id = self.technician_id

    @classmethod
    def create(cls, ctx: Context, company: Company, code: str, name: str,
               kind: WarehouseKind, technician_name: str | None = None,
               technician_id: UUID | None = None) -> Warehouse:
        code = require_key(code, "code", 20)
        name = require_text(name, "name")
        if kind == WarehouseKind.MOBILE:
            technician_name = require_text(technician_name or "", "technician_name", 100)
        elif (technician_name or "").strip():
            raise InvalidValueError("Only a mobile warehouse is named after a technician.",
                                    field="technician_name")
        else:
            technician_name = None
        if technician_id is not None and kind != WarehouseKind.MOBILE:
            raise InvalidValueError("Only a mobile warehouse belongs to a technician.", field="technician_id")
        return cls._start(cls.Created, ids.warehouse_id(company.id, code), ctx, company.id,
                          code=code, name=name, kind=kind, technician_name=technician_name,
                          technician_id=technician_id)

    @property
    def holds_machines(self) -> bool:
        return self.kind == WarehouseKind.MAIN


class MachineType(StrEnum):
    EXCAVATOR = "excavator"
    LOADER = "loader"
    ROLLER = "roller"
    CRANE = "crane"
    OTHER = "other"


class MachineModel(DealerAggregate):
    """A machine model (机型) sold by the group, e.g. SY215C. Group-wide."""

    is_reference_data = True

    class Registered(DealerAggregate.Created):
        code: str
        name: str
        machine_type: MachineType

        def apply(self, model: MachineModel) -> None:
            model.code = self.code
            model.name = self.name
            model.machine_type = self.machine_type

    @classmethod
    def register(cls, ctx: Context, code: str, name: str, machine_type: MachineType) -> MachineModel:
        code = require_key(code, "code", 40)
        name = require_text(name, "name")
        return cls._start(cls.Registered, ids.machine_model_id(code), ctx, None,
                          code=code, name=name, machine_type=machine_type)
