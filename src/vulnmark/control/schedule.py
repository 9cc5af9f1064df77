"""The in-process loop of ``vulnmark schedule``: the daily job at every slot of the configured
schedule (:mod:`vulnmark.config.schedule`), catching up the current slot at start.

A run that fails (a delivery the mail server refused) leaves its slot uncovered: the loop runs
the job for the same slot again after ``schedule.retry_seconds``, doubling the wait after each
failure up to ``schedule.retry_max_seconds``, until the slot is covered (the job resends the
same stored run) or the slot ends — then the slot stays missed, and the next report lists it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vulnmark.config.schedule import Schedule

logger = logging.getLogger(__name__)


Job = Callable[[datetime], None]
Covered = Callable[[datetime, datetime | None], bool]
"""(slot, next slot) -> whether a report run covers the slot."""


@dataclass
class Loop:
    """Runs ``job`` at every slot; at start, catches up the current slot if it is uncovered.

    ``clock`` and ``stop`` are injectable so tests need no real waiting: ``stop.wait`` is the
    only sleep, and setting ``stop`` (SIGTERM, Ctrl-C) ends the loop after the running job.
    """

    schedule: Schedule
    job: Job
    covered: Covered
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    stop: threading.Event | None = None
    max_runs: int | None = None
    runs: int = 0
    last_error: Exception | None = None

    def __post_init__(self) -> None:
        if self.stop is None:
            self.stop = threading.Event()

    def due_now(self) -> datetime | None:
        """The current slot when no run covers it yet (a missed or not yet done run)."""
        now = self.clock()
        slot = self.schedule.previous(now)
        if slot is None:
            return None
        return None if self.covered(slot, self.schedule.next(slot)) else slot

    def _run(self, slot: datetime) -> None:
        logger.info("daily run for the slot %s", slot.isoformat())
        self.last_error = None
        try:
            self.job(self.clock())
        except Exception as e:  # the loop must survive one bad day; the run records it
            self.last_error = e
            logger.error("daily run for the slot %s failed: %s", slot.isoformat(), e)
        self.runs += 1

    def _done(self) -> bool:
        assert self.stop is not None
        return self.stop.is_set() or (self.max_runs is not None and self.runs >= self.max_runs)

    def once(self) -> bool:
        """Run the current slot if it is uncovered; True when a run happened."""
        slot = self.due_now()
        if slot is None:
            return False
        self._run(slot)
        return True

    def serve(self) -> int:
        """Catch up, then run at each slot until stopped; returns the number of runs."""
        assert self.stop is not None
        if self.schedule.catch_up:
            slot = self.due_now()
            if slot is not None:
                self._run(slot)
                self._retry(slot)
        while not self._done():
            now = self.clock()
            slot = self.schedule.next(now)
            if slot is None:
                logger.error("cron %r never fires again", self.schedule.cron.expr)
                break
            wait = (slot - now).total_seconds()
            logger.info("next daily run at %s (in %.0f s)", slot.isoformat(), wait)
            if self.stop.wait(max(0.0, wait)):
                break
            if self.clock() >= slot:
                self._run(slot)
                self._retry(slot)
        return self.runs

    def _retry(self, slot: datetime) -> None:
        """After a failed run: run ``slot`` again with backoff until it is covered, the slot
        ends (the next slot is due), or the loop is stopped."""
        assert self.stop is not None
        wait = self.schedule.retry_seconds
        following = self.schedule.next(slot)
        while self.last_error is not None and not self._done():
            if self.covered(slot, following):
                return
            now = self.clock()
            if following is not None and now + timedelta(seconds=wait) >= following:
                logger.error("the slot %s ends at %s before the next retry: its report was not "
                             "delivered (it is listed as missed)", slot.isoformat(),
                             following.isoformat())
                return
            logger.warning("retrying the slot %s in %.0f s (its run failed: %s)",
                           slot.isoformat(), wait, self.last_error)
            if self.stop.wait(wait):
                return
            self._run(slot)
            wait = min(wait * 2, self.schedule.retry_max_seconds)
