"""Check + daily report over N tickets in the embedded SQLite store, against a bare SQL scan.

Generates N tickets (default 1,000,000) with typical text sizes and 3 comments each, built from
the real Apache Jira texts in ../shared/data/jira_apache_issues (the randomly sampled issues;
about 2 KB of text per ticket), about 6 % of them marked as vulnerabilities. Then it
measures, in one process and one run:

* bare scan: ``SELECT`` every ticket and comment row and touch every column (the floor);
* first run: ``vulnmark`` check + daily report (text, HTML, JSON) from a cold evaluation cache;
* second run: the same after 1 % of the tickets changed (only those are re-evaluated);
* peak memory (ru_maxrss of this process, and of it with its worker processes) and tickets
  per second.

The machine these run on is shared: the bare scan and the second run are measured ``--repeat``
times (each second run after another 1 % changed) and their medians are used.

Targets (issue 2): first run / bare scan <= 5, peak memory <= 500 MB at 1M tickets, second run
<= 10 % of the first.

    .venv/bin/python benchmarks/check_scale.py --tickets 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control.daily import DailyJob
from vulnmark.model import Comment, Ticket, TicketKey
from vulnmark.store import Store
from vulnmark.store.codec import comment_rows, content_hash, ticket_row

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "jira_apache_issues"
NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
CLASSES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE")


def text_pool() -> list[str]:
    """Descriptions of the randomly sampled issues (the others were picked for security words)."""
    typical = set()
    for line in (DATA / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["group"] == "random_by_priority":
            typical.add(entry["key"])
    texts = []
    for page in sorted(DATA.glob("search_page_*.json")):
        for issue in json.loads(page.read_text(encoding="utf-8"))["issues"]:
            desc = issue["fields"].get("description") or ""
            if issue["key"] in typical and len(desc) > 200:
                texts.append(desc)
    return texts


def make_ticket(i: int, rng: random.Random, pool: list[str]) -> Ticket:
    def chunk(size: int) -> str:
        text = rng.choice(pool)
        start = rng.randrange(max(1, len(text) - size))
        return text[start:start + size]

    roll = rng.random()
    labels: tuple[str, ...] = ()
    if roll < 0.04:
        labels = ("Vulnerability", rng.choice(CLASSES))
    elif roll < 0.05:
        labels = ("Vulnerability",)
    elif roll < 0.055:
        labels = ("Sérülékenység", "MAGAS")
    elif roll < 0.06:
        labels = ("Vulnerability", "HIGH", "LOW")
    created = NOW - timedelta(hours=rng.randrange(1, 24 * 400))
    comments = tuple(Comment(chunk(300), f"user{rng.randrange(500)}",
                             created + timedelta(hours=h)) for h in (1, 2, 3))
    return Ticket(key=TicketKey(f"BENCH-{i:07d}"), title=chunk(60).replace("\n", " "),
                  description=chunk(1100), labels=labels, created=created,
                  reporter=f"user{rng.randrange(500)}", comments=comments, source="bench")


def generate(path: Path, n: int, seed: int) -> None:
    Store.open(f"sqlite:///{path}").close()
    rng, pool = random.Random(seed), text_pool()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    cols_t = cols_c = None
    batch_t, batch_c = [], []
    for i in range(n):
        t = make_ticket(i, rng, pool)
        row = ticket_row(t, content_hash(t))
        cols_t = cols_t or list(row)
        batch_t.append(tuple(row.values()))
        for c in comment_rows(t):
            cols_c = cols_c or list(c)
            batch_c.append(tuple(c.values()))
        if len(batch_t) >= 20000 or i == n - 1:
            assert cols_t and cols_c
            db.executemany(f"INSERT INTO tickets ({','.join(cols_t)}) VALUES "
                           f"({','.join('?' * len(cols_t))})", batch_t)
            db.executemany(f"INSERT INTO comments ({','.join(cols_c)}) VALUES "
                           f"({','.join('?' * len(cols_c))})", batch_c)
            db.executemany("INSERT INTO dirty_tickets (key) VALUES (?)",
                           [(row[0],) for row in batch_t])  # new tickets await evaluation
            db.commit()
            batch_t, batch_c = [], []
            print(f"  generated {i + 1:,}/{n:,}", file=sys.stderr, end="\r")
    db.close()
    print(file=sys.stderr)


def bare_scan(path: Path) -> float:
    start = time.perf_counter()
    db = sqlite3.connect(path)
    total = 0
    for row in db.execute("SELECT * FROM tickets ORDER BY key"):
        total += sum(len(v) for v in row if isinstance(v, str))
    for row in db.execute("SELECT * FROM comments ORDER BY ticket_key, idx"):
        total += sum(len(v) for v in row if isinstance(v, str))
    db.close()
    assert total > 0
    return time.perf_counter() - start


def check_and_report(store: Store) -> tuple[float, int]:
    start = time.perf_counter()
    result = DailyJob(store, Config(preset("etsi-319-401"))).run(NOW)
    return time.perf_counter() - start, len(result.report.findings)


def change_one_percent(store: Store, n: int, seed: int) -> int:
    rng = random.Random(seed + 1)
    keys = sorted(rng.sample(range(n), max(1, n // 100)))
    changed = []
    for i in keys:
        t = store.get_ticket(f"BENCH-{i:07d}", history=False)
        assert t is not None
        changed.append(replace(t, description=t.description + f"\nUpdated ({seed}): rated HIGH.",
                               updated=NOW))
    store.upsert_tickets(changed, actor="bench", at=NOW)
    return len(changed)


class TreeMemory:
    """Peak resident memory of this process plus every process below it (the forkserver and
    the evaluation workers), sampled from /proc every 0.1 s."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))


def _tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            status = (proc / "status").read_text()
        except OSError:
            continue  # ended meanwhile
        parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(proc.name)] = int(line.split()[1])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def _list(values: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="Keep the store here.")
    parser.add_argument("--repeat", type=int, default=3,
                        help="Bare scans and second runs to take the median of (default 3).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vulnmark-bench-") as tmp:
        path = args.db or Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        generate(path, args.tickets, args.seed)
        print(f"generated {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
        scans = [bare_scan(path) for _ in range(args.repeat)]
        store = Store.open(f"sqlite:///{path}")
        with TreeMemory() as memory:
            first, findings = check_and_report(store)
            seconds = []
            for k in range(args.repeat):  # each after another 1 % changed
                changed = change_one_percent(store, args.tickets, args.seed + k)
                seconds.append(check_and_report(store)[0])
        store.close()
    scan, second = statistics.median(scans), statistics.median(seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bare SQL scan:            {scan:8.2f} s  (median of {_list(scans)})")
    print(f"check + report (cold):    {first:8.2f} s  -> ratio {first / scan:.2f} (target <= 5)")
    print(f"tickets per second:       {args.tickets / first:8.0f}")
    print(f"findings:                 {findings:8d}")
    print(f"second run ({changed:,} changed): {second:6.2f} s  -> {100 * second / first:.1f} % "
          f"of the first (target <= 10 %; median of {_list(seconds)})")
    print(f"peak memory (RSS):        {peak_mb:8.0f} MB this process (target <= 500 MB at 1M); "
          f"{memory.peak_kb / 1024:.0f} MB with its worker processes (sampled while checking)")


if __name__ == "__main__":
    main()
