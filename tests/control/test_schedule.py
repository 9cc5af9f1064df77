"""The cron schedule: parsing, slots across DST, missed slots, and the in-process loop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from vulnmark.config.load import from_mapping
from vulnmark.config.schedule import Cron, Schedule
from vulnmark.control import health as runs
from vulnmark.control.schedule import Loop
from vulnmark.errors import ConfigError, ScheduleError
from vulnmark.model import Run
from vulnmark.store import runs as store_runs


def sched(expr: str, tz: str = "Europe/Budapest") -> Schedule:
    return Schedule(Cron.parse(expr), tz)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_cron_fields() -> None:
    c = Cron.parse("*/15 7-9 1,15 jan-mar mon-fri")
    assert c.minutes == {0, 15, 30, 45} and c.hours == {7, 8, 9}
    assert c.days == {1, 15} and c.months == {1, 2, 3} and c.weekdays == {1, 2, 3, 4, 5}
    assert Cron.parse("0 7 * * 7").weekdays == {0}          # 7 is Sunday too
    assert Cron.parse("0 7 * * 1/2").weekdays == {1, 3, 5}


@pytest.mark.parametrize(("expr", "message"), [
    ("0 7 * *", "expected 5 fields"),
    ("60 7 * * *", "minute '60' is not in 0-59"),
    ("0 24 * * *", "hour '24'"),
    ("0 7 0 * *", "day of month '0'"),
    ("0 7 * 13 *", "month '13'"),
    ("0 7 * * fri-mon", "runs backwards"),
    ("*/0 7 * * *", "bad step"),
    ("0 7 * * funday", "day of week 'funday'"),
])
def test_bad_cron_is_named(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Cron.parse(expr)


def test_day_of_month_or_day_of_week_when_both_restricted() -> None:
    s = sched("0 7 13 * fri", "UTC")
    days = [d.date().isoformat() for d in s.slots(utc(2026, 11, 1), utc(2026, 11, 30))]
    assert days == ["2026-11-06", "2026-11-13", "2026-11-20", "2026-11-27"]


def test_daily_slots_keep_local_time_across_dst() -> None:
    s = sched("0 7 * * *")
    spring = list(s.slots(utc(2026, 3, 28), utc(2026, 3, 30, 12)))
    assert spring == [utc(2026, 3, 28, 6), utc(2026, 3, 29, 5), utc(2026, 3, 30, 5)]
    autumn = list(s.slots(utc(2026, 10, 24), utc(2026, 10, 26, 12)))
    assert autumn == [utc(2026, 10, 24, 5), utc(2026, 10, 25, 6), utc(2026, 10, 26, 6)]


def test_a_slot_in_the_dst_gap_runs_after_it_and_a_repeated_one_runs_once() -> None:
    s = sched("30 2 * * *")
    gap = list(s.slots(utc(2026, 3, 29), utc(2026, 3, 29, 23)))
    assert gap == [utc(2026, 3, 29, 1, 30)]                # 03:30 CEST, after the jump
    repeated = list(s.slots(utc(2026, 10, 25), utc(2026, 10, 25, 23)))
    assert repeated == [utc(2026, 10, 25, 0, 30)]          # the first 02:30 (CEST) only


def test_previous_and_next() -> None:
    s = sched("0 7 * * mon-fri", "UTC")
    saturday = utc(2026, 11, 28, 12)
    assert s.previous(saturday) == utc(2026, 11, 27, 7)
    assert s.next(saturday) == utc(2026, 11, 30, 7)
    assert s.next(utc(2026, 11, 30, 7)) == utc(2026, 12, 1, 7)
    assert s.previous(utc(2026, 11, 30, 7)) == utc(2026, 11, 30, 7)


def _run(i: int, at: datetime) -> Run:
    return Run(id=i, kind="report", started_at=at, policy_digest="d")


def test_missed_slots_are_uncovered_slots_before_the_current_one() -> None:
    s = sched("0 7 * * *", "UTC")
    done = [_run(1, utc(2026, 11, 1, 7)), _run(2, utc(2026, 11, 2, 7, 5)),
            _run(3, utc(2026, 11, 4, 13))]           # the 3rd: none; the 4th: caught up late
    missed = runs.missed_slots(done, utc(2026, 11, 6, 7), s)
    assert missed == (utc(2026, 11, 3, 7), utc(2026, 11, 5, 7))  # the 6th is being run now
    weekdays = sched("0 7 * * mon-fri", "UTC")
    week = [_run(1, utc(2026, 11, 27, 7)), _run(2, utc(2026, 11, 30, 7))]
    assert runs.missed_slots(week, utc(2026, 12, 1, 7), weekdays) == ()


def test_schedule_section_is_validated_at_load() -> None:
    got = from_mapping({"timezone": "Europe/Budapest",
                        "schedule": {"cron": "0 6 * * 1-5"}}).schedule
    assert got is not None
    assert got.timezone == "Europe/Budapest" and got.cron.hours == {6}
    for bad, message in [({"cron": "0 6 * *"}, "schedule.cron"),
                         ({"timezone": "Mars/Base"}, "schedule.timezone"),
                         ({"when": "daily"}, "schedule.when"),
                         ({"catch_up": "yes"}, "schedule.catch_up")]:
        with pytest.raises(ConfigError, match=message):
            from_mapping({"schedule": bad})


class FakeClock:
    """Time moves only when the loop waits: ``wait`` advances the clock instead of sleeping."""

    def __init__(self, start: datetime, stop_after: datetime) -> None:
        self.now = start
        self.stop_after = stop_after
        self.event = self

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += timedelta(seconds=seconds)
        return self.now > self.stop_after

    def is_set(self) -> bool:
        return self.now > self.stop_after


def test_loop_catches_up_then_runs_each_slot() -> None:
    s = sched("0 7 * * *", "UTC")
    clock = FakeClock(utc(2026, 11, 27, 9), stop_after=utc(2026, 11, 29, 8))
    ran: list[datetime] = []
    covered_slots: set[datetime] = set()

    def job(now: datetime) -> None:
        ran.append(now)
        covered_slots.add(s.previous(now) or now)

    loop = Loop(s, job, lambda slot, _next: slot in covered_slots, clock=clock,
                stop=clock)  # type: ignore[arg-type]
    assert loop.serve() == 3
    assert ran == [utc(2026, 11, 27, 9), utc(2026, 11, 28, 7), utc(2026, 11, 29, 7)]


def test_loop_once_runs_only_an_uncovered_slot_and_survives_a_failing_job() -> None:
    s = sched("0 7 * * *", "UTC")
    calls: list[datetime] = []

    def job(now: datetime) -> None:
        calls.append(now)
        raise RuntimeError("smtp down")

    loop = Loop(s, job, lambda _s, _n: False, clock=lambda: utc(2026, 11, 27, 8))
    assert loop.once() is True and isinstance(loop.last_error, RuntimeError)
    covered = Loop(s, job, lambda _s, _n: True, clock=lambda: utc(2026, 11, 27, 8))
    assert covered.once() is False and len(calls) == 1


def test_loop_stops_on_the_event_and_after_max_runs() -> None:
    s = sched("* * * * *", "UTC")
    stop = threading.Event()
    stop.set()
    loop = Loop(s, lambda _now: None, lambda _s, _n: False, stop=stop)
    assert loop.serve() == 1                  # the catch-up, then the stop is seen
    limited = Loop(s, lambda _now: None, lambda _s, _n: False, max_runs=1)
    assert limited.serve() == 1


def test_control_health_lists_failed_syncs_and_scheduled_misses(tmp_path: object) -> None:
    from vulnmark.store import Store

    config = from_mapping({"schedule": {"cron": "0 7 * * *"}})
    with Store.open("sqlite:///health.db") as store:
        for day in (1, 2, 4):
            store_runs.record_run(store, kind="report", at=utc(2026, 11, day, 7, 1),
                                  policy_digest="d", counts={}, delivery_status="delivered")
        # a preview and a failed delivery on the 3rd do not cover its slot (issue 11)
        for status in ("not_sent", "failed"):
            store_runs.record_run(store, kind="report", at=utc(2026, 11, 3, 7, 5),
                                  policy_digest="d", counts={}, delivery_status=status)
        store_runs.record_run(store, kind="sync", at=utc(2026, 11, 4, 6), policy_digest="d",
                        counts={}, error="Jira 503 after 5 retries")
        store_runs.record_run(store, kind="sync", at=utc(2026, 11, 4, 5), policy_digest="d",
                        counts={})
        health = runs.control_health(store, config.policy, utc(2026, 11, 5, 7, 1),
                                     config.schedule)
    assert [d.isoformat() for d in health.missed_days] == ["2026-11-03"]
    assert "FAILED SYNC at 2026-11-04T06:00:00.000000Z: Jira 503 after 5 retries" in health.notes
    assert sum(n.startswith("FAILED SYNC") for n in health.notes) == 1
