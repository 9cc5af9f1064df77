"""``vulnmark schedule``: the daily job in-process, on the policy's cron schedule."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

import click

from vulnmark._time import stored
from vulnmark.cli.app import EXIT_EXTERNAL, App, echo, fatal, pass_app
from vulnmark.cli.intake import intake_line, scheduled_intake
from vulnmark.cli.watch import make_ticker, run_loop
from vulnmark.config.schedule import parse as parse_schedule
from vulnmark.control import daily, slot_run, stamping
from vulnmark.control import schedule as _schedule
from vulnmark.control.watch import parse_interval
from vulnmark.deliver import SmtpNotifier, smtp_settings_from_env
from vulnmark.errors import DeliveryFailed, NotifyError, VulnmarkError
from vulnmark.report.interface import one_line


def register(cli: click.Group) -> None:
    cli.add_command(schedule)


@click.command("schedule")
@click.option("--once", is_flag=True,
              help="Run the current slot if no report run covers it yet, then exit (for a "
                   "cron line or a systemd timer).")
@click.option("--max-runs", type=click.IntRange(min=1), default=None,
              help="Stop after this many runs (catch-up included).")
@click.option("--send/--no-send", default=True, show_default=True,
              help="Email each report to the recipients.")
@click.option("--to", "to", multiple=True, metavar="ADDR", help="Recipient (repeatable).")
@click.option("--watch", "watch_every", default=None, metavar="TIME",
              help="Also run `vulnmark watch` ticks every TIME (30s, 5m) in this process.")
@click.option("--next", "show_next", type=click.IntRange(min=1), default=None, metavar="N",
              help="Print the next N due slots and exit.")
@pass_app
def schedule(app: App, once: bool, max_runs: int | None, send: bool, to: tuple[str, ...],
             watch_every: str | None, show_next: int | None) -> None:
    """Run the daily report on the [schedule] cron expression, in this process.

    With [intake], the live NVD intake runs first (recorded; when it fails the report still
    runs and its control health says so). At start a slot that no delivered report covers
    (the machine was down at 07:00, or the mail server was) is caught up at once; then the
    job runs at every slot. Each slot is claimed first, so any number of schedulers on one
    store send exactly one report per slot.
    A failed delivery is kept and resent, as the same run, by the next tick (with backoff in
    the daemon). SIGTERM or Ctrl-C stops it cleanly after the running job.

    \b
    Example:
      vulnmark schedule                      # run forever (systemd service, container)
      vulnmark schedule --once               # from cron or a systemd timer, hourly
      vulnmark schedule --next 5             # when the next runs are due
      vulnmark schedule --watch 5m           # and minute-level alerts (vulnmark watch)
    """
    sched = app.config.schedule or parse_schedule({}, app.policy.timezone)
    if show_next:
        at = app.now
        for _ in range(show_next):
            slot = sched.next(at)
            if slot is None:
                break
            echo(f"{stored(slot)}  {slot.astimezone(sched.zone).isoformat()}")
            at = slot
        return
    app.write_now  # noqa: B018  (reports are recorded and sent: --now only under the override)
    stop = threading.Event()
    notifier = None
    if send:
        settings = smtp_settings_from_env(app.config.smtp, os.environ)
        # a stop request cuts the wait between delivery attempts short
        def pause(seconds: float) -> None:
            stop.wait(seconds)

        notifier = SmtpNotifier(settings, os.environ.get("VULNMARK_SMTP_PASSWORD"),
                                sleep=pause)
    app.creates_store = app.config.intake is not None  # the intake fills a new store
    store = app.store
    daily_job = daily.DailyJob(store, app.config, notifier=notifier, recipients=to)
    intake = scheduled_intake(app)

    def job(now: datetime) -> None:
        if intake is not None:  # the report then lists what the feeds brought today
            try:
                echo(f"{stored(now)}: {intake_line(intake(now))}")
            except VulnmarkError as e:  # recorded; the report runs and shows it
                echo(f"{stored(now)}: intake failed: {e}; the report runs without it "
                     "(its control health shows the failure)", err=True)
        slot = sched.previous(now) or now
        daily_job.last_stamp = None
        try:
            done = slot_run.run_slot(store, daily_job, slot, now)
        finally:  # the time-stamp of the run's head, or why there is none: never silent
            if daily_job.last_stamp is not None:
                echo(one_line(stamping.describe(daily_job.last_stamp), 400), err=True)
        if done.run_id is None:
            echo(f"{stored(now)}: slot {stored(slot)} is covered or held by another "
                 "scheduler")
            return
        echo(f"{stored(now)}: report run {done.run_id}"
             + (" resent" if done.resent else "")
             + (f" sent {done.delivery.message_id}" if done.delivery else ""))

    loop = _schedule.Loop(sched, job, lambda s, n: slot_run.covered(store, s, n),
                          stop=stop, max_runs=max_runs)
    if app.now_text:  # a fixed --now: the clock does not move (use with --once or --max-runs)
        loop.clock = lambda: app.now
    if once:
        if not loop.once():
            echo(f"{stored(app.now)}: nothing due (the current slot is covered)")
        _exit_on(loop.last_error)
        return

    if watch_every is not None:
        try:
            seconds = parse_interval(watch_every).total_seconds()
        except ValueError as e:
            fatal(str(e).replace("--interval", "--watch"))
        ticker = make_ticker(app, send=send, to=to)
        threading.Thread(target=_watching, args=(ticker, seconds, stop), name="vulnmark-watch",
                         daemon=True).start()
    on_signal = stop_on_signal(stop)
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        done = loop.serve()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    echo(f"stopped after {done} run{'s' if done != 1 else ''}", err=True)
    if stop.is_set() and isinstance(loop.last_error, DeliveryFailed):
        # a requested stop is a clean stop (systemctl stop must not leave the unit failed):
        # the run is recorded as undelivered and the next report shows it
        echo(f"the last report was not delivered ({loop.last_error}); it is kept as "
             "undelivered and shown in the next report", err=True)
        return
    _exit_on(loop.last_error)


def _watching(ticker: Callable[[], None], seconds: float, stop: threading.Event) -> None:
    """The watch ticks beside the schedule; a failed tick is reported and the next one runs."""
    def guarded() -> None:
        try:
            ticker()
        except VulnmarkError as e:
            echo(f"watch tick failed: {e}", err=True)
    run_loop(guarded, seconds, stop)


def _exit_on(error: Exception | None) -> None:
    if isinstance(error, DeliveryFailed):
        fatal(f"report not delivered: {error} — kept as undelivered", EXIT_EXTERNAL)
    if isinstance(error, NotifyError):
        fatal(str(error))
    if error is not None:
        raise error


def stop_on_signal(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    """A SIGTERM/SIGINT handler that sets ``stop`` without deadlocking.

    The handler runs in the main thread, which may be inside ``Event.wait`` holding the event's
    non-reentrant lock; ``stop.set()`` called from there would wait for that lock forever (the
    daemon then ignored SIGTERM under load). A short-lived thread sets the event once the main
    thread has released the lock.
    """

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        echo(f"signal {signum}: stopping after the running job", err=True)
        threading.Thread(target=stop.set, name="vulnmark-stop", daemon=True).start()

    return on_signal
