"""Metrics of the control: time to classify, time to outcome, share within deadline, per class
and month of discovery (the aggregate itself: :mod:`vulnmark.store.metrics`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from vulnmark.check.engine import refresh
from vulnmark.config.policy import Policy
from vulnmark.errors import ConfigError
from vulnmark.store import Store
from vulnmark.store.metrics import Metrics
from vulnmark.store.metrics import compute as aggregate

DEFAULT_DAYS = 90


def period(policy: Policy, since: date | None, until: date | None,
           now: datetime) -> tuple[datetime, datetime]:
    """Inclusive days in the policy timezone -> the ``[start, end)`` instants (default: the
    90 days up to today)."""
    zone = ZoneInfo(policy.timezone)
    end_day = until or now.astimezone(zone).date()
    start_day = since or end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise ConfigError(f"--from {start_day} is after --to {end_day}")
    return _midnight(start_day, zone), _midnight(end_day + timedelta(days=1), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def compute(store: Store, policy: Policy, since: datetime, until: datetime,
            now: datetime) -> Metrics:
    """The metrics of the vulnerabilities discovered in ``[since, until)``, as evaluated at
    ``now`` (the evaluations are brought up to date first)."""
    refresh(store, policy, now=now)
    return aggregate(store, since, until, now)
