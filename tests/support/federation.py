"""Keys, key sets and signed assertions for the federation tests: everything generated in the test run."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared import clock
from shared.oauth.federation import Federation

TENANT_GUID = "7d3c1a52-6a3b-4e4c-9a51-0f2a4b6c8d9e"
ISSUER = f"https://login.microsoftonline.com/{TENANT_GUID}/v2.0"
SUBJECT = "3f1b2c4d-0000-4a4a-8b8b-123456789abc"
AUDIENCE = "api://5e6f7a8b-1111-4c4c-9d9d-abcdefabcdef"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
CURVES = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}


def new_key(algorithm: str = "RS256", *, rsa_bits: int = 2048) -> PrivateKey:
    if algorithm.startswith("ES"):
        return ec.generate_private_key(CURVES[algorithm])
    return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)


def public_jwk(key: PrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    """The public half of `key` as a JWK named `kid` (what an issuer publishes)."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", **extra}


def jwks_body(*jwks: dict[str, Any]) -> bytes:
    return json.dumps({"keys": list(jwks)}).encode()


def claims(**overrides: Any) -> dict[str, Any]:
    """Claims shaped like Entra's assertion (ENTRA-AUTH.md), valid now; None drops a claim."""
    now = int(clock.now().timestamp())  # the service's clock, which tests may move
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": SUBJECT,
        "aud": AUDIENCE,
        "tid": TENANT_GUID,
        "oid": SUBJECT,
        "appid": "5e6f7a8b-1111-4c4c-9d9d-abcdefabcdef",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "ver": "2.0",
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: PrivateKey | bytes, kid: str | None, algorithm: str = "RS256", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), key, algorithm=algorithm, headers=headers)


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def unsigned(kid: str, **overrides: Any) -> str:
    """An `alg: none` token: header and claims, empty signature."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_segment(claims(**overrides))}."


def hs256_by_hand(secret: bytes, kid: str, **overrides: Any) -> str:
    """HS256 with any bytes as the secret (PyJWT itself refuses a PEM key as an HMAC secret)."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_segment(claims(**overrides))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def federation(jwks_url: str, **overrides: str) -> Federation:
    values = {"issuer": ISSUER, "jwks_url": jwks_url, "subject": SUBJECT, "audience": AUDIENCE, **overrides}
    return Federation(**values)
