"""The live NVD CVE API 2.0 client against the emulator on 127.0.0.1: windows of at most 120
days, pages of 2,000, the API key header, the rate limits, Retry-After, and resuming."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from intake_support import cve, official_nvd_check
from vulnmark.errors import FeedUnavailable
from vulnmark.intake.feeds.nvd_api import Cursor, NvdApi, windows
from vulnmark.testing import NvdEmulator
from vulnmark.testing.server import serve_in_thread

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """Monotonic time that only moves when someone sleeps (the client's waits)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


def records(n: int, *, every: timedelta = timedelta(hours=1)) -> list[dict[str, object]]:
    return [cve(i, modified=(START + i * every).strftime("%Y-%m-%dT%H:%M:%S.000"))
            for i in range(1, n + 1)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[tuple[NvdEmulator, str]]:
    emu = NvdEmulator(api_keys={"k-123"}, clock=clock.time, validator=official_nvd_check)
    with serve_in_thread(emu) as url:
        yield emu, f"{url}/rest/json/cves/2.0"


def _api(url: str, clock: FakeClock, key: str | None = None, **kw: object) -> NvdApi:
    return NvdApi(url, key, clock=clock.time, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def test_windows_are_at_most_120_days() -> None:
    cut = windows(START, START + timedelta(days=300))
    assert len(cut) == 3 and all(e - s <= timedelta(days=120) for s, e in cut)
    assert cut[0][0] == START and cut[-1][1] == START + timedelta(days=300)


def test_reads_every_record_once_in_the_fewest_pages_within_the_rate_limit(
        emulator: tuple[NvdEmulator, str], clock: FakeClock) -> None:
    emu, url = emulator
    emu.add(records(4500, every=timedelta(hours=1)))  # 187 days: two windows
    api = _api(url, clock)
    seen = [a.id for page in api.pages(START, START + timedelta(days=200))
            for a in page.advisories]
    assert len(seen) == len(set(seen)) == 4500
    # window 1 (120 days = 2,880 records): 2 pages; window 2 (1,620): 1 page
    assert api.requests == 3 == len(emu.requests)
    assert all(int(r.params["resultsPerPage"]) == 2000 for r in emu.requests)
    assert emu.violations == 0


def test_without_a_key_five_requests_per_30_seconds(emulator: tuple[NvdEmulator, str],
                                                   clock: FakeClock) -> None:
    emu, url = emulator
    emu.add(records(120, every=timedelta(days=3)))
    api = _api(url, clock, page_size=10)
    list(api.pages(START, START + timedelta(days=400)))
    assert api.requests >= 12
    assert emu.violations == 0 and emu.max_in_window(keyed=False) == 5
    assert sum(clock.slept) >= 30  # it waited instead of being refused


def test_with_a_key_fifty_and_the_key_in_the_header(emulator: tuple[NvdEmulator, str],
                                                   clock: FakeClock) -> None:
    emu, url = emulator
    emu.add(records(600, every=timedelta(hours=2)))
    api = _api(url, clock, "k-123", page_size=10)
    list(api.pages(START, START + timedelta(days=60)))
    assert api.requests == 60 and all(r.keyed for r in emu.requests)
    assert emu.violations == 0 and emu.max_in_window(keyed=True) == 50


def test_403_and_503_are_retried_after_retry_after(emulator: tuple[NvdEmulator, str],
                                                   clock: FakeClock) -> None:
    emu, url = emulator
    emu.add(records(5))
    emu.inject(403, retry_after="7")
    emu.inject(503, times=2)
    api = _api(url, clock)
    got = [a.id for p in api.pages(START, START + timedelta(days=1)) for a in p.advisories]
    assert len(got) == 5
    assert [r.status for r in emu.requests] == [403, 503, 503, 200]
    assert 7.0 in clock.slept


def test_a_refused_key_and_a_dead_api_are_external_errors(emulator: tuple[NvdEmulator, str],
                                                          clock: FakeClock) -> None:
    emu, url = emulator
    with pytest.raises(FeedUnavailable, match="refused the API key") as e:
        list(_api(url, clock, "wrong-secret").pages(START, START + timedelta(days=1)))
    assert "wrong-secret" not in str(e.value)
    emu.inject(503, times=10)
    with pytest.raises(FeedUnavailable, match="HTTP 503"):
        list(_api(url, clock, max_retries=2).pages(START, START + timedelta(days=1)))


def test_a_cursor_resumes_where_the_pages_stopped(emulator: tuple[NvdEmulator, str],
                                                  clock: FakeClock) -> None:
    emu, url = emulator
    emu.add(records(300, every=timedelta(days=1)))  # 300 days: three windows
    api = _api(url, clock, "k-123", page_size=50)
    end = START + timedelta(days=301)
    first: list[str] = []
    cursor: Cursor | None = None
    for i, page in enumerate(api.pages(START, end)):
        first += [a.id for a in page.advisories]
        cursor = page.next
        if i == 3:
            break
    assert cursor is not None
    resumed = _api(url, clock, "k-123", page_size=50)
    rest = [a.id for p in resumed.pages(START, end,
                                        resume=Cursor.from_dict(cursor.as_dict()))
            for a in p.advisories]
    assert sorted(first + rest) == sorted(f"CVE-2026-{n:04d}" for n in range(1, 301))
    assert not set(first) & set(rest)
