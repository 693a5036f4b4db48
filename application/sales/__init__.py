"""Customers, contacts and sales contracts: each act by its role, within the caller's data scope.

Who may act is checked here (permissions); what the act may do is the domain's
(states, amounts). A record out of the caller's scope, or another salesperson's
customer, contact or contract, is answered as not found.
"""

from application.sales.commands import ContractLineRequest, ContractSummary, WaitingFor
from application.sales.contracts import ContractService
from application.sales.customers import CustomerService

__all__ = ["ContractLineRequest", "ContractService", "ContractSummary", "CustomerService", "WaitingFor"]
