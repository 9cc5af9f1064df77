"""The daily schedule: a cron expression in a timezone, due slots, and an in-process loop.

The ``[schedule]`` table of ``vulnmark.toml`` says when the daily run is due::

    [schedule]
    cron = "0 7 * * 1-5"          # minute hour day-of-month month day-of-week
    timezone = "Europe/Budapest"  # default: the policy timezone
    catch_up = true               # run a missed slot at start

A slot is *covered* by a report run that starts at or after it and before the next slot; a
slot that ends uncovered is a missed run (see :func:`vulnmark.control.health.control_health`;
the loop that runs the job at each slot is :mod:`vulnmark.control.schedule`). Cron
fields take ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, lists, and
``mon``..``sun`` / ``jan``..``dec``; when both day fields are restricted a day matching either
counts (as in Vixie cron). Local times that do not exist (the spring DST gap) run at the same
distance after the gap; repeated local times (autumn) run once, at the first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vulnmark.errors import ScheduleError

logger = logging.getLogger(__name__)

DEFAULT_CRON = "0 7 * * *"
_NAMES = {
    3: {n: i for i, n in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1)},
    4: {n: i for i, n in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
SEARCH_DAYS = 366 * 5


@dataclass(frozen=True)
class Cron:
    """A parsed five-field cron expression."""

    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday … 6 = Saturday (7 is folded into 0)."""
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expr: str) -> Cron:
        parts = expr.split()
        if len(parts) != 5:
            raise ScheduleError(f"cron {expr!r}: expected 5 fields (minute hour day-of-month "
                                f"month day-of-week), got {len(parts)}")
        sets = [_field(p, i, expr) for i, p in enumerate(parts)]
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(expr, sets[0], sets[1], sets[2], sets[3], weekdays,
                   parts[2] == "*", parts[4] == "*")

    def day_matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow


def _field(text: str, index: int, expr: str) -> frozenset[int]:
    lo, hi = _BOUNDS[index]
    open_hi = 6 if index == 4 else hi  # "*" and "N/step" in day-of-week stop at Saturday
    names = _NAMES.get(index, {})
    out: set[int] = set()

    def number(s: str) -> int:
        value = names.get(s.lower()) if not s.isdigit() else int(s)
        if value is None or not lo <= value <= hi:
            raise ScheduleError(f"cron {expr!r}: {_FIELD_NAMES[index]} {s!r} is not in "
                                f"{lo}-{hi}")
        return value

    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"cron {expr!r}: bad step {step_text!r}")
            step = int(step_text)
        if base == "*":
            start, end = lo, open_hi
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = number(a), number(b)
            if start > end:
                raise ScheduleError(f"cron {expr!r}: range {base!r} runs backwards")
        else:
            start = number(base)
            end = open_hi if step_text else start
        out.update(range(start, end + 1, step))
    return frozenset(out)


@dataclass(frozen=True)
class Schedule:
    """When the daily run is due: a cron expression read in a timezone."""

    cron: Cron
    timezone: str = "UTC"
    catch_up: bool = True
    retry_seconds: float = 60.0
    """The daemon's first wait before it retries a failed delivery of the slot's run."""
    retry_max_seconds: float = 3600.0
    """The longest wait between retries (the wait doubles after each failure)."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def slots(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Due instants (UTC) with ``start <= slot <= end``, in order."""
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date() + timedelta(days=1)
        seen: set[datetime] = set()
        while day <= last:
            if self.cron.day_matches(day):
                for h in sorted(self.cron.hours):
                    for m in sorted(self.cron.minutes):
                        instant = _instant(day, time(h, m), zone)
                        if instant in seen or not start <= instant <= end:
                            continue
                        seen.add(instant)
                        yield instant
            day += timedelta(days=1)

    def previous(self, at: datetime) -> datetime | None:
        """The latest slot at or before ``at`` (within five years)."""
        step = timedelta(days=2)
        end = at
        for _ in range(SEARCH_DAYS // 2):
            found = list(self.slots(end - step, end))
            if found:
                return found[-1]
            end -= step
        return None

    def next(self, after: datetime) -> datetime | None:
        """The first slot strictly after ``after`` (within five years)."""
        start = after + timedelta(microseconds=1)
        step = timedelta(days=2)
        for _ in range(SEARCH_DAYS // 2):
            found = next(self.slots(start, start + step), None)
            if found is not None:
                return found
            start += step
        return None


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time; a time in the DST gap maps to after the gap."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of repeated times
    return local.astimezone(UTC)


SCHEDULE_KEYS = ("cron", "timezone", "catch_up", "retry_seconds", "retry_max_seconds")


def parse(raw: Mapping[str, Any], default_timezone: str = "UTC") -> Schedule:
    """Validate the ``[schedule]`` table; errors name the key."""
    for key in raw:
        if key not in SCHEDULE_KEYS:
            raise ScheduleError(f"unknown key 'schedule.{key}' (expected one of "
                                f"{', '.join(SCHEDULE_KEYS)})")
    expr = raw.get("cron", DEFAULT_CRON)
    if not isinstance(expr, str):
        raise ScheduleError("schedule.cron: expected a string like \"0 7 * * *\"")
    tz = raw.get("timezone", default_timezone)
    if not isinstance(tz, str):
        raise ScheduleError("schedule.timezone: expected an IANA timezone name")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ScheduleError(f"schedule.timezone: unknown timezone {tz!r}") from e
    catch_up = raw.get("catch_up", True)
    if not isinstance(catch_up, bool):
        raise ScheduleError("schedule.catch_up: expected true or false")
    retry = _seconds(raw, "retry_seconds", 60.0)
    retry_max = _seconds(raw, "retry_max_seconds", max(3600.0, retry))
    if retry_max < retry:
        raise ScheduleError(f"schedule.retry_max_seconds: {retry_max:g} is less than "
                            f"schedule.retry_seconds ({retry:g})")
    try:
        cron = Cron.parse(expr)
    except ScheduleError as e:
        raise ScheduleError(f"schedule.cron: {e}") from e
    return Schedule(cron, tz, catch_up, retry, retry_max)


def _seconds(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
        raise ScheduleError(f"schedule.{key}: expected a number of seconds above 0 and at "
                            f"most 86400, got {value!r}")
    return float(value)
