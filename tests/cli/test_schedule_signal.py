"""The daemon's stop handler must not deadlock when the signal lands while the main thread is
inside ``Event.wait`` holding the event's lock (seen as a daemon that ignored SIGTERM on a busy
machine: test_schedule_catches_up_then_stops_cleanly_on_sigterm timed out after 60 s)."""

from __future__ import annotations

import signal
import threading

from vulnmark.cli.schedule import stop_on_signal


def test_the_handler_returns_while_the_event_lock_is_held_and_the_event_is_then_set() -> None:
    stop = threading.Event()
    handler = stop_on_signal(stop)
    cond = stop._cond  # the lock Event.wait holds between its checks
    done = threading.Event()

    def main_thread_inside_wait() -> None:
        with cond:  # where a signal may interrupt the main thread
            handler(signal.SIGTERM, None)  # calling stop.set() here would never return
            done.set()

    worker = threading.Thread(target=main_thread_inside_wait, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert done.is_set(), "the signal handler blocked on the event's own lock"
    assert stop.wait(timeout=10), "the stop event was never set"
