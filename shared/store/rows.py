"""Resource documents inside table rows.

A string property holds at most 32 K characters (64 KiB), an entity at most 1 MiB, so a resource's JSON
document is split over numbered properties. Member lists are never stored here (membership rows).
"""

from __future__ import annotations

import json
from typing import Any

from shared.store.table import Entity

_CHUNK = 30_000
_DOC = "doc"
_MAX_CHUNKS = 15  # ~450 K characters: far above any sane user, well under the 1 MiB entity limit


class DocumentTooLarge(ValueError):
    pass


def put_document(entity: Entity, document: dict[str, Any]) -> Entity:
    """Write document into entity's doc properties (returns entity for chaining)."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    chunks = _chunks(text)
    if len(chunks) > _MAX_CHUNKS:
        raise DocumentTooLarge(f"resource document of {len(text)} characters is too large")
    entity[_DOC] = chunks[0]
    for i in range(1, _MAX_CHUNKS):
        key = f"{_DOC}{i}"
        if i < len(chunks):
            entity[key] = chunks[i]
        else:
            entity.pop(key, None)
    entity["docChunks"] = len(chunks)
    return entity


def _chunks(text: str) -> list[str]:
    """Pieces of at most _CHUNK UTF-16 code units, the unit a property's limit counts (an emoji is 2),
    never splitting a surrogate pair."""
    if text.isascii():
        return [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)] or [""]
    # surrogatepass: rows written before input was checked may hold a lone surrogate; it stays one unit
    units = text.encode("utf-16-le", "surrogatepass")
    chunks, start = [], 0
    while start < len(units):
        end = min(start + 2 * _CHUNK, len(units))
        if end < len(units) and 0xD8 <= units[end - 1] <= 0xDB:  # a high surrogate would end the piece
            end -= 2
        chunks.append(units[start:end].decode("utf-16-le", "surrogatepass"))
        start = end
    return chunks


def get_document(entity: Entity) -> dict[str, Any]:
    parts = [entity.get(_DOC, "")] + [entity.get(f"{_DOC}{i}", "") for i in range(1, int(entity.get("docChunks", 1)))]
    return json.loads("".join(parts)) if parts[0] else {}
