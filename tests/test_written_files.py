"""m5: a full disk leaves no partial report, zip or pack folder; m12: what vulnmark creates is
private (0600 files, 0700 folders) and a store others can read is named in a warning.

The disk-full tests run the real CLI on a 256 KiB tmpfs mounted in a private mount namespace
(``unshare -m``, as root); they skip where that is not allowed."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import stat
import string
import subprocess
import sys
from pathlib import Path

import pytest

from core_support import APACHE_SAMPLE, Cli

ALPHABET = string.ascii_letters + string.digits


def _big_store(tmp_path: Path) -> str:
    """A store whose reports are several hundred KiB, even compressed (600 unclassified
    tickets with random titles)."""
    rng = random.Random(10)
    lines = [json.dumps({"key": f"BIG-{i}", "title": "".join(rng.choices(ALPHABET, k=400)),
                         "created": "2026-11-20T00:00:00Z", "labels": ["Vulnerability"]})
             for i in range(600)]
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'big.db'}"
    Cli(db, tmp_path).ok("import", str(tmp_path / "big.jsonl"))
    return db


def _on_small_disk(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``vulnmark ARGS`` with ``{disk}`` in ARGS replaced by a 256 KiB tmpfs mounted only for
    this process; returns the result and the listing of the disk afterwards (in ``ls.txt``)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip(reason="needs root and unshare for a private tmpfs")
    disk = tmp_path / "small"
    disk.mkdir()
    listing = tmp_path / "ls.txt"
    command = " ".join(f"'{a}'" for a in (sys.executable, "-m", "vulnmark", *args))
    script = (f"mount -t tmpfs -o size=256k tmpfs {disk} || exit 99; "
              f"{command.replace('{disk}', str(disk))}; rc=$?; "
              f"ls -A {disk} > {listing}; exit $rc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VULNMARK_")}
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode == 99:
        pytest.skip(reason=f"cannot mount a tmpfs here: {done.stderr.strip()}")
    return done, listing


def test_m5_report_o_on_a_full_disk_leaves_no_partial_file(tmp_path: Path) -> None:
    db = _big_store(tmp_path)
    done, listing = _on_small_disk(tmp_path, "--db", db, "report", "daily", "--format", "html",
                                   "-o", "{disk}/rep.html")
    assert done.returncode == 3, done.stderr
    assert "rep.html" in done.stderr and "No space left on device" in done.stderr
    assert "Traceback" not in done.stderr
    assert listing.read_text() == ""  # neither rep.html nor a temporary file


@pytest.mark.parametrize("name", ["p.zip", "pdir"])
def test_m5_an_export_on_a_full_disk_leaves_nothing_behind(tmp_path: Path, name: str) -> None:
    db = _big_store(tmp_path)
    Cli(db, tmp_path).ok("report", "daily")  # a stored report of ~0.5 MiB goes into the pack
    done, listing = _on_small_disk(tmp_path, "--db", db, "evidence", "export", "--from",
                                   "2026-11-01", "--to", "2026-11-30", "--output",
                                   "{disk}/" + name)
    assert done.returncode in (2, 3), done.stderr
    assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
    assert listing.read_text() == ""  # no p.zip, no .part, no half-written folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_m12_files_vulnmark_creates_are_private(tmp_path: Path) -> None:
    os.umask(0o022)  # a usual umask: vulnmark must not rely on it
    vm = Cli("sqlite:///vulnmark.db", tmp_path)
    vm.ok("init")
    vm.ok("import", str(APACHE_SAMPLE))
    vm.ok("report", "daily", "--format", "html", "-o", "rep.html")
    vm.ok("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--output",
          "pack.zip")
    vm.ok("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--output",
          "pdir")
    for name in ("vulnmark.toml", "vulnmark.db", "rep.html", "pack.zip"):
        assert _mode(tmp_path / name) == 0o600, name
    for side in tmp_path.glob("vulnmark.db*"):
        assert _mode(side) & 0o077 == 0, side.name
    assert _mode(tmp_path / "pdir") == 0o700
    for item in (tmp_path / "pdir").rglob("*"):
        assert _mode(item) == (0o700 if item.is_dir() else 0o600), item


def test_m12_a_store_others_can_read_is_named_in_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    vm = Cli(f"sqlite:///{tmp_path / 'v.db'}", tmp_path)
    vm.ok("import", str(APACHE_SAMPLE))
    vm.ok("check")
    assert "chmod" not in caplog.text
    (tmp_path / "v.db").chmod(0o644)
    vm.ok("check")
    assert "can be read by other users (mode 0644)" in caplog.text
    assert f"chmod 600 {tmp_path / 'v.db'}" in caplog.text
