"""Benchmark: threat intake of the real feed records in ../shared/data.

Prints, measured in one run:

* **parse**: records/s of each feed's parser (NVD 2.0 gzip, CVE 5, KEV, OSV YAML) and the peak
  memory (tracemalloc) of reading the largest file, 6,517 NVD records, against its size;
* **full intake**: every record of every feed through the watchlist (a few real vendors and
  products) into a new SQLite store: records/s, tickets opened, peak RSS; then the same again,
  which must open nothing (``second run opened``);
* **live NVD through the emulator** (127.0.0.1): all 14,867 NVD records served by
  :class:`vulnmark.testing.NvdEmulator`, read from 2015 to the last modification, then an
  incremental run after 1 % of the records changed. For each: requests made vs the minimum (one
  request per 120-day window, plus one per further 2,000 records in it) — target <= 1.05x — and
  the most requests in any 30 s as the emulator counted them, against the limit of 5 (no key),
  with the number of refused requests (target 0). The client and the emulator share a
  simulated clock, so the client's rate-limit waits take no wall time.

Each part runs in a process of its own, so that each peak RSS is that part's alone (the full
intake's used to include the parse part's peak, measured before it in the same process).

Usage: ``python benchmarks/intake_scale.py [--part parse|full|live]``
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vulnmark.config.load import from_mapping
from vulnmark.intake.feeds import Cve5Feed, KevFeed, NvdFeed, OsvFeed
from vulnmark.intake.feeds.nvd_api import NvdApi, windows
from vulnmark.intake.live import run_live
from vulnmark.intake.run import Intake, IntakeOptions, read_feed
from vulnmark.store import Store
from vulnmark.testing import NvdEmulator
from vulnmark.testing.server import serve_in_thread

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NVD = sorted((DATA / "nvd_api2_vulnz_cache").glob("nvdcve-*.json.gz"))
FEEDS = [("nvd", p) for p in NVD] + [
    ("nvd", DATA / "nvd_api2_small_fixtures"),
    ("cve5", DATA / "cve5_vulnrichment" / "records"),
    ("kev", DATA / "cisa_kev" / "known_exploited_vulnerabilities.json"),
    ("osv", DATA / "pypa_osv_advisories" / "vulns"),
]
WATCH = {"intake": {"vendors": ["OpenSSL", "Microsoft", "Apache"],
                    "products": ["nginx/nginx", "linux/linux_kernel"],
                    "packages": ["PyPI/cryptography", "PyPI/django", "pkg:pypi/requests"],
                    "keywords": ["X.509", "PKCS#11", "OCSP"]}}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class SimClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def parse() -> None:
    print("== parse")
    for name, feed in (("nvd", NvdFeed()), ("cve5", Cve5Feed()), ("kev", KevFeed()),
                       ("osv", OsvFeed())):
        paths = [p for n, p in FEEDS if n == name]
        t = time.perf_counter()
        n = sum(1 for p in paths for _ in feed.read(p))
        s = time.perf_counter() - t
        print(f"{name:5} {n:6d} records in {s:6.2f} s: {n / s:8.0f} records/s")
    biggest = max(NVD, key=lambda p: p.stat().st_size)
    tracemalloc.start()
    n = sum(1 for _ in NvdFeed().read(biggest))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory parsing {biggest.name} ({n} records, {biggest.stat().st_size / 1e6:.1f}"
          f" MB gzip): {peak / 1e6:.0f} MB (tracemalloc)")


def full(tmp: Path) -> None:
    print("== full intake of every feed")
    config = from_mapping(WATCH)
    store = Store.open(f"sqlite:///{tmp / 'full.db'}")
    now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    for round_ in (1, 2):
        t = time.perf_counter()
        read = opened = 0
        for name, path in FEEDS:
            result = Intake(store, config).run(read_feed(name, path), feed=name, now=now)
            read += result.read
            opened += len(result.opened)
        s = time.perf_counter() - t
        what = "opened" if round_ == 1 else "second run opened"
        print(f"run {round_}: {read} records in {s:.1f} s ({read / s:.0f} records/s); {what} "
              f"{opened} tickets; peak RSS {peak_rss_mb():.0f} MB")
    print(f"tickets in the store: {store.count_tickets()}")
    store.close()


def minimum_requests(modified: list[datetime], since: datetime, until: datetime) -> int:
    total = 0
    for i, (start, end) in enumerate(windows(since, until)):
        n = sum(1 for m in modified if (start < m if i else start <= m) and m <= end)
        total += max(1, math.ceil(n / 2000))
    return total


def live(tmp: Path) -> None:
    print("== live NVD API through the emulator (simulated clock, no API key)")
    clock = SimClock()
    emu = NvdEmulator(clock=clock.time, validate=False)
    for path in NVD:
        emu.load(path)
    records = len(emu.records)
    with serve_in_thread(emu) as url:
        api_url = f"{url}/rest/json/cves/2.0"
        config = from_mapping({"intake": {**WATCH["intake"], "nvd_url": api_url}})
        store = Store.open(f"sqlite:///{tmp / 'live.db'}")
        modified = sorted(datetime.fromisoformat(r["lastModified"]).replace(tzinfo=UTC)
                          for r in emu.records.values())
        since, until = datetime(2015, 1, 1, tzinfo=UTC), modified[-1] + timedelta(seconds=1)
        t = time.perf_counter()
        api = NvdApi(api_url, None, clock=clock.time, sleep=clock.sleep)
        first = run_live(store, config, api, now=until, options=IntakeOptions(since=since))
        s = time.perf_counter() - t
        least = minimum_requests(modified, since, until)
        print(f"full: {first.result.read} of {records} records, {first.pages} pages, "
              f"{api.requests} requests vs minimum {least}: {api.requests / least:.3f}x "
              f"(target <= 1.05); {s:.1f} s wall, {clock.now:.0f} s simulated; opened "
              f"{len(first.result.opened)}")
        changed = sorted(emu.records)[:: 100]  # 1 %
        later = until + timedelta(days=1)
        emu.touch(changed, later - timedelta(hours=1))
        before = len(emu.requests)
        api2 = NvdApi(api_url, None, clock=clock.time, sleep=clock.sleep)
        second = run_live(store, config, api2, now=later)
        least2 = minimum_requests([later - timedelta(hours=1)] * len(changed), until, later)
        print(f"incremental after {len(changed)} records changed ({len(changed) / records:.1%}):"
              f" {second.result.read} records read, {len(emu.requests) - before} requests vs "
              f"minimum {least2}: {(len(emu.requests) - before) / least2:.3f}x; opened "
              f"{len(second.result.opened)}, unchanged {second.result.unchanged}")
        print(f"rate limit: at most {emu.max_in_window(keyed=False)} requests in any 30 s "
              f"(limit 5); refused by the emulator: {emu.violations}")
        for client in (api, api2):  # before the server stops: no connection left pending
            client.client.close()
        store.close()


PARTS = ("parse", "full", "live")


def main() -> None:
    if not DATA.exists():
        sys.exit(f"needs {DATA}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, default=None,
                        help="run one part in this process (default: each in its own)")
    part = parser.parse_args().part
    if part is None:
        for name in PARTS:
            subprocess.run([sys.executable, __file__, "--part", name], check=True)
        return
    if part == "parse":
        parse()
        return
    with tempfile.TemporaryDirectory() as tmp:
        (full if part == "full" else live)(Path(tmp))
        print(f"peak RSS of the {part} process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
