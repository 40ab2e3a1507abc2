"""Storage failures with a meaning the services act on (not yet SCIM errors: the services decide that).

Every backend raises these, with the same `index` for the same failing operation of a transaction
(tests/contract checks it), so services may act on which operation failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class StoreError(Exception):
    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index  # position of the failing operation inside a transaction, when known

    def failed_op(self, ops: Sequence[T]) -> T | None:
        """The operation of `ops` (the transaction that raised this) that failed, when known."""
        return ops[self.index] if self.index is not None and 0 <= self.index < len(ops) else None


class AlreadyExists(StoreError):
    """An insert met an existing row (unique index taken, duplicate create)."""


class EtagMismatch(StoreError):
    """The row changed since it was read (optimistic concurrency lost)."""


class RowMissing(StoreError):
    """An update or delete named a row that does not exist."""


class InvalidTransaction(StoreError):
    """Our own guard: a transaction Azure would refuse whole (one row twice, over the limits)."""


class TransactionTooLarge(InvalidTransaction):
    """An entity-group transaction must stay within 100 operations, 4 MiB and one partition."""


class StorageUnavailable(StoreError):
    """Storage did not answer in time or answered with a server error: the request may be retried later
    (the HTTP edges answer 503 with Retry-After)."""
