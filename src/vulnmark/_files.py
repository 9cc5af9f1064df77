"""Files vulnmark writes for people: whole or not at all, and private.

A report written with ``-o``, an evidence pack (zip or folder), a review CSV: each is built under
a temporary name in the folder it goes to and renamed into place when complete, so a full disk
or a crash never leaves a truncated report or a half-written pack where the real one belongs
(m5); on failure the temporary file or folder is removed. Everything is created 0600 (folders
0700): the vulnerability register is nobody else's business (m12).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` (0600) only if the block completes. An OSError
    names ``path``, never the temporary name."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _unlink(tmp)
        raise OSError(e.errno, e.strerror, str(path)) from None
    except BaseException:
        _unlink(tmp)
        raise


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all (:func:`atomic_file`)."""
    with atomic_file(path) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """A folder (0700) to fill that becomes ``path`` only if the block completes; ``path``
    must not exist or be an empty folder."""
    path = Path(path)
    try:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        yield tmp
        if path.is_dir():
            path.rmdir()  # empty (the caller checked): the new one takes its place
        os.rename(tmp, path)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OSError(e.errno, e.strerror, str(path)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` (0600, it must not exist) holding ``data``: a file of a folder that
    :func:`atomic_dir` renames into place as a whole."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def loosely_readable(path: Path) -> int | None:
    """The mode of ``path`` if its group or others may read or write it, else None."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    return mode if mode & 0o066 else None
