"""Reading a pack from hostile hands: a ZIP file or a directory, never trusted.

* no symbolic link is followed (a directory pack's link to ``/etc/shadow`` is named, not read);
* names must be relative POSIX paths without ``..``, backslashes or control characters, and
  appear once (a second ZIP entry of the same name could hide a forged file);
* sizes are capped: each file, the whole pack, the number of files, and the compression ratio
  of large ZIP entries (a zip bomb is refused before it is inflated).

A name problem is tampering (reported with the others, exit 1); a pack that cannot be read or
exceeds a cap raises :class:`~vulnmark.errors.PackError` (exit 2).
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from vulnmark.errors import PackError

MAX_FILES = 100_000
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200
"""The largest compression ratio of a ZIP entry above :data:`RATIO_FLOOR` bytes: real packs
(JSON, HTML, CSV) stay far below; a zip bomb is thousands."""
RATIO_FLOOR = 1024 * 1024


def unsafe_name(name: str) -> str | None:
    """Why ``name`` is not a safe relative path in a pack (None: it is)."""
    if not name or "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "an unsafe name (empty, backslash or control character)"
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith("/") or ":" in path.parts[0]:
        return "an unsafe name (absolute, drive or '..')"
    return None


def read_pack(path: Path) -> tuple[dict[str, bytes], list[str]]:
    """The pack's files by name, and the problems with names and links found on the way."""
    try:
        if path.is_dir():
            return _read_dir(path)
        return _read_zip(path)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError,
            NotImplementedError, EOFError) as e:
        raise PackError(f"{path}: not a readable pack ({e})") from e


def _read_dir(root: Path) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    problems: list[str] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            full = base / name
            rel = full.relative_to(root).as_posix()
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{rel}: a symbolic link (not followed; a pack holds files)")
                continue
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"{rel}: not a regular file")
                continue
            if len(files) >= MAX_FILES:
                raise PackError(f"{root}: more than {MAX_FILES} files")
            if info.st_size > MAX_FILE_BYTES:
                raise PackError(f"{rel}: {info.st_size} bytes; a pack file is at most "
                                f"{MAX_FILE_BYTES}")
            total += info.st_size
            if total > MAX_TOTAL_BYTES:
                raise PackError(f"{root}: more than {MAX_TOTAL_BYTES} bytes")
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                files[rel] = f.read(MAX_FILE_BYTES + 1)
    return files, problems


def _read_zip(path: Path) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    problems: list[str] = []
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_FILES:
            raise PackError(f"{path}: more than {MAX_FILES} entries")
        total = 0
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            why = unsafe_name(name)
            if why:
                problems.append(f"{name!r}: {why}")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(f"{name}: a symbolic link entry (not followed)")
                continue
            if name in files:
                problems.append(f"{name}: appears twice in the ZIP (a second copy can hide a "
                                "forged file)")
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise PackError(f"{path}: {name}: {info.file_size} bytes; a pack file is at "
                                f"most {MAX_FILE_BYTES}")
            if info.file_size > RATIO_FLOOR and \
                    info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise PackError(f"{path}: {name}: compressed {info.compress_size} bytes "
                                f"inflate to {info.file_size} (a zip bomb?)")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise PackError(f"{path}: more than {MAX_TOTAL_BYTES} bytes inflated")
            with z.open(info) as f:
                data = f.read(info.file_size + 1)
            if len(data) > info.file_size:
                raise PackError(f"{path}: {name}: larger than its entry says")
            files[name] = data
    return files, problems
