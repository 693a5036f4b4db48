"""Every read model of the product, in the order they are built."""

from projections.access_directory import AccessDirectoryProjection
from projections.audit import AuditEventsProjection, EventChainProjection
from projections.approval_queue import ApprovalQueueProjection
from projections.base import Projection
from projections.contracts import ContractsProjection
from projections.coupons import CouponsProjection
from projections.customers import CustomersProjection
from projections.deliveries import DeliveriesProjection
from projections.machine_stock import MachineStockProjection
from projections.receivables import ReceivablesProjection
from projections.organisation import OrganisationProjection
from projections.parts import PartsProjection

ALL_PROJECTIONS: tuple[type[Projection], ...] = (
    OrganisationProjection,
    MachineStockProjection,
    AccessDirectoryProjection,
    CustomersProjection,
    ContractsProjection,
    ApprovalQueueProjection,
    DeliveriesProjection,
    ReceivablesProjection,
    CouponsProjection,
    PartsProjection,
    AuditEventsProjection,
    EventChainProjection,
)
