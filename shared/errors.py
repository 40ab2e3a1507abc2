"""Domain errors outside SCIM's own vocabulary (admin operations)."""


class NotFound(LookupError):
    """A tenant, employee or other admin-addressed object does not exist (HTTP 404, CLI exit 1)."""
