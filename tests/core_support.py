"""Helpers of the core tests (a plain module with a unique name, so test modules in any
folder can import it; ``conftest`` names are ambiguous across folders)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result

from vulnmark.cli import cli
from vulnmark.model import Comment, Ticket, TicketKey

DATA = Path(__file__).resolve().parent / "data"
#: 30 real Apache Jira issues (REST v2) in one search page, vendored (see its SOURCE.txt).
APACHE_SAMPLE = DATA / "jira_apache_sample" / "search_page.json"
APACHE_SAMPLE_SIZE = 30
NOW = "2026-11-27T07:00:00Z"
CLOCK_OVERRIDE = "VULNMARK_ALLOW_CLOCK_OVERRIDE"
NOW_DT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)

# -- tickets -----------------------------------------------------------------------------------

def make_ticket(key: str = "VULN-1", *, title: str = "Some ticket", labels: tuple[str, ...] = (),
                created: datetime | None = None, description: str = "",
                comments: tuple[str, ...] = (), **kw: Any) -> Ticket:
    """A ticket with sensible defaults (created two days before NOW)."""
    return Ticket(
        key=TicketKey(key), title=title, labels=labels, description=description,
        created=created or datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
        comments=tuple(Comment(c, "alice") for c in comments), reporter=kw.pop("reporter", "ann"),
        **kw,
    )


@dataclass
class Cli:
    """Runs ``vulnmark`` in-process against one SQLite file (or another --db URL)."""

    db_url: str
    workdir: Path
    now: str = NOW

    override: bool = True
    """Set VULNMARK_ALLOW_CLOCK_OVERRIDE=1, so that --now also dates changes (as tests do)."""

    def __call__(self, *args: str, now: str | None = None, config: Path | None = None,
                 env: dict[str, str] | None = None, input: str | None = None) -> Result:
        when = self.now if now is None else now  # "" runs on the wall clock (no --now)
        argv = ["--db", self.db_url, *(["--now", when] if when else [])]
        if config is not None:
            argv += ["--config", str(config)]
        if self.override:
            env = {CLOCK_OVERRIDE: "1", **(env or {})}
        return CliRunner().invoke(cli, [*argv, *args], env=env, input=input,
                                  catch_exceptions=False)

    def ok(self, *args: str, **kw: Any) -> Result:
        result = self(*args, **kw)
        assert result.exit_code == 0, (result.output, result.stderr)
        return result


@contextmanager
def smtp_sink(reply: str = "250 OK") -> Iterator[tuple[int, list[bytes]]]:
    """A real SMTP server on 127.0.0.1 that keeps every message's bytes and answers DATA with
    ``reply``; yields its port and the list of received messages."""
    received: list[bytes] = []

    class Sink:
        async def handle_DATA(self, server: object, session: object,  # noqa: N802
                              envelope: object) -> str:
            received.append(getattr(envelope, "content", b""))
            return reply

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
