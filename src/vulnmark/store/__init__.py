"""The SQLAlchemy store (SQLite by default, PostgreSQL by URL) with Alembic migrations."""

from vulnmark.errors import StoreError, StoreUnavailable, TicketNotFound
from vulnmark.store.store import Store
from vulnmark.store.tickets import UpsertCounts

__all__ = ["Store", "StoreError", "StoreUnavailable", "TicketNotFound", "UpsertCounts"]
