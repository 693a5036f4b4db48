"""Machine units (整机): one physical machine, known by its serial number (机号)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import AlreadyExistsError, Context, DealerAggregate, DomainError, require_key, require_text
from domain.organisation import MachineModel, Warehouse


class MachineNature(StrEnum):
    """Why the unit came into stock (入库性质)."""

    PURCHASED_SAMPLE = "purchased_sample"   # 采购样机
    TRADE_IN = "trade_in"                   # 置换回收
    SALES_RETURN = "sales_return"           # 销售退库机
    REPOSSESSED = "repossessed"             # 债权机
    LEASE_RETURN = "lease_return"           # 租赁机


class MachineStatus(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    OUT = "out"
    LEASED = "leased"
    REPOSSESSED = "repossessed"
    SCRAPPED = "scrapped"


class MachineAlreadyInStockError(AlreadyExistsError):
    code = "serial-number-exists"


class MachineNotInStockError(DomainError):
    code = "machine-not-in-stock"


class SameWarehouseError(DomainError):
    code = "same-warehouse"
    status = 422


class WarehouseCannotHoldMachinesError(DomainError):
    code = "warehouse-cannot-hold-machines"
    status = 422


class MachineUnit(DealerAggregate):
    """A physical machine. Its id is derived from the serial number, so the
    same serial cannot be received twice anywhere in the group."""

    class Received(DealerAggregate.Created):
        """入库: the unit enters a warehouse of a member company."""

        serial_number: str
        model_id: UUID
        model_code: str
        warehouse_id: UUID
        nature: MachineNature

        def apply(self, unit: MachineUnit) -> None:
            unit.serial_number = self.serial_number
            unit.model_id = self.model_id
            unit.model_code = self.model_code
            unit.company_id = self.company_id
            unit.warehouse_id = self.warehouse_id
            unit.nature = self.nature
            unit.status = MachineStatus.IN_STOCK

    class Transferred(DealerAggregate.Event):
        """调拨: moved from one warehouse to another, possibly of another member company.
        ``company_id`` is the receiving company."""

        from_company_id: UUID
        from_warehouse_id: UUID
        to_warehouse_id: UUID

        def apply(self, unit: MachineUnit) -> None:
            unit.company_id = self.company_id
            unit.warehouse_id = self.to_warehouse_id

    # ------------------------------------------------------------ commands
    @classmethod
    def receive(cls, ctx: Context, serial_number: str, model: MachineModel,
                warehouse: Warehouse, nature: MachineNature) -> MachineUnit:
        serial = require_key(serial_number, "serial_number", 40)
        if not warehouse.holds_machines:
            raise WarehouseCannotHoldMachinesError(
                f"Warehouse {warehouse.code} is a {warehouse.kind} warehouse; machines go to a main warehouse.")
        return cls._start(cls.Received, ids.machine_unit_id(serial), ctx, warehouse.company_id,
                          serial_number=serial, model_id=model.id, model_code=model.code,
                          warehouse_id=warehouse.id, nature=nature)

    def refuse_second_creation(self) -> MachineAlreadyInStockError:
        return self.serial_taken(self.serial_number)

    @staticmethod
    def serial_taken(serial_number: str) -> MachineAlreadyInStockError:
        serial = ids.normalise_key(serial_number)
        return MachineAlreadyInStockError(f"Serial number {serial} is already registered in the group.",
                                          serial_number=serial)

    def transfer(self, ctx: Context, to: Warehouse) -> None:
        if self.status != MachineStatus.IN_STOCK:
            raise MachineNotInStockError(
                f"Machine {self.serial_number} is {self.status}, only a machine in stock can be transferred.")
        if to.id == self.warehouse_id:
            raise SameWarehouseError(f"Machine {self.serial_number} is already in warehouse {to.code}.")
        if not to.holds_machines:
            raise WarehouseCannotHoldMachinesError(
                f"Warehouse {to.code} is a {to.kind} warehouse; machines go to a main warehouse.")
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.Transferred, ctx, to.company_id, from_company_id=self.company_id,
                     from_warehouse_id=self.warehouse_id, to_warehouse_id=to.id)
