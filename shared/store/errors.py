"""Storage failures with a meaning the services act on (not yet SCIM errors: the services decide that)."""

from __future__ import annotations


class StoreError(Exception):
    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index  # position of the failing operation inside a transaction, when known


class AlreadyExists(StoreError):
    """An insert met an existing row (unique index taken, duplicate create)."""


class EtagMismatch(StoreError):
    """The row changed since it was read (optimistic concurrency lost)."""


class RowMissing(StoreError):
    """An update or delete named a row that does not exist."""


class TransactionTooLarge(StoreError):
    """Our own guard: an entity-group transaction must stay within 100 operations and 4 MiB."""


class StorageUnavailable(StoreError):
    """Storage did not answer in time or answered with a server error: the request may be retried later
    (the HTTP edge answers 503 with Retry-After)."""
