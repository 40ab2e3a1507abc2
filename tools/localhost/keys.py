"""Function keys, enforced locally when one is configured.

Core Tools does not check keys, so the local host used not to either; but the admin API (AuthLevel.FUNCTION)
mints tenant tokens, and `make run HOST=0.0.0.0` would hand that to anyone on the network. So: with
LOCALHOST_FUNCTION_KEY set, functions whose auth level is `function` or `admin` need that key, sent as Azure
takes it (`x-functions-key` header or `?code=`), else 401; without it, the host serves loopback addresses only.
"""

from __future__ import annotations

import hmac

from werkzeug.wrappers import Request

from shared.net import is_loopback

FUNCTION_KEY_ENV = "LOCALHOST_FUNCTION_KEY"
_KEYED_LEVELS = frozenset({"function", "admin"})


def check_bind(host: str, function_key: str | None) -> None:
    """Refuse to expose keyed functions beyond this machine without a key."""
    if not function_key and not is_loopback(host):
        raise SystemExit(
            f"Refusing to listen on {host}: the admin API mints tokens and needs a function key off this machine. "
            f"Set {FUNCTION_KEY_ENV} (then send it as the x-functions-key header or ?code=), or listen on 127.0.0.1."
        )


def allowed(request: Request, auth_level: str, function_key: str | None) -> bool:
    if not function_key or auth_level.lower() not in _KEYED_LEVELS:
        return True
    sent = request.headers.get("x-functions-key") or request.args.get("code") or ""
    return hmac.compare_digest(sent.encode(), function_key.encode())
