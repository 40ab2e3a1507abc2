"""Entra ID sign-in for the console, validated in the app (OpenID Connect, `response_type=id_token`,
`response_mode=form_post`): the app never trusts a principal header, it checks the ID token itself.

Why not App Service built-in authentication (Easy Auth): Microsoft's Flex Consumption documentation lists
"EasyAuth isn't currently supported. Unauthenticated callers currently aren't blocked when EasyAuth is
enabled in a Flex Consumption plan app." An `X-MS-CLIENT-PRINCIPAL` header would then be whatever the
caller sent, so the console ignores it everywhere (tests send a forged one).

Who is who (docs/deploy.md):
- an operator holds the app role `Console.Operator` and signed in to the operators' own Entra tenant
  (CONSOLE_OPERATOR_TENANT_ID): in a multi-tenant app any customer can assign app roles in their own
  directory, so a role alone proves nothing about being one of ours;
- a tenant admin signed in to an Entra tenant linked to one of our tenants (`tenant link`) and holds
  `Console.TenantAdmin` there or is in the admin group recorded with the link.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt

from shared.console import tenant_links
from shared.console.principal import OPERATOR, TENANT_ADMIN, Forbidden, Principal, SignInRequired
from shared.store.client import Storage

OPERATOR_ROLE = "Console.Operator"
TENANT_ADMIN_ROLE = "Console.TenantAdmin"
AUTHORITY = "https://login.microsoftonline.com"
JWKS_URL = f"{AUTHORITY}/common/discovery/v2.0/keys"


@dataclass(frozen=True)
class EntraConfig:
    client_id: str  # the console's app registration (multi-tenant)
    operator_tenant_id: str  # the Entra tenant our operators sign in to

    def authorize_url(self, redirect_uri: str, state: str, nonce: str) -> str:
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "id_token",
                "response_mode": "form_post",
                "scope": "openid profile email",
                "redirect_uri": redirect_uri,
                "state": state,
                "nonce": nonce,
            }
        )
        return f"{AUTHORITY}/organizations/oauth2/v2.0/authorize?{query}"


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


KeyResolver = Callable[[str], Any]  # the ID token -> the public key that signed it


def _jwks_key(token: str) -> Any:
    return _jwks_client().get_signing_key_from_jwt(token).key


_client: jwt.PyJWKClient | None = None


def _jwks_client() -> jwt.PyJWKClient:
    global _client
    if _client is None:  # created on first sign-in, not at import; caches Entra's keys in the process
        _client = jwt.PyJWKClient(JWKS_URL, cache_keys=True, lifespan=3600)
    return _client


def validate_id_token(
    config: EntraConfig, token: str, nonce: str, key_for: KeyResolver = _jwks_key
) -> Mapping[str, Any]:
    """The claims of an Entra v2.0 ID token issued to our app for this sign-in; SignInRequired otherwise."""
    try:
        claims = jwt.decode(
            token,
            key_for(token),
            algorithms=["RS256"],
            audience=config.client_id,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "tid", "nonce"]},
            leeway=60,
        )
    except (jwt.PyJWTError, ValueError) as exc:
        raise SignInRequired(f"The Entra ID sign-in could not be verified ({type(exc).__name__}).") from None
    # Multi-tenant apps validate the issuer against the token's own tenant (the common keys sign for all).
    if claims["iss"] != f"{AUTHORITY}/{claims['tid']}/v2.0":
        raise SignInRequired("The Entra ID sign-in came from an unexpected issuer.")
    if not secrets.compare_digest(str(claims["nonce"]), nonce):
        raise SignInRequired("The Entra ID sign-in does not belong to this browser; sign in again.")
    return claims


def principal_from_claims(storage: Storage, config: EntraConfig, claims: Mapping[str, Any]) -> Principal:
    """Operator, tenant admin, or Forbidden: see the module doc for the rules."""
    roles = set(claims.get("roles") or [])
    tid = str(claims.get("tid") or "")
    name = str(claims.get("preferred_username") or claims.get("email") or claims.get("oid") or "unknown")
    if OPERATOR_ROLE in roles and tid == config.operator_tenant_id:
        return Principal(OPERATOR, name)
    link = tenant_links.find(storage, tid)
    if link is None:
        raise Forbidden("Your organisation's Entra tenant is not linked to a tenant of this service.")
    groups = set(claims.get("groups") or [])
    if TENANT_ADMIN_ROLE in roles or (link.admin_group_id is not None and link.admin_group_id in groups):
        return Principal(TENANT_ADMIN, name, tenant_id=link.tenant_id)
    raise Forbidden(f"Ask your administrator for the {TENANT_ADMIN_ROLE} role of this application.")
