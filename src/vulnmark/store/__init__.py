"""The store: SQLAlchemy (SQLite by default, PostgreSQL by URL) with Alembic migrations.

The only package that imports SQLAlchemy or the table definitions, or holds SQL: every other
package reads and writes through :class:`Store` and the repositories here, one module per
kind of record (``tickets``, ``evaluations``, ``outcomes``, ``runs``, ``events``, ``metrics``).
:data:`Connection` is the type of the connection a repository function takes inside
``Store.transaction()`` or ``Store.reading()``.
"""

from sqlalchemy import Connection

from vulnmark.store.store import Store
from vulnmark.store.tickets import UpsertCounts

__all__ = ["Connection", "Store", "UpsertCounts"]
