"""Users, roles, positions; sign-in and the caller behind a bearer token."""

from application.access.service import ADMIN_USERNAME, WHOLE_GROUP_POSITION, AccessService, AuthenticationError, Token

__all__ = ["ADMIN_USERNAME", "WHOLE_GROUP_POSITION", "AccessService", "AuthenticationError", "Token"]
