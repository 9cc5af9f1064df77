"""The head file: every committed head of the evidence log, appended to a file beside an SQLite
store (``vulnmark.db`` → ``vulnmark.db.heads``).

The head kept in the database (``state``) is deleted as easily as the records; a file outside
the database is not touched by SQL. Each line is ``SEQ HASH RECORDED_AT``; ``evidence verify``
checks that the log still holds the highest record the file names, with that hash, so deleting
records from the end (with the head row), replacing the database, or wiping it is named. The
file is created 0600 and only ever appended to. PostgreSQL stores have no head file; their
anchors are the heads in the delivered reports (``evidence verify --head``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SUFFIX = ".heads"


def head_file_of(database: Path) -> Path:
    return database.with_name(database.name + SUFFIX)


def append(path: Path | None, seq: int, digest: str, recorded_at: str) -> None:
    """Append one head (after its transaction committed). A failure is logged, not raised:
    the change is already committed, and verify names a head file that falls behind."""
    if path is None:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{seq} {digest} {recorded_at}\n".encode())
        finally:
            os.close(fd)
    except OSError as e:
        logger.warning("evidence head file %s: %s", path, e.strerror or e)


@dataclass(frozen=True)
class Heads:
    """What the head file says: its highest record (None: no file or no line) and bad lines."""

    exists: bool
    last: tuple[int, str] | None
    bad_lines: tuple[int, ...] = ()


def read(path: Path | None) -> Heads:
    if path is None or not path.exists():
        return Heads(False, None)
    last: tuple[int, str] | None = None
    bad: list[int] = []
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            parts = raw.decode("ascii", "replace").split()
            if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64:
                bad.append(lineno)
                continue
            seq = int(parts[0])
            if last is None or seq >= last[0]:
                last = (seq, parts[1])
    return Heads(True, last, tuple(bad))
