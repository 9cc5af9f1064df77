"""Two `vulnmark intake run` processes on one store at once open each ticket once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from intake_support import cve, write_nvd
from vulnmark.store import Store
from vulnmark.store import intake as records


def test_concurrent_runs_open_each_publication_once(tmp_path: Path) -> None:
    feed = write_nvd(tmp_path / "nvd.json", [cve(n) for n in range(1, 41)])
    (tmp_path / "vulnmark.toml").write_text('[intake]\nvendors = ["OpenSSL"]\n',
                                            encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'v.db'}"
    Store.open(db).close()  # migrated once, like a store in use
    env = {k: v for k, v in os.environ.items() if not k.startswith("VULNMARK_")}
    env.update(VULNMARK_DB=db, VULNMARK_CONFIG=str(tmp_path / "vulnmark.toml"))
    procs = [subprocess.Popen([sys.executable, "-m", "vulnmark", "intake", "run", "--from",
                               str(feed)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    with Store.open(db) as store:
        with store.reading() as conn:
            found = list(records.iter_records(conn))
        assert store.count_tickets() == 40
    assert sorted(r.id for r in found) == [f"CVE-2026-{n:04d}" for n in range(1, 41)]
    assert len({r.ticket for r in found}) == 40
    opened = sum(int(o.split("opened ")[-1].split(",")[0]) for o, _ in outs)
    assert opened == 40, outs
