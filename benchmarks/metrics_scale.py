"""Metrics over an N-ticket store (default 1,000,000) against a bare SQL aggregate.

Generates N tickets with their cached evaluations straight into SQLite with ``executemany``
(about 40 % vulnerabilities over 24 months of discovery, classes, label times, outcomes and
deadlines like the ETSI preset), then measures in one process:

* bare aggregate: ``SELECT month, class, count(*) ... GROUP BY`` over the same rows (the floor);
* metrics: :func:`vulnmark.store.metrics.compute` (time to classify, time to outcome, met / missed /
  pending per class and month) over the same period.

Each is run ``--repeat`` times; the best times are compared. Target (issue 5): metrics within
3x the bare aggregate.

    .venv/bin/python benchmarks/metrics_scale.py --tickets 1000000
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vulnmark._time import stored
from vulnmark.store import Store, metrics

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
START = NOW - timedelta(days=730)
CLASSES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIVE", None)
DEADLINE_H = {"CRITICAL": 48}


def rows(n: int, seed: int = 5) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    rnd = random.Random(seed)
    for i in range(n):
        created = START + timedelta(minutes=rnd.randrange(730 * 24 * 60))
        key = f"VULN-{i + 1}"
        vuln = rnd.random() < 0.4
        cls = rnd.choice(CLASSES) if vuln else None
        classified = created + timedelta(hours=rnd.expovariate(1 / 20)) if cls else None
        resolved = created + timedelta(hours=rnd.expovariate(1 / 200))
        resolved = resolved if resolved < NOW and rnd.random() < 0.8 else None
        outcome = resolved if resolved and rnd.random() < 0.9 else None
        due = created + timedelta(hours=DEADLINE_H[cls]) if cls in DEADLINE_H else None
        ticket = (key, "embedded", f"ticket {i}", "Open" if resolved is None else "Resolved",
                  stored(created), stored(resolved), "0" * 64)
        evaluation = (key, int(vuln), cls, "resolved" if resolved else "open", stored(created),
                      stored(due), stored(resolved), 0, "", stored(created), stored(classified),
                      stored(outcome), "remediated" if outcome else None)
        yield ticket, evaluation


def generate(path: Path, n: int) -> None:
    Store.open(f"sqlite:///{path}").close()  # the schema, by the migrations
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    batch_t: list[tuple[Any, ...]] = []
    batch_e: list[tuple[Any, ...]] = []

    def flush() -> None:
        conn.executemany("INSERT INTO tickets (key, source, title, status, created_at, "
                         "resolved_at, content_hash) VALUES (?,?,?,?,?,?,?)", batch_t)
        conn.executemany("INSERT INTO evaluations (ticket_key, is_vulnerability, "
                         "classification, state, created_at, due_at, resolved_at, n_findings, "
                         "findings, discovered_at, classified_at, outcome_at, outcome_kind) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch_e)
        batch_t.clear()
        batch_e.clear()

    for t, e in rows(n):
        batch_t.append(t)
        batch_e.append(e)
        if len(batch_t) >= 50_000:
            flush()
    flush()
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None, help="reuse or create this SQLite file")
    args = ap.parse_args(argv)
    path = args.db or Path(tempfile.mkdtemp(prefix="vulnmark-metrics-")) / "bench.db"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.tickets)
        print(f"generated {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s: {path}")
    store = Store.open(f"sqlite:///{path}")
    since, until = START - timedelta(days=1), NOW + timedelta(days=1)
    bare, groups = best(lambda: metrics.baseline(store, since, until), args.repeat)
    full, result = best(lambda: metrics.compute(store, since, until, NOW), args.repeat)
    assert isinstance(result, metrics.Metrics)
    n = sum(r.discovered for r in result.rows)
    ratio = full / bare
    print(f"vulnerabilities aggregated: {n:,} in {groups} class-month groups")
    print(f"bare SQL aggregate: {bare:.3f} s")
    print(f"metrics.compute:    {full:.3f} s")
    print(f"ratio: {ratio:.2f}x (target <= 3x): {'OK' if ratio <= 3 else 'OVER TARGET'}")
    store.close()
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
