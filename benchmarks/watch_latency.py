"""Benchmark: detection latency of ``vulnmark watch`` against the Jira emulator.

The emulator runs in its own process on 127.0.0.1 with N issues (default 10,000) and injected
latency per request; ``vulnmark watch --interval I`` runs in its own process with
``[source.jira]`` pointing at it; an SMTP sink (aiosmtpd) on 127.0.0.1 notes when each alert
arrives. After the first tick (the full sync, taken as known), the benchmark marks issues as
CRITICAL vulnerabilities in the emulator, one at a time at random moments (``PUT
/rest/api/3/issue/KEY``, as a person labels a ticket in Jira), and measures the time until
the alert naming the issue is accepted by the sink. It prints the latency distribution
(target: at most one interval + 30 s) and the cost of an idle tick: requests to Jira and CPU
seconds of the watch process.

Usage: ``python benchmarks/watch_latency.py [--issues 10000] [--latency 0.05]
[--interval 20] [--alerts 6]``
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jira_sync import start_emulator  # noqa: E402


class Sink:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.arrivals.append((time.time(), envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def seen(self, key: str) -> float | None:
        with self.lock:
            for at, body in self.arrivals:
                if f"{key} [" in body:
                    return at
        return None


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests(url: str) -> int:
    return int(httpx.post(f"{url}/_emulator/stats").json()["requests"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--issues", type=int, default=10_000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--interval", type=float, default=20.0)
    ap.add_argument("--alerts", type=int, default=6)
    args = ap.parse_args()
    emu, url = start_emulator("cloud", args.issues, args.latency)
    sink = Sink()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    watcher: subprocess.Popen[str] | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "vulnmark.toml").write_text(
                f'[source.jira]\nurl = "{url}"\njql = "project = VULN"\nflavour = "cloud"\n')
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("VULNMARK_")},
                   "JIRA_EMAIL": "bench@example.org", "JIRA_TOKEN": "t",
                   "VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port),
                   "VULNMARK_DB": f"sqlite:///{work / 'w.db'}"}
            t0 = time.time()
            watcher = subprocess.Popen(
                [sys.executable, "-m", "vulnmark", "watch", "--interval",
                 f"{args.interval:g}s", "--to", "soc@example.org"],
                cwd=work, env=env, stdout=subprocess.PIPE, text=True)
            assert watcher.stdout is not None
            first = watcher.stdout.readline()
            print(f"first tick (full sync of {args.issues:,} issues, baseline) "
                  f"{time.time() - t0:.1f} s: {first.strip()[:100]}")
            out = watcher.stdout
            threading.Thread(target=lambda: [None for _ in out], daemon=True).start()
            # idle ticks: requests and CPU per tick with nothing new
            r0, c0 = requests(url), cpu_of(watcher.pid)
            time.sleep(args.interval * 2)
            r1, c1 = requests(url), cpu_of(watcher.pid)
            idle_ticks = 2
            rng = random.Random(7)
            keys: list[str] = []
            while len(keys) < args.alerts:  # open issues without any label (none alerted yet)
                key = f"VULN-{rng.randrange(1, args.issues)}"
                got = httpx.get(f"{url}/rest/api/3/issue/{key}",
                                params={"fields": "labels,resolutiondate"},
                                auth=("bench@example.org", "t"))
                fields = got.json().get("fields", {}) if got.status_code == 200 else None
                if fields is not None and not fields.get("labels") \
                        and not fields.get("resolutiondate") and key not in keys:
                    keys.append(key)
            latencies = []
            for key in keys:
                time.sleep(rng.uniform(0, args.interval))
                put = httpx.put(f"{url}/rest/api/3/issue/{key}",
                                json={"update": {"labels": [{"add": "Vulnerability"},
                                                            {"add": "CRITICAL"}]}},
                                auth=("bench@example.org", "t"))
                put.raise_for_status()
                marked = time.time()
                deadline = marked + args.interval + 120
                while (arrived := sink.seen(key)) is None and time.time() < deadline:
                    time.sleep(0.2)
                latency = (arrived - marked) if arrived else float("inf")
                latencies.append(latency)
                print(f"  {key}: alert after {latency:.1f} s")
        target = args.interval + 30
        ok = all(x <= target for x in latencies)
        print(f"\n== {args.issues:,} issues, {args.latency * 1000:.0f} ms latency, interval "
              f"{args.interval:g} s ==")
        print(f"detection latency  min {min(latencies):.1f} s  median "
              f"{statistics.median(latencies):.1f} s  max {max(latencies):.1f} s  "
              f"(target <= interval + 30 s = {target:g} s: {'met' if ok else 'NOT met'})")
        print(f"idle tick          {(r1 - r0) / idle_ticks:.1f} requests to Jira, "
              f"{(c1 - c0) / idle_ticks:.2f} CPU s of the watch process")
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(30)
        smtp.stop()
        emu.terminate()
        emu.wait(10)


if __name__ == "__main__":
    main()
