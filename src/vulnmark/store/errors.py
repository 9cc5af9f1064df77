"""Store errors.

StoreError            a usage or input problem with the store (exit 2)
 ├── TicketNotFound   no ticket with that key
 └── StoreUnavailable the database could not be reached or failed (exit 3)
"""

from __future__ import annotations


class StoreError(Exception):
    """Base error of the store."""


class TicketNotFound(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no ticket {key!r} in the store")
        self.key = key


class StoreUnavailable(StoreError):
    """The database server or file failed (an external system: exit 3)."""
