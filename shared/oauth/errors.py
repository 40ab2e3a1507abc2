"""The token endpoint's errors as values: RFC 6749 §5.2 names them, the edge turns one into JSON."""

from __future__ import annotations

INVALID_REQUEST = "invalid_request"
INVALID_CLIENT = "invalid_client"
INVALID_GRANT = "invalid_grant"
UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
INVALID_SCOPE = "invalid_scope"


class OAuthError(Exception):
    """An RFC 6749 §5.2 error. `description` is for people and never says which credential half was wrong."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def invalid_client(description: str = "client authentication failed") -> OAuthError:
    """401 per RFC 6749 §5.2; the edge adds `WWW-Authenticate: Basic` when the client used Basic."""
    return OAuthError(INVALID_CLIENT, description, status=401)
