"""``intake run`` on the live NVD API (the emulator on 127.0.0.1): incremental, checkpointed
page by page, resumed after a crash without duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_support import cve, official_nvd_check
from vulnmark.config.load import from_mapping
from vulnmark.intake.feeds.nvd_api import NvdApi
from vulnmark.intake.live import CURSOR, UNTIL, run_live
from vulnmark.intake.run import IntakeOptions
from vulnmark.store import Store
from vulnmark.testing import NvdEmulator
from vulnmark.testing.server import serve_in_thread

START = datetime(2026, 6, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def served() -> Iterator[tuple[NvdEmulator, str]]:
    emu = NvdEmulator(api_keys={"key"}, validator=official_nvd_check)
    emu.add([cve(n, modified=(START + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%S.000"))
             for n in range(1, 151)])
    with serve_in_thread(emu) as url:
        yield emu, f"{url}/rest/json/cves/2.0"


def test_incremental_resumable_runs(served: tuple[NvdEmulator, str], tmp_path: Path) -> None:
    emu, url = served
    config = from_mapping({"intake": {"vendors": ["OpenSSL"], "nvd_url": url}})
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    api = NvdApi(url, "key", page_size=20, sleep=lambda s: None)
    pages = {"n": 0}

    def crash_after_three(n: int) -> None:
        pages["n"] += 1
        if pages["n"] == 3:
            raise KeyboardInterrupt

    opts = IntakeOptions(since=START)
    with pytest.raises(KeyboardInterrupt):
        run_live(store, config, api, now=NOW, options=opts, progress=crash_after_three)
    assert store.count_tickets() == 60
    cursor = json.loads(store.get_state(CURSOR) or "{}")
    assert cursor["index"] in (40, 60)  # the page before the crash, or the crashed one
    resumed = run_live(store, config, NvdApi(url, "key", page_size=20, sleep=lambda s: None),
                       now=NOW)
    assert resumed.resumed and store.count_tickets() == 150
    assert len(resumed.result.opened) == 90
    assert store.get_state(CURSOR) == "" and store.get_state(UNTIL) == NOW.isoformat()
    # one record rescored later: the next run reads only what changed since the last
    emu.touch(["CVE-2026-0007"], NOW + timedelta(hours=1))
    emu.records["CVE-2026-0007"]["metrics"]["cvssMetricV31"][0]["cvssData"].update(
        baseScore=9.8, baseSeverity="CRITICAL")
    before = len(emu.requests)
    later = run_live(store, config, NvdApi(url, "key", sleep=lambda s: None),
                     now=NOW + timedelta(days=1))
    assert later.since == NOW and len(emu.requests) - before == 1
    assert later.result.updated == [later.result.updated[0]]
    assert later.result.proposals and later.result.proposals[0].endswith("CRITICAL")
    assert store.count_tickets() == 150 and emu.violations == 0


def test_the_rate_limit_counts_the_requests_of_the_run_before(tmp_path: Path) -> None:
    """Two runs in a row (two processes) stay within 5 requests per 30 s together."""
    now = {"t": 5000.0}

    def clock() -> float:
        return now["t"]

    def sleep(s: float) -> None:
        now["t"] += s

    emu = NvdEmulator(clock=clock, validator=official_nvd_check)
    emu.add([cve(n, modified=(START + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%S.000"))
             for n in range(1, 41)])
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    with serve_in_thread(emu) as url:
        config = from_mapping({"intake": {"vendors": ["OpenSSL"], "nvd_url": url}})
        api = f"{url}/rest/json/cves/2.0"
        run_live(store, config, NvdApi(api, page_size=10, clock=clock, sleep=sleep), now=NOW,
                 options=IntakeOptions(since=START))
        run_live(store, config, NvdApi(api, page_size=10, clock=clock, sleep=sleep),
                 now=NOW, options=IntakeOptions(since=START))
    assert len(emu.requests) >= 10 and emu.violations == 0
    assert emu.max_in_window(keyed=False) == 5
