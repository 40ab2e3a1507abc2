"""Entra's side of workload identity federation, played with a local key: the client assertion it signs,
the public key set (JWKS) a SCIM service checks it with, and a loopback server for that set.

A rehearsal needs one key pair. `python -m tools.entra_sim.keys` makes it (a PEM private key and its
JWKS); the simulator signs with the private key, and the service fetches the JWKS, from any https URL
where it is published or, against a local host, from the simulator's own loopback server
(`--serve-jwks PORT`). The `kid` is the key's RFC 7638 thumbprint unless one is given.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.oauth.federation import issuer_tenant

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
ASSERTION_LIFETIME_SECONDS = 600
JWKS_PATH = "/jwks.json"
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class KeyFileError(Exception):
    """The key file is missing, unreadable, or not an RSA or EC private key."""


def load_key(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot read a private key from {path}: {exc}") from exc
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return key
    raise KeyFileError(f"{path} holds neither an RSA key nor an EC key on P-256, P-384 or P-521")


def new_key() -> SigningKey:
    """RSA 2048, what Entra signs with."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def algorithm(key: SigningKey) -> str:
    return "RS256" if isinstance(key, rsa.RSAPrivateKey) else _EC_ALGORITHMS[key.curve.name]


def _public_members(key: SigningKey) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        return RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return ECAlgorithm.to_jwk(key.public_key(), as_dict=True)


def thumbprint(key: SigningKey) -> str:
    return jwk_thumbprint(_public_members(key))


def jwk_thumbprint(members: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the key's required public members, sorted, without whitespace."""
    required = ("e", "kty", "n") if members["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({name: members[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def jwks(key: SigningKey, kid: str) -> dict[str, Any]:
    """The public key set a service verifies this key's assertions with."""
    return {"keys": [{**_public_members(key), "kid": kid, "use": "sig", "alg": algorithm(key)}]}


@dataclass(frozen=True)
class AssertionSigner:
    """Signs assertions shaped like Entra's (ENTRA-AUTH.md): iss, sub, aud, tid, oid, iat, nbf, exp, ver,
    and a fresh jti each time. `tid` is the tenant a Microsoft issuer names; another issuer gets none."""

    key: SigningKey
    kid: str
    issuer: str
    subject: str
    audience: str

    def sign(self) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience,
            "oid": self.subject,
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
            "ver": "2.0",
            "jti": str(uuid.uuid4()),
        }
        tenant = issuer_tenant(self.issuer)
        if tenant is not None:
            claims["tid"] = tenant
        return jwt.encode(claims, self.key, algorithm=algorithm(self.key), headers={"kid": self.kid})


@contextmanager
def serve_jwks(document: dict[str, Any], port: int) -> Iterator[str]:
    """Serve `document` at http://127.0.0.1:<port>/jwks.json (port 0: any free one) until the block ends;
    yields the URL."""
    body = json.dumps(document).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            found = self.path.split("?", 1)[0] == JWKS_PATH
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{JWKS_PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
