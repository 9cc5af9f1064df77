"""Benchmark: ``vulnmark sync`` of 100,000 issues from the Jira emulator with 50 ms latency.

The emulator runs in its own process on 127.0.0.1 (so its CPU and memory are not counted
against the client). For each flavour it prints:

* requests made vs the minimum (search pages + comment/changelog pages of the issues whose
  search result cut them off) — target <= 1.05x;
* wall time vs requests x latency — target <= 1.3x, or below 1.0x where pages are fetched
  concurrently (Data Center: after the first page, ``startAt`` pages are independent);
* issues per second and the client's peak RSS;
* an incremental sync after 1% of the issues changed: its requests as a share of the full
  sync's — target <= 2%.

Modes: ``cloud`` (token paging, one search page at a time, the next requested while the
current one is stored), ``cloud-hydrate`` (ids listed 5000 a page, issues fetched 100 at a time
with ``issue/bulkfetch``, 4 requests in flight), ``datacenter`` (``startAt`` pages, 4 in flight).

Usage: ``python benchmarks/jira_sync.py [--issues 100000] [--latency 0.05]
[--mode cloud|cloud-hydrate|datacenter|all]``
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from vulnmark.sources.jira.settings import JiraSettings
from vulnmark.sources.jira.sync import run_sync
from vulnmark.store import Store

CLOUD_CAP, DC_CAP, MANY_EVERY, INLINE_COMMENTS, INLINE_CHANGES = 100, 1000, 1000, 20, 40


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_emulator(flavour: str, issues: int, latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vulnmark.testing.server", "--flavour", flavour,
         "--issues", str(issues), "--latency", str(latency),
         "--many-comments-every", str(MANY_EVERY)],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"emulator did not start: {url!r}")
    return proc, url


def minimum_requests(flavour: str, issues: int) -> int:
    cap = CLOUD_CAP if flavour == "cloud" else DC_CAP
    pages = math.ceil(issues / cap)
    if flavour != "cloud":
        return pages  # Data Center returns comments and changelog whole
    truncated = len(range(0, issues, MANY_EVERY))
    # each has 45 comments (20 inline: one more page of up to 100) and 45 changes (40 inline:
    # the changelog endpoint, one page of 100)
    return pages + truncated * (math.ceil((45 - INLINE_COMMENTS) / 100) + math.ceil(45 / 100))


def bench(mode: str, issues: int, latency: float) -> None:
    flavour = "datacenter" if mode == "datacenter" else "cloud"
    proc, url = start_emulator(flavour, issues, latency)
    try:
        with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{tmp}/b.db") as store:
            settings = JiraSettings(url=url, jql="project = VULN", flavour=flavour,  # type: ignore[arg-type]
                                    email="bench@example.org", token="t",
                                    hydrate=mode == "cloud-hydrate")
            rss0 = peak_rss_mb()
            cpu0 = cpu_seconds()
            t0 = time.perf_counter()
            full = run_sync(store, settings)
            wall = time.perf_counter() - t0
            cpu = cpu_seconds() - cpu0
            rss1 = peak_rss_mb()
            assert full.issues == issues, full
            touch = httpx.post(f"{url}/_emulator/touch", json={"fraction": 0.01})
            touched = touch.json()["touched"]
            t1 = time.perf_counter()
            inc = run_sync(store, settings)
            inc_wall = time.perf_counter() - t1
            assert inc.issues >= touched, inc
        minimum = minimum_requests(flavour, issues)
        bound = full.requests * latency
        print(f"\n== {mode}: {issues:,} issues, {latency * 1000:.0f} ms latency ==")
        print(f"requests          {full.requests:>8}  minimum {minimum}  ratio "
              f"{full.requests / minimum:.3f}  (target <= 1.05)")
        print(f"  issue pages     {full.pages:>8}  comment/changelog pages {full.extra_requests}"
              f"  retries {full.retries}")
        print(f"wall time         {wall:>8.1f} s  requests x latency {bound:.1f} s  ratio "
              f"{wall / bound:.2f}  (target <= 1.3)")
        print(f"client CPU        {cpu:>8.1f} s  ({cpu / issues * 1000:.2f} ms per issue: JSON, "
              f"ADF/wiki to text, SQLite upsert) — wall {wall / max(cpu, bound):.2f} x "
              "max(CPU, requests x latency)")
        print(f"issues per second {issues / wall:>8.0f}")
        print(f"peak RSS          {rss1:>8.0f} MB (before the sync {rss0:.0f} MB)")
        print(f"incremental       {inc.requests:>8} requests for {inc.issues} changed issues "
              f"({touched} touched) = {inc.requests / full.requests:.2%} of the full sync's "
              f"(target <= 2%), {inc_wall:.1f} s")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=100_000)
    ap.add_argument("--latency", type=float, default=0.05)
    modes = ("cloud", "cloud-hydrate", "datacenter")
    ap.add_argument("--mode", choices=(*modes, "all"), default="all")
    args = ap.parse_args()
    for mode in modes if args.mode == "all" else (args.mode,):
        bench(mode, args.issues, args.latency)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
