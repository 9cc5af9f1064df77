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


def test_newcomer_m5_stopping_schedule_while_a_send_is_failing_exits_0(
        tmp_path: object) -> None:
    """newcomer m5: SIGTERM while the mail server refuses made the daemon wait out the retries
    and exit 3, so `systemctl stop` left the unit failed."""
    import json
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from vulnmark.store import Store

    with socket.socket() as s:  # a port nothing listens on: every attempt is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Path("s.toml").write_text("[smtp]\nretries = 5\nbackoff = 30\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VULNMARK_", "JIRA_"))}
    env.update(VULNMARK_SMTP_HOST="127.0.0.1", VULNMARK_SMTP_PORT=str(port))
    Store.open("sqlite:///sched.db").close()
    base = [sys.executable, "-m", "vulnmark", "--db", "sqlite:///sched.db", "--config", "s.toml"]
    proc = subprocess.Popen([*base, "schedule", "--to", "mso@ca.example"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the first attempt failed; the next one is 30 s away
            if "attempt 1/5 failed" in line:
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "not delivered" in err and "kept as undelivered" in err
    runs = json.loads(subprocess.run([*base, "runs", "--format", "json"], env=env,
                                     capture_output=True, text=True, timeout=60).stdout)
    assert [(r["kind"], r["delivery"]) for r in runs][:1] == [("report", "failed")]
