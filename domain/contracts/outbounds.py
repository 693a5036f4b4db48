"""What a contract keeps of its delivery (交机出库): its outbounds (出库单), their accessory
lines, and the machines picked for it (see the package's docstring for the acts).

Every class here keeps ``__module__ = "domain.contracts"``: snapshots store their topics
(see ``domain/contracts/__init__.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from uuid import UUID


class OutboundStatus(StrEnum):
    __module__ = "domain.contracts"

    OPEN = "open"                # being put together: picked machines, accessory lines
    REVIEWED = "reviewed"        # finance reviewed it (出库单财务审核); waiting for dispatch
    DISPATCHED = "dispatched"    # 出库发车: its machines and accessories left
    CANCELLED = "cancelled"      # the contract was un-approved before dispatch


@dataclass(frozen=True)
class OutboundLine:
    """One accessory line of an outbound: an agreed accessory (``agreed_accessory_no``,
    1-based in the contract's terms) or an extra line not in the contract (None)."""

    __module__ = "domain.contracts"

    line_no: int
    name: str
    quantity: int
    unit_price: Decimal
    agreed_accessory_no: int | None
    # The catalogue part and the warehouse it comes from, when the accessory is a stocked
    # part: its stock is reserved while the outbound is open and issued at dispatch.
    part_id: UUID | None = None
    warehouse_id: UUID | None = None


@dataclass
class Outbound:
    """出库单 of a contract, as the contract keeps it (state, not a stored event)."""

    __module__ = "domain.contracts"

    number: int
    status: OutboundStatus = OutboundStatus.OPEN
    lines: dict[int, OutboundLine] = field(default_factory=dict)
    serials: set[str] = field(default_factory=set)


@dataclass
class Pick:
    __module__ = "domain.contracts"

    machine_id: UUID
    serial_number: str
    line_no: int
    outbound_no: int
    dispatched: bool = False


@dataclass(frozen=True)
class OutboundDispatch:
    """What a dispatch (出库发车) sends out, for the handler to move in the other aggregates:
    the units by serial, in serial order, and the stocked accessory lines, in line order,
    whose parts leave their warehouses."""

    __module__ = "domain.contracts"

    outbound_no: int
    serial_numbers: tuple[str, ...]
    stocked_lines: tuple[OutboundLine, ...]


@dataclass(frozen=True)
class UnapprovalReleases:
    """What an un-approval (取消审核) gives back, for the handler to release: the picks, in
    serial order (their units return to stock), and the stocked accessory lines of the
    cancelled outbounds, in outbound and line order (their parts' reservations)."""

    __module__ = "domain.contracts"

    picks: tuple[Pick, ...]
    stocked_lines: tuple[OutboundLine, ...]


MAX_OUTBOUND_LINES = 50
