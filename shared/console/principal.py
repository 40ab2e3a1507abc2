"""Who is signed in to the console and what they may see.

An operator sees every tenant; a tenant admin sees exactly one. Every console route names the tenant it
acts on and asks `require_tenant`, so a tenant admin of A asking for B's pages is refused in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from shared.errors import Forbidden, Unauthenticated

Kind = Literal["operator", "tenantAdmin"]
OPERATOR: Final = "operator"
TENANT_ADMIN: Final = "tenantAdmin"


class SignInRequired(Unauthenticated):
    """No valid session (HTTP 401 for the console API, a redirect to the sign-in page for pages)."""


__all__ = ["Forbidden", "Principal", "SignInRequired", "require_operator", "require_tenant"]


@dataclass(frozen=True)
class Principal:
    kind: Kind
    name: str  # shown in the header and written as the audit actor
    tenant_id: str | None = None  # the one tenant of a tenant admin; None for operators

    @property
    def is_operator(self) -> bool:
        return self.kind == OPERATOR

    @property
    def actor(self) -> str:
        """The audit log's actor for this person's changes (e.g. `console:operator:ops@contoso.com`)."""
        return f"console:{self.kind}:{self.name}"


def require_operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("Only operators of the service can do this.")


def require_tenant(principal: Principal, tenant_id: str) -> None:
    """A tenant admin may act only on their own tenant; operators on any."""
    if not principal.is_operator and principal.tenant_id != tenant_id:
        raise Forbidden("You can manage only your own organisation.")
