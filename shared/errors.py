"""Domain errors outside SCIM's own vocabulary (tenants, employees, admin operations).

Services raise these; each edge turns them into its own body in its one error path (the SCIM API into a
SCIM error with a scimType, the admin API into its JSON error body, the CLI into an exit code).
"""


class DomainError(Exception):
    """A rule of the domain refused the request; the message is safe to show to the caller."""


class NotFound(DomainError, LookupError):
    """A tenant, employee or other admin-addressed object does not exist (HTTP 404, CLI exit 1)."""


class Invalid(DomainError, ValueError):
    """A value the caller supplied breaks a rule (HTTP 400)."""


class Conflict(DomainError):
    """The object's current state does not allow the operation, or it changed meanwhile (HTTP 409)."""


class Unauthenticated(DomainError):
    """No valid sign-in (HTTP 401): the console without a session, say."""


class Forbidden(DomainError):
    """Signed in, but not allowed to do this (HTTP 403)."""
