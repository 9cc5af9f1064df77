"""A one-line progress display for ``vulnmark sync``: issues so far and the rate, on a terminal
only (under cron, with no TTY, nothing is written).

    progress = tty_progress(sys.stderr)          # None when stderr is not a terminal
    result = run_sync(store, settings, progress=progress)
    if progress:
        progress.close()
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

logger = logging.getLogger(__name__)


class ProgressLine:
    """Callable with the number of issues just stored; redraws at most every ``interval`` s."""

    def __init__(self, stream: TextIO, *, label: str = "Syncing Jira",
                 interval: float = 0.2) -> None:
        self.stream = stream
        self.label = label
        self.interval = interval
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._drawn >= self.interval:
            self._drawn = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now if now is not None else time.monotonic()) - self.started, 1e-9)
        return f"{self.label}: {self.done:,} issues, {self.done / elapsed:,.0f}/s, {elapsed:.0f} s"

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


def tty_progress(stream: TextIO, *, label: str = "Syncing Jira") -> ProgressLine | None:
    """A :class:`ProgressLine` on ``stream`` if it is a terminal, else None (quiet)."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return ProgressLine(stream, label=label)
