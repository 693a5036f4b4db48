"""The refusals of the sales contract and its delivery.

Every class here keeps ``__module__ = "domain.contracts"``, the module its callers and
``tests/unit/test_values.py`` know it by (see ``domain/contracts/__init__.py``).
"""

from __future__ import annotations

from domain.base import DomainError


class ContractStateError(DomainError):
    """The act does not fit the contract's status; the message names the status."""

    __module__ = "domain.contracts"

    code = "contract-state"


class ContractTermsMissingError(DomainError):
    __module__ = "domain.contracts"

    code = "contract-terms-missing"


class ContractAlreadyStartedError(DomainError):
    """Un-approval refused: a machine went out or money came in under the contract."""

    __module__ = "domain.contracts"

    code = "contract-already-started"


class MachineDoesNotFitContractError(DomainError):
    """The unit is not of a model (or allowed substitute) the contract still needs,
    or belongs to another member company."""

    __module__ = "domain.contracts"

    code = "machine-does-not-fit-contract"


class MachineAlreadyPickedError(DomainError):
    __module__ = "domain.contracts"

    code = "machine-already-picked"


class MachineNotOnContractError(DomainError):
    __module__ = "domain.contracts"

    code = "machine-not-on-contract"


class OutboundStateError(DomainError):
    """The act does not fit the outbound's status (open, reviewed, dispatched)."""

    __module__ = "domain.contracts"

    code = "outbound-state"


class AccessoryOverDeliveredError(DomainError):
    __module__ = "domain.contracts"

    code = "accessory-over-delivered"
