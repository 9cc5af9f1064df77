"""Shared CLI plumbing: the application context, error-to-exit-code mapping, table output."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from vulnmark._text import clean, for_terminal, json_safe
from vulnmark.errors import ExternalError, VulnmarkError

if TYPE_CHECKING:  # imported when used: `vulnmark --version` and --help start fast
    from vulnmark.config.load import Config
    from vulnmark.config.policy import Policy
    from vulnmark.store import Store

logger = logging.getLogger("vulnmark")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_EXTERNAL = 0, 1, 2, 3
#: The evaluation instants --now accepts: deadlines and windows around it must stay inside
#: datetime's range (year 9999 would overflow them).
CLOCK_OVERRIDE_ENV = "VULNMARK_ALLOW_CLOCK_OVERRIDE"
"""Set to 1 (demos and tests only) to let --now / VULNMARK_NOW date the changes of write
commands too; every evidence record still carries the real wall clock."""
NOW_RANGE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


@dataclass
class App:
    """What every command needs: the policy, the store and the evaluation instant."""

    config_path: Path
    config_explicit: bool
    db_url: str
    now_text: str | None
    creates_store: bool = False
    """Set by the commands that may create a new store (init, import, ticket new, sync);
    every other command refuses a --db that points at nothing."""
    _store: Store | None = field(default=None, repr=False)

    @cached_property
    def config(self) -> Config:
        """vulnmark.toml, parsed and checked (every table: a typo stops every command)."""
        from vulnmark.config.load import load as load_config
        return load_config(self.config_path, required=self.config_explicit)

    @property
    def policy(self) -> Policy:
        return self.config.policy

    @cached_property
    def now(self) -> datetime:
        if not self.now_text:
            return datetime.now(UTC)
        return parse_instant(self.now_text, "--now / VULNMARK_NOW")

    @property
    def write_now(self) -> datetime:
        """The time of a change a command writes: the wall clock. ``--now``/``VULNMARK_NOW``
        is refused here unless ``VULNMARK_ALLOW_CLOCK_OVERRIDE=1`` (demos and tests): a change
        that took effect earlier is entered with ``--effective TIME --why TEXT`` instead, and
        shown as backdated."""
        if self.now_text and os.environ.get(CLOCK_OVERRIDE_ENV) != "1":
            ctx = click.get_current_context(silent=True)
            command = ctx.command_path if ctx else "this command"
            # Only point at --effective where the command has it (outcome, incident actions):
            # `import --effective` or `ticket new --effective` would be a second usage error.
            takes_effective = ctx is not None and any(
                p.name == "effective" for p in ctx.command.params)
            how = ("Enter a change that took effect earlier with --effective TIME --why TEXT "
                   "(shown as backdated)" if takes_effective else
                   "Run it without --now and with VULNMARK_NOW unset")
            fatal(f"{command} writes to the store, and --now / VULNMARK_NOW only sets the "
                  "evaluation instant of read commands (check, list, report previews): a "
                  f"change is recorded at the wall clock. {how}; demos and "
                  f"tests set {CLOCK_OVERRIDE_ENV}=1.", EXIT_USAGE)
        return self.now

    @property
    def store(self) -> Store:
        if self._store is None:
            # An invalid configuration stops every command that touches the store (exit 2),
            # not only those that evaluate: nothing is written under a policy nobody checked.
            self.config  # noqa: B018
            from vulnmark.store import Store
            self._store = Store.open(self.db_url, create=self.creates_store, in_memory=False)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


pass_app = click.make_pass_decorator(App)


def echo(message: object = None, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` for everything a person reads (F6): ticket keys, titles, comments, SMTP
    replies and Jira error bodies are untrusted, so control characters (terminal escapes, a
    bare CR, bidi overrides) are shown as U+FFFD (:func:`vulnmark._text.for_terminal`).
    Every command prints through this or :func:`echo_data`, never ``click.echo`` itself."""
    click.echo(None if message is None else for_terminal(str(message)), err=err, nl=nl)


def echo_painted(text: str, *, nl: bool = True) -> None:
    """Text whose untrusted parts were already cleaned (the cells of :func:`table`, parts passed
    through :func:`vulnmark._text.for_terminal`), with vulnmark's own colour codes, which
    :func:`echo` would neutralise along with a ticket's escapes."""
    click.echo(text, nl=nl)


def echo_data(text: str, *, nl: bool = True) -> None:
    """A machine format (JSON, CSV, a report body) on stdout, byte for byte what it means: JSON
    escapes C0 controls itself and :func:`vulnmark._text.json_safe` escapes C1 and bidi ones;
    CSV cells and human report bodies are cleaned when they are made."""
    click.echo(json_safe(text), nl=nl)


class TerminalFormatter(logging.Formatter):
    """Log lines (they quote ticket keys and server replies) cleaned like :func:`echo`."""

    def format(self, record: logging.LogRecord) -> str:
        return for_terminal(super().format(record))


def parse_instant(text: str, hint: str) -> datetime:
    """An ISO-8601 time given on the command line (naive: UTC), within :data:`NOW_RANGE`."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO-8601 time (e.g. 2026-11-27T07:00:00Z)",
            param_hint=hint) from None
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        value = datetime.max.replace(tzinfo=UTC)
    if not NOW_RANGE[0] <= value <= NOW_RANGE[1]:
        raise click.BadParameter(
            f"{text!r} is not between {NOW_RANGE[0]:%Y-%m-%d} and {NOW_RANGE[1]:%Y-%m-%d}",
            param_hint=hint)
    return value


def fatal(message: str, code: int = EXIT_USAGE) -> NoReturn:
    echo(f"vulnmark: error: {message}", err=True)
    sys.exit(code)


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """Only the CLI exits: library errors become a message and an exit code here (an external
    system that failed exits 3, every other error 2; see :mod:`vulnmark.errors`)."""
    try:
        yield
    except ExternalError as e:
        fatal(str(e), EXIT_EXTERNAL)
    except VulnmarkError as e:
        fatal(str(e), EXIT_USAGE)


@contextmanager
def unexpected_errors() -> Iterator[None]:
    """The last guard (m4): an error vulnmark did not foresee still ends with one line and
    exit 2, never a traceback (``-vv`` or VULNMARK_LOGLEVEL=DEBUG logs it for a bug report).
    An OSError is the file system or the network failing: exit 3."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except OSError as e:
        logger.debug("unexpected error", exc_info=True)
        where = f"{e.filename}: " if e.filename else ""
        fatal(f"{where}{e.strerror or e}", EXIT_EXTERNAL)
    except Exception as e:
        logger.debug("unexpected error", exc_info=True)
        fatal(f"unexpected {type(e).__name__}: {e} (a bug: please report it with the output "
              "of the same command with -vv)", EXIT_USAGE)


# -- output helpers ------------------------------------------------------------------------

def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 60,
          colour: bool = False) -> str:
    """A plain aligned table for people; with ``colour``, kinds and classes in colour."""
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    shown = paint if colour else (lambda _v, padded: padded)
    lines += ["  ".join(shown(c, c.ljust(w)) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines) + "\n"


def _cell(value: Any, max_width: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    text = clean(" ".join(str(value).split()))
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


Update = Callable[[int], None]


class ProgressBar:
    """A progress bar with a length on a terminal (``start(total)`` comes first, from the
    check once it knows how many tickets it evaluates), nothing under cron (no TTY); only
    drawn when the work is large enough to take a while."""

    def __init__(self, label: str, *, minimum: int = 2000) -> None:
        self.label = label
        self.minimum = minimum
        self._bar: Any = None

    def start(self, total: int) -> None:
        if sys.stderr.isatty() and total >= self.minimum:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                          show_pos=True, show_eta=True)
            self._bar.__enter__()

    def __call__(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def progress_callback(total: int, label: str) -> tuple[Update, Callable[[], None]]:
    """A progress bar of ``total`` steps on a terminal; nothing at all under cron (no TTY)."""
    bar = ProgressBar(label, minimum=0)
    bar.start(total)
    return bar, bar.close


# -- colour ------------------------------------------------------------------------------------

#: Colours of finding kinds and classes in tables (click.style keyword arguments).
STYLES: dict[str, dict[str, Any]] = {
    "overdue": {"fg": "red", "bold": True}, "late": {"fg": "red"},
    "due_soon": {"fg": "yellow", "bold": True}, "no_outcome": {"fg": "yellow"},
    "assessment_overdue": {"fg": "red", "bold": True},
    "assessment_due_soon": {"fg": "yellow", "bold": True},
    "unclassified": {"fg": "magenta", "bold": True}, "conflicting": {"fg": "magenta"},
    "unmarked": {"fg": "magenta"}, "suspected": {"fg": "cyan"},
    "CRITICAL": {"fg": "red", "bold": True}, "HIGH": {"fg": "red"},
    "MEDIUM": {"fg": "yellow"}, "LOW": {"fg": "green"},
}


def colour_on(stream: Any = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or
    --no-color (which sets NO_COLOR for the run)."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def paint(value: str, padded: str) -> str:
    """``padded`` (the cell ``value`` aligned) in the colour of ``value``, if it has one."""
    style = STYLES.get(value)
    return click.style(padded, **style) if style else padded
