import pytest

from shared.store.rows import DocumentTooLarge, get_document, put_document


def test_large_documents_are_split_and_restored():
    doc = {"userName": "a", "roles": [{"value": "r" * 1000, "i": i} for i in range(100)]}
    entity = put_document({}, doc)
    assert entity["docChunks"] > 1
    assert all(len(v) <= 32_000 for k, v in entity.items() if k.startswith("doc") and isinstance(v, str))
    assert get_document(entity) == doc


def test_shrinking_a_document_drops_stale_chunks():
    entity = put_document({}, {"x": "y" * 100_000})
    put_document(entity, {"x": "small"})
    assert get_document(entity) == {"x": "small"}
    assert "doc3" not in entity


def test_absurd_documents_are_refused():
    with pytest.raises(DocumentTooLarge):
        put_document({}, {"x": "y" * 600_000})


def test_chunks_are_sized_in_utf16_code_units_without_splitting_an_emoji():
    """Table Storage limits a string property to 32 K UTF-16 code units; an emoji is two of them."""
    doc = {"x": "a" + "\U0001f600" * 40_000}  # the odd "a" puts a surrogate pair across every 30 K boundary
    entity = put_document({}, doc)
    chunks = [v for k, v in entity.items() if k.startswith("doc") and isinstance(v, str)]
    assert max(len(c.encode("utf-16-le")) // 2 for c in chunks) <= 30_000
    assert all(c.encode("utf-8") for c in chunks)  # no piece ends or starts inside a surrogate pair
    assert get_document(entity) == doc
