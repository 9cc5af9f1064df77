"""SQL through the database driver, for the few statements that run once per ticket.

At a million tickets the SQL layer's per-row work (building ``Row`` objects, processing every
bound parameter) costs more than the database itself. The hot paths (reading pages of tickets
for evaluation, writing evaluation rows) therefore hand plain SQL to the driver's cursor,
inside the same connection and transaction as everything else. Every value on these paths is
plain text or a number (times are stored as text), so the driver returns exactly what the SQL
layer would. SQL here is written with ``?`` markers; :func:`sql_for` turns them into the
driver's own (``%s`` for psycopg).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

Row = tuple[Any, ...]


def sql_for(conn: Connection, sql: str) -> str:
    """``sql`` (written with ``?`` markers and no other ``?``) for this connection's driver."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def marks(n: int) -> str:
    """``?, ?, …`` for an ``IN`` list of ``n`` values."""
    return ", ".join("?" * n)


def fetch(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Every row of a query, as plain tuples from the driver's cursor."""
    if not conn.in_transaction():
        conn.begin()  # the driver's statements share one snapshot, as the SQL layer's do
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql_for(conn, sql), tuple(params))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def execute_many(conn: Connection, sql: str, rows: Sequence[Row]) -> None:
    """One statement for many parameter rows (executemany through the driver)."""
    if rows:
        conn.exec_driver_sql(sql_for(conn, sql), list(rows))


def insert_many(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Row]) -> None:
    """Insert plain rows whose values are in ``columns`` order."""
    execute_many(conn, f"INSERT INTO {table.name} ({', '.join(columns)}) "
                       f"VALUES ({marks(len(columns))})", rows)
