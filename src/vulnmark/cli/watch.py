"""``vulnmark watch``: minute-level alerts on new vulnerabilities (see
:mod:`vulnmark.control.watch`)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

import click

from vulnmark._text import for_terminal
from vulnmark._time import stored
from vulnmark.cli.app import (
    EXIT_USAGE,
    App,
    colour_on,
    echo,
    echo_painted,
    fatal,
    pass_app,
)
from vulnmark.cli.intake import scheduled_intake
from vulnmark.control import watch as _watch
from vulnmark.deliver import SmtpNotifier, smtp_settings_from_env
from vulnmark.errors import VulnmarkError
from vulnmark.sources.jira.settings import JiraSettings
from vulnmark.sources.jira.sync import sync_and_record


def register(cli: click.Group) -> None:
    cli.add_command(watch)


@click.command("watch")
@click.option("--interval", default="5m", show_default=True, metavar="TIME",
              help="Time between ticks: 30s, 5m, 1h.")
@click.option("--once", is_flag=True, help="One tick, then exit (for cron or a timer).")
@click.option("--max-ticks", type=click.IntRange(min=1), default=None,
              help="Stop after this many ticks.")
@click.option("--send/--no-send", default=True, show_default=True,
              help="Email the alerts (--no-send: print them only).")
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Recipient, overriding [alert] recipients and recipients (repeatable).")
@pass_app
def watch(app: App, interval: str, once: bool, max_ticks: int | None, send: bool,
          to: tuple[str, ...]) -> None:
    """Alert within minutes on tickets that newly need attention.

    Every interval: an incremental Jira sync (with [source.jira]) and the live NVD intake (with
    [intake]: new intake tickets alert like any other), then one email for every
    ticket that newly became a vulnerability without a classification, got a class whose
    deadline is [alert] max_deadline_hours or shorter (CRITICAL under ETSI), or became due
    soon. Each ticket alerts once per reason; alerts are evidence records. The first tick on
    a store takes what is there as known. SIGTERM or Ctrl-C stops it after the running tick.

    \b
    Example:
      vulnmark watch --interval 5m --to soc@example.org
      vulnmark watch --once --no-send
    """
    try:
        every = _watch.parse_interval(interval)
    except ValueError as e:
        fatal(str(e), EXIT_USAGE)
    tick = make_ticker(app, send=send, to=to)
    stop = threading.Event()

    def ticker() -> None:  # a long-running watch outlives a failed tick (Jira down)
        if once or max_ticks == 1:
            tick()
            return
        try:
            tick()
        except VulnmarkError as e:
            echo(f"tick failed: {e}; the next tick tries again", err=True)

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=stop.set, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        run_loop(ticker, every.total_seconds(), stop, once=once, max_ticks=max_ticks)
    except KeyboardInterrupt:
        echo("interrupted", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


def make_ticker(app: App, *, send: bool, to: tuple[str, ...]) -> Callable[[], None]:
    """One tick of ``watch`` for ``app`` (checked now: recipients, SMTP, Jira settings)."""
    config = app.config
    recipients = to or config.alert.recipients or config.recipients
    notifier = None
    if send:
        if not recipients:
            fatal("no recipients: set [alert] recipients or recipients, or pass --to",
                  EXIT_USAGE)
        notifier = SmtpNotifier(smtp_settings_from_env(config.smtp, os.environ),
                                os.environ.get("VULNMARK_SMTP_PASSWORD"))
    sync = None
    # a Jira site or the NVD intake fills a new store, as sync and intake run do
    app.creates_store = config.jira is not None or config.intake is not None
    store = app.store
    if config.jira is not None:
        settings = JiraSettings.from_config(config.jira, os.environ)

        def sync() -> object:
            return sync_and_record(store, settings, full=False, at=datetime.now(UTC),
                                   policy_digest=config.policy.digest())

    step = scheduled_intake(app)

    def ticker() -> None:
        now = (app.write_now if send else app.now) if app.now_text else datetime.now(UTC)
        intake = None if step is None else (lambda: step(now))
        _report(_watch.tick(store, config, notifier, recipients, now, sync=sync,
                            intake=intake), send)

    return ticker


def run_loop(ticker: Callable[[], None], seconds: float, stop: threading.Event, *,
             once: bool = False, max_ticks: int | None = None) -> None:
    """Tick every ``seconds`` until ``stop`` (or ``once``, or ``max_ticks``)."""
    ticks = 0
    while not stop.is_set():
        started = time.monotonic()
        ticker()
        ticks += 1
        if once or (max_ticks is not None and ticks >= max_ticks):
            break
        stop.wait(max(0.0, seconds - (time.monotonic() - started)))


def _report(done: _watch.Tick, send: bool) -> None:
    at = stored(done.at)
    if done.intake_error:
        echo(f"{at}: intake failed: {done.intake_error}; recorded, tried again next tick",
             err=True)
    if done.first:
        echo(f"{at}: first tick: {done.baseline} alert(s) taken as known (the daily "
             "report lists them); alerting on what comes next")
    elif not done.alerts:
        echo(f"{at}: nothing new")
    for a in done.alerts:
        alert = click.style("ALERT", fg="red", bold=True) if colour_on() else "ALERT"
        echo_painted(f"{at}: {alert} " + for_terminal(
            f"{a.ticket} {_watch.REASONS[a.reason]} (class {a.classification or '-'})"))
    if done.delivery:
        echo(f"{at}: sent {done.delivery.message_id}")
    elif done.error:
        echo(f"{at}: alert NOT delivered ({done.error}); retried next tick", err=True)
    elif done.alerts and not send:
        echo(f"{at}: not sent (--no-send)")
