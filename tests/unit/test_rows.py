from shared.store.rows import DocumentTooLarge, get_document, put_document

import pytest


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
