"""Machine units (整机): one physical machine, known by its serial number (机号)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import AlreadyExistsError, Context, DealerAggregate, DomainError, InvalidValueError, require_key, require_text
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


class MachineAlreadyReservedError(DomainError):
    """推选机号 refused: another contract picked the unit first."""

    code = "machine-already-reserved"


class MachineNotReservedError(DomainError):
    code = "machine-not-reserved"


class MachineNotOutError(DomainError):
    code = "machine-not-out"


class MachineLockStateError(DomainError):
    """锁机 / 开机 refused: the machine is already locked, or not locked."""

    code = "machine-lock-state"


class SameWarehouseError(InvalidValueError):
    code = "same-warehouse"


class WarehouseCannotHoldMachinesError(InvalidValueError):
    code = "warehouse-cannot-hold-machines"


@dataclass(frozen=True)
class MachineFacts:
    """What a contract reads of a unit to pick or swap it: plain values, so the contract
    decides without holding the unit, and only the unit's own commands change the unit."""

    id: UUID
    serial_number: str
    model_id: UUID
    model_code: str
    company_id: UUID


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
            unit.contract_id = None
            unit.contract_number = None
            unit.locked = False

    class Transferred(DealerAggregate.Event):
        """调拨: moved from one warehouse to another, possibly of another member company.
        ``company_id`` is the receiving company."""

        from_company_id: UUID
        from_warehouse_id: UUID
        to_warehouse_id: UUID

        def apply(self, unit: MachineUnit) -> None:
            unit.company_id = self.company_id
            unit.warehouse_id = self.to_warehouse_id

    class Reserved(DealerAggregate.Event):
        """推选机号: picked for a contract; nobody else can pick it until it is released."""

        contract_id: UUID
        contract_number: str

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.RESERVED
            unit.contract_id = self.contract_id
            unit.contract_number = self.contract_number

    class ReservationReleased(DealerAggregate.Event):
        """The pick is undone (pick changed, contract un-approved): pickable again."""

        contract_id: UUID
        contract_number: str

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.IN_STOCK
            unit.contract_id = None
            unit.contract_number = None

    class Dispatched(DealerAggregate.Event):
        """出库发车: the machine left the warehouse under its contract; it is sold."""

        contract_id: UUID
        contract_number: str

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.OUT

    class SwappedOut(DealerAggregate.Event):
        """销售换机: taken back from the customer and replaced on the contract by another
        unit; back in stock in ``warehouse_id`` and pickable again."""

        contract_id: UUID
        contract_number: str
        replaced_by_serial: str
        warehouse_id: UUID

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.IN_STOCK
            unit.warehouse_id = self.warehouse_id
            unit.contract_id = None
            unit.contract_number = None

    class SwappedIn(DealerAggregate.Event):
        """销售换机: goes out under the contract in place of ``replaces_serial``."""

        contract_id: UUID
        contract_number: str
        replaces_serial: str

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.OUT
            unit.contract_id = self.contract_id
            unit.contract_number = self.contract_number

    # ------------------------------------------------------------ debt collection (acts of an approved application)
    class Locked(DealerAggregate.Event):
        """锁机: the machine was locked remotely (at ``locked_at``) under an approved lock application."""

        contract_id: UUID
        contract_number: str
        application_id: UUID
        locked_at: datetime

        def apply(self, unit: MachineUnit) -> None:
            unit.locked = True

    class Unlocked(DealerAggregate.Event):
        """开机: the lock was lifted (at ``unlocked_at``) under an approved unlock application."""

        contract_id: UUID
        contract_number: str
        application_id: UUID
        unlocked_at: datetime

        def apply(self, unit: MachineUnit) -> None:
            unit.locked = False

    class Towed(DealerAggregate.Event):
        """拖机登记: taken back from the customer under an approved tow application, on its way
        to a warehouse. Still the contract's unit until it is received."""

        contract_id: UUID
        contract_number: str
        application_id: UUID
        towed_on: date
        place: str
        people: tuple[str, ...]

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.REPOSSESSED

    class RepossessionReceived(DealerAggregate.Event):
        """债权机入库: the towed machine arrived in ``warehouse_id`` and is in stock again as a
        repossessed unit, pickable for another sale. A remote lock still on it is lifted
        (``lock_lifted``): the dealer holds the machine."""

        contract_id: UUID
        contract_number: str
        application_id: UUID
        warehouse_id: UUID
        lock_lifted: bool

        def apply(self, unit: MachineUnit) -> None:
            unit.status = MachineStatus.IN_STOCK
            unit.nature = MachineNature.REPOSSESSED
            unit.warehouse_id = self.warehouse_id
            unit.contract_id = None
            unit.contract_number = None
            unit.locked = False

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

    @property
    def facts(self) -> MachineFacts:
        """The unit as a contract reads it to pick or swap it."""
        return MachineFacts(self.id, self.serial_number, self.model_id, self.model_code, self.company_id)

    # ------------------------------------------------------------ delivery (acts of a contract, run by its handler)
    def reserve(self, ctx: Context, contract_id: UUID, contract_number: str) -> None:
        if self.status == MachineStatus.RESERVED:
            raise MachineAlreadyReservedError(
                f"Machine {self.serial_number} is already reserved for contract {self.contract_number}; "
                "pick another unit.", serial_number=self.serial_number, contract_number=self.contract_number)
        self._require_in_stock("picked")
        self._record(self.Reserved, ctx, self.company_id, contract_id=contract_id, contract_number=contract_number)

    def release(self, ctx: Context, contract_id: UUID) -> None:
        self._require_reserved_for(contract_id, "released")
        self._record(self.ReservationReleased, ctx, self.company_id, contract_id=contract_id,
                     contract_number=self.contract_number)

    def dispatch(self, ctx: Context, contract_id: UUID) -> None:
        self._require_reserved_for(contract_id, "dispatched")
        self._record(self.Dispatched, ctx, self.company_id, contract_id=contract_id,
                     contract_number=self.contract_number)

    def swap_out(self, ctx: Context, contract_id: UUID, replaced_by_serial: str, back_to: Warehouse) -> None:
        """销售换机: back from the customer into ``back_to``, replaced by ``replaced_by_serial``."""
        self.require_out_under(contract_id, "swapped out")
        if self.locked:
            raise MachineLockStateError(f"Machine {self.serial_number} is locked remotely; it is unlocked (开机) "
                                        "before it is swapped.", serial_number=self.serial_number)
        if back_to.company_id != self.company_id or not back_to.holds_machines:
            raise WarehouseCannotHoldMachinesError(
                f"Machine {self.serial_number} comes back to a main warehouse of its own company; "
                f"{back_to.code} is not one.", field="return_warehouse_id")
        self._record(self.SwappedOut, ctx, self.company_id, contract_id=contract_id,
                     contract_number=self.contract_number, replaced_by_serial=replaced_by_serial,
                     warehouse_id=back_to.id)

    def swap_in(self, ctx: Context, contract_id: UUID, contract_number: str, replaces_serial: str) -> None:
        """销售换机: goes out under the contract in place of ``replaces_serial``."""
        if self.status == MachineStatus.RESERVED:
            raise MachineAlreadyReservedError(
                f"Machine {self.serial_number} is reserved for contract {self.contract_number}; "
                "pick another unit to swap in.", serial_number=self.serial_number,
                contract_number=self.contract_number)
        self._require_in_stock("swapped in")
        self._record(self.SwappedIn, ctx, self.company_id, contract_id=contract_id,
                     contract_number=contract_number, replaces_serial=replaces_serial)

    # ------------------------------------------------------------ debt collection
    def require_out_under(self, contract_id: UUID, act: str) -> None:
        if self.status != MachineStatus.OUT or self.contract_id != contract_id:
            raise MachineNotOutError(f"Machine {self.serial_number} is not out with the customer under this "
                                     f"contract (it is {self.status}); it cannot be {act}.",
                                     serial_number=self.serial_number, state=str(self.status))

    def check_can_lock(self, contract_id: UUID) -> None:
        self.require_out_under(contract_id, "locked")
        if self.locked:
            raise MachineLockStateError(f"Machine {self.serial_number} is already locked; it is never locked twice.",
                                        serial_number=self.serial_number, locked=True)

    def check_can_unlock(self, contract_id: UUID) -> None:
        if self.contract_id != contract_id or not self.locked:
            raise MachineLockStateError(f"Machine {self.serial_number} is not locked under this contract; there "
                                        "is nothing to unlock.", serial_number=self.serial_number, locked=False)

    def lock(self, ctx: Context, contract_id: UUID, application_id: UUID, locked_at: datetime) -> None:
        self.check_can_lock(contract_id)
        self._record(self.Locked, ctx, self.company_id, contract_id=contract_id,
                     contract_number=self.contract_number, application_id=application_id, locked_at=locked_at)

    def unlock(self, ctx: Context, contract_id: UUID, application_id: UUID, unlocked_at: datetime) -> None:
        self.check_can_unlock(contract_id)
        self._record(self.Unlocked, ctx, self.company_id, contract_id=contract_id,
                     contract_number=self.contract_number, application_id=application_id, unlocked_at=unlocked_at)

    def tow(self, ctx: Context, contract_id: UUID, application_id: UUID, towed_on: date, place: str,
            people: tuple[str, ...]) -> None:
        self.require_out_under(contract_id, "towed")
        self._record(self.Towed, ctx, self.company_id, contract_id=contract_id, contract_number=self.contract_number,
                     application_id=application_id, towed_on=towed_on, place=place, people=people)

    def receive_repossessed(self, ctx: Context, contract_id: UUID, application_id: UUID, into: Warehouse) -> None:
        if self.status != MachineStatus.REPOSSESSED or self.contract_id != contract_id:
            raise MachineNotOutError(f"Machine {self.serial_number} is {self.status}, not towed under this contract; "
                                     "register the tow first.", serial_number=self.serial_number,
                                     state=str(self.status))
        if into.company_id != self.company_id or not into.holds_machines:
            raise WarehouseCannotHoldMachinesError(
                f"A repossessed machine comes back to a main warehouse of its own company; {into.code} is not one.",
                field="warehouse_id")
        self._record(self.RepossessionReceived, ctx, self.company_id, contract_id=contract_id,
                     contract_number=self.contract_number, application_id=application_id, warehouse_id=into.id,
                     lock_lifted=self.locked)

    def _require_in_stock(self, act: str) -> None:
        if self.status != MachineStatus.IN_STOCK:
            raise MachineNotInStockError(f"Machine {self.serial_number} is {self.status}; only a machine in "
                                         f"stock can be {act}.", serial_number=self.serial_number)

    def _require_reserved_for(self, contract_id: UUID, act: str) -> None:
        if self.status != MachineStatus.RESERVED or self.contract_id != contract_id:
            raise MachineNotReservedError(f"Machine {self.serial_number} is not reserved for this contract, "
                                          f"so it cannot be {act}.", serial_number=self.serial_number)
