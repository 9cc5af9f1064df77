"""F6 of the reliability report: hostile ticket text never reaches a person raw.

Ticket keys, titles, labels, descriptions, comments, reporters and SMTP replies carry terminal
escapes (CSI, OSC window title, BEL, a one-byte C1 CSI), NUL and bidi overrides. Every human
output — ``check``, ``list``, ``runs``, ``ticket show``, the text, Markdown and HTML reports and
both parts of the mail — must show them neutralised. The commands run on a real pseudo-terminal
(click strips some ANSI sequences from captured output, which hides the attack).

The hostile key is written with the library, as a store filled before keys were validated on
import would hold it (m3 refuses such keys now).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_pty_smoke import run_on_pty

import core_support
from vulnmark.model import Comment, LabelChange, Ticket, TicketKey
from vulnmark.store import Store

ESC_KEY = "ESC-1\x1b[31m"
OSC = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mRED"
#: What must never reach a terminal, a report or a mail.
RAW = ("\x1b", "\x07", "\x9b", "\x00", "\u202e", "\x08")


#: What vulnmark itself writes to a terminal: the progress bar hides and shows the cursor.
OWN = ("\x1b[?25l", "\x1b[?25h")
#: ... and colours kinds and classes (SGR only; the hostile texts also carry a screen clear and
#: a title change, which must never appear raw).
OWN_COLOUR = re.compile("\x1b\\[[0-9;]*m")


def _assert_neutral(text: str, what: str) -> None:
    for own in OWN:
        text = text.replace(own, "")
    text = OWN_COLOUR.sub("", text)
    found = [repr(c) for c in RAW if c in text]
    assert not found, f"{what}: raw {', '.join(found)} in output:\n{text!r}"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    now = datetime.now(UTC)
    t = Ticket(
        key=TicketKey(ESC_KEY), title=OSC, labels=("Vulnerability", "\x1b[2J"),
        description=f"see {OSC}\n\x9b31mC1 CSI\x00NUL", created=now - timedelta(days=3),
        reporter="mallory\u202eevil", comments=(Comment(f"rated HIGH {OSC}", "eve\x1b[8m",
                                                          now - timedelta(days=1)),),
        label_history=(LabelChange(now - timedelta(days=2), "eve\x1b]52;c;aGk=\x07",
                                   ("Vulnerability",), ()),))
    with Store.open(f"sqlite:///{tmp_path / 'vulnmark.db'}") as store:
        store.upsert_tickets([t], at=now)
    return tmp_path


@pytest.fixture
def rejecting_smtp() -> Iterator[tuple[int, list[bytes]]]:
    """An SMTP server that keeps every message and answers with a hostile reply."""
    with core_support.smtp_sink("550 \x1b]0;SMTP-PWNED\x07\x1b[2J rejected") as sink:
        yield sink


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VULNMARK_", "JIRA_"))}
    env.update(TERM="xterm-256color", COLUMNS="200", LINES="40",
               VULNMARK_DB=f"sqlite:///{workdir / 'vulnmark.db'}",
               VULNMARK_CONFIG=str(workdir / "vulnmark.toml"), **extra)
    return env


@pytest.mark.slow
def test_f6_every_human_output_neutralises_control_characters(
        hostile: Path, rejecting_smtp: tuple[int, list[bytes]]) -> None:
    port, received = rejecting_smtp
    env = _env(hostile, VULNMARK_SMTP_HOST="127.0.0.1", VULNMARK_SMTP_PORT=str(port))
    (hostile / "vulnmark.toml").write_text(
        'preset = "etsi-319-401"\nrecipients = ["mso@example.org"]\n[smtp]\nretries = 1\n',
        encoding="utf-8")

    def run(*args: str, codes: frozenset[int] = frozenset({0})) -> str:
        ran = run_on_pty([sys.executable, "-m", "vulnmark", *args], env=env, cwd=hostile)
        assert ran.code in codes, (args, ran.code, ran.output)
        assert "Traceback" not in ran.output, ran.output
        _assert_neutral(ran.output, " ".join(args))
        return ran.output

    assert "ESC-1" in run("check")
    assert "ESC-1" in run("list")
    shown = run("ticket", "show", ESC_KEY)
    assert "PWNED" in shown and "rated HIGH" in shown and "mallory" in shown
    assert "ESC-1" in run("report", "daily")
    for fmt in ("html", "md", "text"):
        out = hostile / f"report.{fmt}"
        run("report", "daily", "--format", fmt, "-o", str(out))
        body = out.read_text(encoding="utf-8")
        _assert_neutral(body, f"report --format {fmt}")
        assert "ESC-1" in body and "PWNED" in body
    # The mail: the server rejects it with a hostile reply, which lands in `runs` and the
    # error line; the message itself arrived and both parts are clean.
    run("report", "daily", "--send", codes=frozenset({3}))
    assert received, "the SMTP server got no message"
    message = email.message_from_bytes(received[0], policy=email.policy.default)
    parts = [p.get_content() for p in message.walk() if not p.is_multipart()]
    assert len(parts) >= 2
    for part in parts:
        _assert_neutral(part, "mail part")
        assert "ESC-1" in part
    assert "refused the report: 550" in run("runs")
    assert "\\u001b]0;SMTP-PWNED" in run("runs", "--format", "json")  # escaped, not lost
    assert "SMTP-PWNED" in run("report", "daily")  # the failed delivery, under health
    assert "ESC-1" in run("check", "--format", "json")
    assert "ESC-1" in run("check", "--format", "csv")
    assert "ESC-1" in run("backfill")


def test_f6_no_command_prints_around_the_cleaning_echo() -> None:
    """The guard for the next command: every CLI module prints through ``app.echo`` or
    ``app.echo_data`` (which neutralise), never ``click.echo``/``print`` directly."""
    cli_dir = Path(__file__).resolve().parents[2] / "src" / "vulnmark" / "cli"
    offenders = [
        f"{path.name}:{n}" for path in sorted(cli_dir.glob("*.py")) if path.name != "app.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "click.echo(" in line or "click.secho(" in line or line.lstrip().startswith("print(")
    ]
    assert not offenders, offenders
