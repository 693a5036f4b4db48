"""Commands of machine stock and their answers."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from application.fields import Reason, Serial
from application.handling import Answer, Command
from domain.machines import MachineNature, MachineStatus


class MachineReceived(Answer):
    machine_id: UUID
    serial_number: str
    status: MachineStatus


class MachineTransferred(Answer):
    machine_id: UUID
    serial_number: str
    warehouse_id: UUID
    company_id: UUID


class ReceiveMachine(Command):
    """Receive a machine into a warehouse (入库) by its serial number."""

    answer_type: ClassVar = MachineReceived
    creates: ClassVar = True
    serial_number: Serial
    model_id: UUID
    warehouse_id: UUID
    nature: MachineNature


class TransferMachine(Command):
    """Move a machine in stock to another warehouse (调拨), possibly of another member company."""

    answer_type: ClassVar = MachineTransferred
    serial_number: Serial
    to_warehouse_id: UUID
    reason: Reason
