"""What the protocol layer accepts at most, and the text every SCIM input must be.

Every cap here is far above what Entra (or any real provisioning client) sends and far below what would
let one request cost seconds of CPU or break a storage limit. They are checked where input enters the
protocol layer (shared.scim.normalize, shared.scim.patch, shared.scim.listing, shared.scim.filter), before
anything is read or written, and answer 400 with a detail naming the cap. README.md lists them.

Lengths are counted in UTF-16 code units (an emoji counts 2), the unit Table Storage limits a string
property by (32 K units).
"""

from __future__ import annotations

from typing import Any

from shared.scim.errors import ScimError

MAX_OPERATIONS = 1_000  # operations in one PATCH; Entra sends a handful (one per removed member at most)
MAX_MEMBERS = 1_000  # group member values in one request (POST/PUT/PATCH); Entra sends batches of a few dozen
MAX_ENTRIES = 100  # entries of one multi-valued attribute (emails, phoneNumbers, addresses, roles...)
MAX_VALUE_UNITS = 16_384  # one string value; half a Table Storage property
MAX_IDENTIFIER_UNITS = 1_024  # userName, group displayName, externalId: what filters and index rows look up
MAX_DOCUMENT_UNITS = 262_144  # a resource as stored (compact JSON, members excluded); the store takes 450 K
MAX_DEPTH = 32  # JSON nesting of a body; a SCIM body needs about 8
MAX_FILTER_LENGTH = 4_096  # characters of a filter; fits `externalId eq "…"` on any identifier, escaped
# Comparisons (eq, co, pr, …) in one filter. Entra sends one; conformance tools a few. An unindexed filter
# is evaluated on every resource, so the terms multiply the scan: 95 terms over 500 users with 100 e-mails
# each cost 19 s of CPU (tools.bench worst).
MAX_FILTER_TERMS = 10


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units: characters outside the Basic Multilingual Plane count twice."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _has_lone_surrogate(text: str) -> bool:
    # json.loads joins escaped surrogate pairs into one character, so any surrogate left in a str is
    # unpaired; it cannot be encoded as UTF-8, which is what storage and every response need.
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(text: str, where: str, scim_type: str = "invalidValue") -> None:
    """400 if text holds a lone UTF-16 surrogate (e.g. JSON "\\ud800")."""
    if _has_lone_surrogate(text):
        raise ScimError(
            400, scim_type, f"{where} holds an unpaired UTF-16 surrogate (such as \\ud800); send valid Unicode text."
        )


def check_body(body: Any, where: str = "The request body") -> None:
    """Every key and string of a JSON body is valid Unicode, and the body is nested at most MAX_DEPTH deep.
    Iterative, so a deep body cannot exhaust the interpreter's stack here."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            check_text(value, where)
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ScimError(400, "invalidSyntax", f"{where} is nested more than {MAX_DEPTH} levels deep.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    check_text(key, where)
                stack.append((item, depth + 1))


def check_count(count: int, cap: int, what: str) -> None:
    if count > cap:
        raise ScimError(
            400,
            "tooMany",
            f"At most {cap:,} {what} per request, got {count:,}; split the change into several requests.",
        )


def check_value_length(text: str, path: str, *, identifier: bool) -> None:
    cap = MAX_IDENTIFIER_UNITS if identifier else MAX_VALUE_UNITS
    units = utf16_units(text) if len(text) * 2 > cap else len(text)  # at most 2 units per character
    if units > cap:
        raise ScimError(
            400, "invalidValue", f"{path} is {units:,} UTF-16 code units long; at most {cap:,} are accepted."
        )


def check_document_size(serialized: str, resource_type: str) -> None:
    units = utf16_units(serialized)
    if units > MAX_DOCUMENT_UNITS:
        raise ScimError(
            400,
            "invalidValue",
            f"The {resource_type} is {units:,} UTF-16 code units as JSON; at most {MAX_DOCUMENT_UNITS:,} are accepted.",
        )
