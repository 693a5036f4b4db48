"""The sales contract (销售申请 → 合同): from a salesperson's draft to an approved contract.

    draft (salesperson) ──submit to clerk──▶ with clerk ──submit for approval──▶ in approval
      ▲                                  │  ▲                                   │      │
      └──── returned, with a reason ─────┘  └───── rejected, with a reason ─────┘      │ last step approves
                                            ▲                                          ▼
                                            └────────── un-approved, with a reason ── approved

- The salesperson edits the draft (customer, contact, machine lines, prices).
- The clerk completes the commercial terms (cash or installment, warranty deposit,
  agreed accessories, coupons granted) or returns the draft to the salesperson.
- Once submitted for approval nothing is edited and nothing goes back to the
  salesperson; each step of the route (``domain.approvals``) approves or rejects.
- An approved contract can be un-approved (取消审核) through contract review: back
  to the clerk. It is refused once a machine went out or money came in under it;
  machines picked but not yet dispatched are released by the same command.

Delivery (交机出库) of an approved contract, each act by its role:

    pick machines (推选机号) + accessory outbound lines ──▶ outbound N open
      ──finance review (出库单财务审核)──▶ reviewed ──dispatch (出库发车)──▶ dispatched
                   ◀──finance returns it, with a reason──┘

- A pick reserves the unit for this contract (``MachineUnit.Reserved``), saved
  with the contract in one transaction: the unit's own version guarantees that
  only one contract gets it.
- Picks and accessory lines made after an outbound was reviewed go on the next
  outbound, so a contract of several machines can be delivered in batches.
- After dispatch a unit can be swapped (销售换机): the new unit takes the old
  one's place on the contract's documents; contract, old and new unit are saved
  in one transaction.
- The contract changes only itself: it reads a unit as ``MachineFacts`` and answers
  what the units and parts stocks must do; the application's handler calls their own
  commands and saves them all together.
"""


# Stored topics name this package, never its modules: the store keeps every event's topic and
# the aggregate's (``domain.contracts:Contract.Drafted``, ``domain.contracts:Contract``), and a
# snapshot keeps the topic of every enum and value object in the contract's state
# (``domain.contracts:OutboundLine``, see ``domain/snapshots.py``). So every class that was in
# the old ``domain/contracts.py`` sets ``__module__ = "domain.contracts"`` in its body (the
# library gives the aggregate's nested event classes the aggregate's module), and is imported
# here, where ``resolve_topic`` looks for it. ``tests/unit/test_event_topics.py`` pins the topics;
# ``tests/unit/test_values.py`` finds the domain errors by this module name too.
#
# The value objects' string annotations are therefore resolved in this namespace (msgspec
# decoding events and commands): the types they name are imported here as well.
from datetime import date  # noqa: F401  (annotations of the value objects, see above)
from decimal import Decimal  # noqa: F401
from uuid import UUID  # noqa: F401

from domain.contracts.contract import Contract
from domain.contracts.errors import (AccessoryOverDeliveredError, ContractAlreadyStartedError, ContractStateError,
                                     ContractTermsMissingError, MachineAlreadyPickedError,
                                     MachineDoesNotFitContractError, MachineNotOnContractError, OutboundStateError)
from domain.contracts.outbounds import (MAX_OUTBOUND_LINES, Outbound, OutboundDispatch, OutboundLine, OutboundStatus,
                                        Pick, UnapprovalReleases)
from domain.contracts.terms import (FIRST_DUE_WITHIN_DAYS, MAX_LINES, MAX_QUANTITY, AgreedAccessory, ApprovedSale,
                                    CommercialTerms,
                                    ContractLine, ContractStatus, GrantedCoupon, InstallmentTerms, PaymentMethod,
                                    ScheduleMethod, check_lines, check_terms)

__all__ = [
    "ContractStatus", "PaymentMethod", "ScheduleMethod", "ContractLine", "InstallmentTerms", "AgreedAccessory",
    "GrantedCoupon", "CommercialTerms", "ApprovedSale", "OutboundStatus", "OutboundLine", "Outbound", "Pick",
    "OutboundDispatch", "UnapprovalReleases",
    "MAX_LINES", "MAX_QUANTITY", "MAX_OUTBOUND_LINES", "FIRST_DUE_WITHIN_DAYS",
    "ContractStateError", "ContractTermsMissingError", "ContractAlreadyStartedError",
    "MachineDoesNotFitContractError", "MachineAlreadyPickedError", "MachineNotOnContractError",
    "OutboundStateError", "AccessoryOverDeliveredError",
    "check_lines", "check_terms", "Contract",
]
