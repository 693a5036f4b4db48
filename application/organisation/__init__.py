"""Member companies, warehouses and machine models: the group's reference data."""

from application.organisation.handlers import OrganisationService

__all__ = ["OrganisationService"]
