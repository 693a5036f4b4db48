"""Stored events are forever: the topic of every event class is pinned here.

The store keeps each event's topic (``module:QualName``) and, in every creation
event, the aggregate's topic (``originator_topic``). A rename or move of a class
changes its topic and fails these tests until the old topic is registered in
``domain/topics.py``. A new event class fails them too, until its topic is
added below on purpose."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

import domain
import domain.topics  # noqa: F401  (registers the old topics of moved classes)
from domain.base import DealerAggregate
from interfaces.persistence.encoding import MsgspecMapper

AGGREGATE_TOPICS = {
    "domain.organisation:Company",
    "domain.organisation:Warehouse",
    "domain.organisation:MachineModel",
    "domain.machines:MachineUnit",
    "domain.access:Position",
    "domain.access:User",
    "domain.commands:CommandRecord",
    "domain.approvals:ApprovalRule",
    "domain.customers:CustomerType",
    "domain.customers:CustomerTag",
    "domain.customers:Customer",
    "domain.customers:Contact",
    "domain.contracts:Contract",
    "domain.receivables:Debt",
    "domain.receivables:PenaltyPolicy",
    "domain.collection:CollectionApplication",
    "domain.coupons:Coupon",
    "domain.parts:Part",
    "domain.parts:PartStock",
    "domain.parts:PurchaseOrder",
    "domain.parts:PartsQuote",
    "domain.parts:PartsSale",
    "domain.parts:PartsOutbound",
    "domain.parts:PartsRequest",
    "domain.parts:WorkOrder",
}

EVENT_TOPICS = {
    "domain.organisation:Company.Created",
    "domain.organisation:Warehouse.Created",
    "domain.organisation:MachineModel.Registered",
    "domain.machines:MachineUnit.Received",
    "domain.machines:MachineUnit.Transferred",
    "domain.machines:MachineUnit.Reserved",
    "domain.machines:MachineUnit.ReservationReleased",
    "domain.machines:MachineUnit.Dispatched",
    "domain.machines:MachineUnit.SwappedOut",
    "domain.machines:MachineUnit.SwappedIn",
    "domain.machines:MachineUnit.Locked",
    "domain.machines:MachineUnit.Unlocked",
    "domain.machines:MachineUnit.Towed",
    "domain.machines:MachineUnit.RepossessionReceived",
    "domain.access:Position.Created",
    "domain.access:Position.CompaniesChanged",
    "domain.access:User.Created",
    "domain.access:User.RoleGranted",
    "domain.access:User.RoleRevoked",
    "domain.access:User.PositionAssigned",
    "domain.access:User.PositionUnassigned",
    "domain.access:User.PasswordChanged",
    "domain.commands:CommandRecord.Recorded",
    "domain.approvals:ApprovalRule.Set",
    "domain.approvals:ApprovalRule.Revised",
    "domain.customers:CustomerType.Defined",
    "domain.customers:CustomerTag.Defined",
    "domain.customers:Customer.Registered",
    "domain.customers:Customer.Tagged",
    "domain.customers:Customer.Untagged",
    "domain.customers:Customer.ContactLinked",
    "domain.customers:Contact.Registered",
    "domain.contracts:Contract.Drafted",
    "domain.contracts:Contract.DraftRevised",
    "domain.contracts:Contract.SubmittedToClerk",
    "domain.contracts:Contract.ReturnedToSalesperson",
    "domain.contracts:Contract.TermsCompleted",
    "domain.contracts:Contract.TermsCleared",
    "domain.contracts:Contract.SubmittedForApproval",
    "domain.contracts:Contract.ApprovalStepPassed",
    "domain.contracts:Contract.Approved",
    "domain.contracts:Contract.Rejected",
    "domain.contracts:Contract.Unapproved",
    "domain.contracts:Contract.MachinePicked",
    "domain.contracts:Contract.MachineReleased",
    "domain.contracts:Contract.AccessoryOutboundLineAdded",
    "domain.contracts:Contract.AccessoryOutboundLineRemoved",
    "domain.contracts:Contract.OutboundReviewed",
    "domain.contracts:Contract.OutboundReturned",
    "domain.contracts:Contract.OutboundDispatched",
    "domain.contracts:Contract.OutboundCancelled",
    "domain.contracts:Contract.MachineSwapped",
    "domain.receivables:PenaltyPolicy.Created",
    "domain.receivables:PenaltyPolicy.RateSet",
    "domain.receivables:Debt.Opened",
    "domain.receivables:Debt.Reopened",
    "domain.receivables:Debt.Closed",
    "domain.receivables:Debt.ScheduleSet",
    "domain.receivables:Debt.ReceiptRecorded",
    "domain.receivables:Debt.ReceiptRejected",
    "domain.receivables:Debt.ReceiptConfirmed",
    "domain.receivables:Debt.ReceiptReallocated",
    "domain.receivables:Debt.ReceiptReversed",
    "domain.receivables:Debt.PenaltyAccrued",
    "domain.receivables:Debt.PenaltyAdjusted",
    "domain.receivables:Debt.CollectorAssigned",
    "domain.receivables:Debt.CollectionLogged",
    "domain.receivables:Debt.ApplicationOpened",
    "domain.receivables:Debt.ApplicationClosed",
    "domain.receivables:Debt.PenaltyWaived",
    "domain.receivables:Debt.Settled",
    "domain.receivables:Debt.DocumentsReleased",
    "domain.collection:CollectionApplication.Applied",
    "domain.collection:CollectionApplication.SubmittedForApproval",
    "domain.collection:CollectionApplication.ApprovalStepPassed",
    "domain.collection:CollectionApplication.Approved",
    "domain.collection:CollectionApplication.Rejected",
    "domain.collection:CollectionApplication.LockRegistered",
    "domain.collection:CollectionApplication.UnlockRegistered",
    "domain.collection:CollectionApplication.TowRegistered",
    "domain.collection:CollectionApplication.MachineReceivedBack",
    "domain.coupons:Coupon.Issued",
    "domain.coupons:Coupon.Adjusted",
    "domain.coupons:Coupon.DetailsChanged",
    "domain.coupons:Coupon.Voided",
    "domain.coupons:Coupon.Regranted",
    "domain.coupons:Coupon.Redeemed",
    "domain.coupons:Coupon.RedeemedOnPartsSale",
    "domain.coupons:Coupon.RedemptionRestored",
    "domain.parts:Part.Registered",
    "domain.parts:Part.PricesChanged",
    "domain.parts:PartStock.Opened",
    "domain.parts:PartStock.InboundExpected",
    "domain.parts:PartStock.Received",
    "domain.parts:PartStock.Reserved",
    "domain.parts:PartStock.ReservationReleased",
    "domain.parts:PartStock.Issued",
    "domain.parts:PartStock.Consumed",
    "domain.parts:PurchaseOrder.Placed",
    "domain.parts:PurchaseOrder.Received",
    "domain.parts:PartsQuote.Offered",
    "domain.parts:PartsQuote.Agreed",
    "domain.parts:PartsQuote.Sold",
    "domain.parts:PartsSale.Drafted",
    "domain.parts:PartsSale.Submitted",
    "domain.parts:PartsSale.Shipped",
    "domain.parts:PartsSale.Cancelled",
    "domain.parts:PartsSale.PaymentReceived",
    "domain.parts:PartsOutbound.Prepared",
    "domain.parts:PartsOutbound.Shipped",
    "domain.parts:PartsOutbound.Cancelled",
    "domain.parts:PartsRequest.Requested",
    "domain.parts:PartsRequest.Handled",
    "domain.parts:PartsRequest.OutboundPrepared",
    "domain.parts:PartsRequest.Shipped",
    "domain.parts:PartsRequest.ReceiptConfirmed",
    "domain.parts:WorkOrder.Opened",
    "domain.parts:WorkOrder.PartsConsumed",
    "domain.parts:WorkOrder.Completed",
}

# The library gives every aggregate its own copy of the inherited ``Created``
# class. Where an aggregate names its creation event otherwise (Registered,
# Received, Recorded), that copy is never recorded: listed here, not pinned.
NEVER_RECORDED = {
    "domain.organisation:MachineModel.Created",
    "domain.machines:MachineUnit.Created",
    "domain.commands:CommandRecord.Created",
    "domain.approvals:ApprovalRule.Created",
    "domain.customers:CustomerType.Created",
    "domain.customers:CustomerTag.Created",
    "domain.customers:Customer.Created",
    "domain.customers:Contact.Created",
    "domain.contracts:Contract.Created",
    "domain.receivables:Debt.Created",
    "domain.collection:CollectionApplication.Created",
    "domain.coupons:Coupon.Created",
    "domain.parts:Part.Created",
    "domain.parts:PartStock.Created",
    "domain.parts:PurchaseOrder.Created",
    "domain.parts:PartsQuote.Created",
    "domain.parts:PartsSale.Created",
    "domain.parts:PartsOutbound.Created",
    "domain.parts:PartsRequest.Created",
    "domain.parts:WorkOrder.Created",
}


def _aggregates() -> set[type[DealerAggregate]]:
    found = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DealerAggregate) and cls is not DealerAggregate and cls.__module__ == module.__name__:
                found.add(cls)
    return found


def _event_classes() -> set[type]:
    """Every event class nested on a domain aggregate, but the aggregate's own
    base ``X.Event`` (never stored itself) and the library's classes."""
    events = set()
    for aggregate in _aggregates():
        events |= {value for value in vars(aggregate).values()
                   if isinstance(value, type) and issubclass(value, Aggregate.Event)
                   and value is not aggregate.Event and value.__module__.startswith("domain.")}
    return events


def test_the_aggregate_classes_are_pinned():
    assert {get_topic(cls) for cls in _aggregates()} == AGGREGATE_TOPICS


def test_every_event_class_has_its_topic_pinned():
    assert {get_topic(cls) for cls in _event_classes()} == EVENT_TOPICS | NEVER_RECORDED


def test_the_unrecorded_creation_classes_are_only_the_librarys_copies():
    for topic in NEVER_RECORDED:
        cls = resolve_topic(topic)
        aggregate = resolve_topic(topic.rsplit(".", 1)[0])
        named_creation = [e for e in _event_classes() if get_topic(e) in EVENT_TOPICS
                          and issubclass(e, DealerAggregate.Created) and e.__qualname__.startswith(
                              aggregate.__qualname__ + ".")]
        assert len(named_creation) == 1, f"{aggregate.__name__} has one creation event of its own"
        assert inspect.get_annotations(cls) == {}, f"{topic} declares fields: it would be stored"


def test_every_pinned_topic_resolves_to_exactly_its_class():
    for topic in AGGREGATE_TOPICS | EVENT_TOPICS:
        cls = resolve_topic(topic)
        assert get_topic(cls) == topic
    for topic in EVENT_TOPICS:
        cls = resolve_topic(topic)
        assert issubclass(cls, DealerAggregate.Event)
        owner = resolve_topic(topic.rsplit(".", 1)[0])
        assert getattr(owner, cls.__name__) is cls  # the class the aggregate itself records


def test_every_stored_event_carries_the_business_metadata():
    metadata = {"actor_id", "company_id", "command_id", "business_date", "reason"}
    assert metadata <= set(inspect.get_annotations(DealerAggregate.Event))
    outside = [topic for topic in EVENT_TOPICS if not issubclass(resolve_topic(topic), DealerAggregate.Event)]
    assert outside == [], f"events without actor, company, command, business date and reason: {outside}"


def test_a_creation_event_stores_the_aggregates_topic():
    from tests.unit.test_encoding import EVENTS  # one event of every pinned class

    mapper = MsgspecMapper()
    for event in EVENTS:
        stored = mapper.to_stored_event(event)
        assert stored.topic == get_topic(type(event)) and stored.topic in EVENT_TOPICS
        if isinstance(event, Aggregate.Created):
            originator_topic = msgspec.json.decode(stored.state)["originator_topic"]
            assert originator_topic in AGGREGATE_TOPICS
            assert stored.topic.startswith(originator_topic + ".")


def test_the_snapshot_topic_is_pinned():
    """Snapshots are stored with their class's topic too: moving it orphans every snapshot."""
    from eventsourcing.utils import get_topic

    from domain.base import DealerAggregate
    from domain.snapshots import AggregateSnapshot

    assert DealerAggregate.Snapshot is AggregateSnapshot
    assert get_topic(AggregateSnapshot) == "domain.snapshots:AggregateSnapshot"
