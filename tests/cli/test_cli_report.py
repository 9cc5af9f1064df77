"""``vulnmark report daily --send`` end to end: the CLI, a real SMTP server (aiosmtpd on
127.0.0.1), the stored runs and the next report's control health. And reproducibility."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from core_support import NOW, NOW_DT, Cli
from vulnmark.cli import cli
from vulnmark.deliver import Attachment, Delivery, Notifier
from vulnmark.report.model import EMPTY_MESSAGE

SCRIPT = "<script>alert(1)</script>"


@dataclass
class Handler:
    """Keeps accepted messages; answers ``refuse`` to DATA, or 451 to the first ``busy``."""

    refuse: str | None = None
    busy: int = 0
    messages: list[bytes] = field(default_factory=list)
    data_calls: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data_calls += 1
        if self.refuse:
            return self.refuse
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 try again later"
        self.messages.append(envelope.content)
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def parsed(self, i: int = -1) -> EmailMessage:
        msg = message_from_bytes(self.messages[i], policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Smtp:
    port: int
    handler: Handler

    @property
    def env(self) -> dict[str, str]:
        return {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(self.port)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Callable[..., Smtp]]:
    started: list[Controller] = []

    def start(**kw: Any) -> Smtp:
        handler = Handler(**kw)
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return Smtp(port, handler)

    yield start
    for c in started:
        c.stop()


def parts(msg: EmailMessage) -> dict[str, str]:
    """The text and HTML bodies (not the attachments), by content type."""
    out: dict[str, str] = {}
    for part in msg.walk():
        assert isinstance(part, EmailMessage)
        if not part.is_multipart() and not part.is_attachment():
            out[part.get_content_type()] = str(part.get_content())
    return out


def attached(msg: EmailMessage) -> dict[str, bytes]:
    """The attachments by file name."""
    out: dict[str, bytes] = {}
    for part in msg.iter_attachments():
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        out[str(part.get_filename())] = content
    return out


def runs(vm: Cli) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(vm.ok("runs", "--format", "json").stdout)
    return data


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_runs_refuses_a_limit_below_one(vm: Cli, limit: str) -> None:
    """SQLite reads LIMIT -1 as no limit: the option names its range instead."""
    result = vm("runs", "--limit", limit)
    assert result.exit_code == 2
    assert "--limit" in result.stderr and "x>=1" in result.stderr


@pytest.fixture
def hostile(vm: Cli) -> Cli:
    vm.ok("ticket", "new", "--title", SCRIPT, "--label", "Vulnerability", "--by", "ann")
    return vm


def test_send_delivers_a_multipart_report(hostile: Cli, smtp: Callable[..., Smtp]) -> None:
    server = smtp()
    env = {**server.env, "VULNMARK_REPORT_FROM": "vulnmark@ca.example"}
    result = hostile("report", "daily", "--send", "--to", "mso@ca.example", env=env)
    assert result.exit_code == 0, result.stderr
    assert len(server.handler.messages) == 1
    msg = server.handler.parsed()
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["From"] == "vulnmark@ca.example"
    assert msg["To"] == "mso@ca.example"
    assert "2026-11-27" in msg["Subject"] and "1 need classification" in msg["Subject"]
    message_id = msg["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith("@ca.example>")
    body = parts(msg)
    assert set(body) == {"text/plain", "text/html"}
    assert SCRIPT not in body["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body["text/html"]
    assert "<html" in body["text/html"].lower()
    assert "Needs classification (1)" in body["text/plain"] and SCRIPT in body["text/plain"]
    assert message_id in result.stderr
    files = attached(msg)
    assert set(files) == {"vulnmark-report-2026-11-27.html", "vulnmark-report-2026-11-27.csv"}
    full = files["vulnmark-report-2026-11-27.html"].decode()
    assert "1. Needs classification (1)" in full and "Title and evidence" in full  # the full one
    assert "&lt;script&gt;" in full and SCRIPT not in full
    assert SCRIPT in files["vulnmark-report-2026-11-27.csv"].decode()

    (run, *_) = runs(hostile)
    assert run["kind"] == "report" and run["delivery"] == "delivered"
    assert run["message_id"] == message_id
    assert run["server_reply"] == "250 2.0.0 Ok: queued as Q1"
    assert len(run["report_digest"]) == 64


def test_recipients_from_the_config(hostile: Cli, smtp: Callable[..., Smtp],
                                    tmp_path: Path) -> None:
    server = smtp()
    cfg = tmp_path / "r.toml"
    cfg.write_text('recipients = ["a@ca.example", "b@ca.example"]\n', encoding="utf-8")
    hostile.ok("report", "daily", "--send", config=cfg, env=server.env)
    assert server.handler.parsed()["To"] == "a@ca.example, b@ca.example"


def test_no_recipients_exits_with_a_clear_message(hostile: Cli, smtp: Callable[..., Smtp]
                                                  ) -> None:
    server = smtp()
    result = hostile("report", "daily", "--send", env=server.env)
    assert result.exit_code == 2 and "recipients" in result.stderr
    assert server.handler.messages == []
    assert runs(hostile)[0]["delivery"] == "failed"


def test_refusing_server_exits_3_and_the_next_report_says_so(
        hostile: Cli, smtp: Callable[..., Smtp]) -> None:
    refusing = smtp(refuse="554 5.7.1 Message rejected as spam")
    result = hostile("report", "daily", "--send", "--to", "mso@ca.example", env=refusing.env)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert "554" in result.stderr
    assert refusing.handler.data_calls == 1  # permanent: no pointless retries
    (failed, *_) = runs(hostile)
    assert failed["delivery"] == "failed" and "554" in failed["error"]
    assert failed["message_id"] is None

    accepting = smtp()
    hostile.ok("report", "daily", "--send", "--to", "mso@ca.example", env=accepting.env,
               now="2026-11-28T07:00:00Z")
    msg = accepting.handler.parsed()
    text = parts(msg)["text/plain"]
    assert "undelivered" in text.lower() and f"#{failed['id']}" in text
    assert "undelivered" in msg["Subject"]
    assert "undelivered" in parts(msg)["text/html"].lower()
    # after a successful delivery the failure is no longer pending
    third = hostile.ok("report", "daily", now="2026-11-29T07:00:00Z").stdout
    assert "Undelivered reports: none" in third


def test_temporary_refusal_is_retried(hostile: Cli, smtp: Callable[..., Smtp],
                                      tmp_path: Path) -> None:
    server = smtp(busy=2)
    cfg = tmp_path / "fast.toml"
    cfg.write_text("[smtp]\nretries = 3\nbackoff = 0.01\n", encoding="utf-8")
    hostile.ok("report", "daily", "--send", "--to", "mso@ca.example", config=cfg,
               env=server.env)
    assert server.handler.data_calls == 3 and len(server.handler.messages) == 1
    assert runs(hostile)[0]["delivery"] == "delivered"


def test_temporary_refusal_until_the_end_exits_3(hostile: Cli, smtp: Callable[..., Smtp],
                                                 tmp_path: Path) -> None:
    server = smtp(busy=10)
    cfg = tmp_path / "fast.toml"
    cfg.write_text("[smtp]\nretries = 2\nbackoff = 0.01\n", encoding="utf-8")
    result = hostile("report", "daily", "--send", "--to", "mso@ca.example", config=cfg,
                     env=server.env)
    assert result.exit_code == 3 and server.handler.data_calls == 2
    assert runs(hostile)[0]["delivery"] == "failed"


def test_unreachable_server_exits_3(hostile: Cli, tmp_path: Path) -> None:
    cfg = tmp_path / "fast.toml"
    cfg.write_text("[smtp]\nretries = 1\ntimeout = 2\n", encoding="utf-8")
    env = {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(_free_port())}
    result = hostile("report", "daily", "--send", "--to", "m@ca.example", config=cfg, env=env)
    assert result.exit_code == 3
    assert runs(hostile)[0]["delivery"] == "failed"


def test_empty_store_still_sends_a_report_that_says_so(vm: Cli, smtp: Callable[..., Smtp]
                                                      ) -> None:
    server = smtp()
    vm.ok("init")  # an empty store, created on purpose
    vm.ok("report", "daily", "--send", "--to", "mso@ca.example", env=server.env)
    msg = server.handler.parsed()
    assert "no findings" in msg["Subject"]
    body = parts(msg)
    assert EMPTY_MESSAGE in body["text/plain"]
    assert EMPTY_MESSAGE in body["text/html"]
    assert "Tickets: 0" in body["text/plain"]


def test_password_never_reaches_the_report_or_evidence(hostile: Cli, smtp: Callable[..., Smtp],
                                                       db_file: Path) -> None:
    server = smtp(refuse="554 no")
    env = {**server.env, "VULNMARK_SMTP_PASSWORD": "hunter2-very-secret"}
    result = hostile("report", "daily", "--send", "--to", "m@ca.example", env=env)
    assert result.exit_code == 3
    assert "hunter2" not in result.stdout + result.stderr
    assert b"hunter2" not in db_file.read_bytes()


# -- reproducibility ---------------------------------------------------------------------------

def _populate(vm: Cli) -> None:
    vm.ok("ticket", "new", "--title", "Heap overflow", "--label", "Sérülékenység", "--by", "a")
    vm.ok("ticket", "comment", "VULN-1", "besorolás: magas", "--by", "b")
    vm.ok("ticket", "new", "--title", "CVE-2026-0001 in libfoo", "--by", "a")
    vm.ok("ticket", "new", "--title", "Old critical", "--label", "Vulnerability",
          "--label", "CRITICAL", "--by", "a", now="2026-11-20T07:00:00Z")


@pytest.mark.parametrize("fmt", ["json", "text", "html", "md"])
def test_now_makes_the_report_identical_across_stores(tmp_path: Path, fmt: str) -> None:
    outputs = []
    for name in ("a", "b"):
        vm = Cli(f"sqlite:///{tmp_path / name}.db", tmp_path)
        _populate(vm)
        outputs.append(vm.ok("report", "daily", "--format", fmt).stdout.encode())
    # Everything but the evidence head: each record's hash covers the wall clock it was
    # written at (never --now), so two stores built at different instants differ there only.
    outputs = [re.sub(rb"\b[0-9a-f]{16,64}\b", b"HEAD", o) if b"head" in o else o
               for o in outputs]
    assert outputs[0] == outputs[1]
    assert b"2026-11-27" in outputs[0]


def test_now_makes_check_identical_across_runs(vm: Cli) -> None:
    _populate(vm)
    first = vm.ok("check", "--format", "json").stdout
    second = vm.ok("check", "--format", "json").stdout
    assert first == second
    assert json.loads(first)["generated_at"] == NOW


def test_vulnmark_now_env_is_the_same_as_the_option(vm: Cli) -> None:
    _populate(vm)
    by_option = vm.ok("check", "--format", "json").stdout
    by_env = CliRunner().invoke(cli, ["--db", vm.db_url, "check", "--format", "json"],
                                env={"VULNMARK_NOW": NOW}, catch_exceptions=False)
    assert by_env.exit_code == 0 and by_env.stdout == by_option


def test_report_daily_output_file_and_kept_bodies(vm: Cli, tmp_path: Path) -> None:
    _populate(vm)
    out = tmp_path / "r.html"
    vm.ok("report", "daily", "--format", "html", "-o", str(out))
    html = out.read_text(encoding="utf-8")
    assert "Old critical" in html and "overdue" in html
    (run, *_) = runs(vm)
    assert run["delivery"] == "not_sent"


class _Killed(BaseException):
    """Stands for the process being killed while the SMTP session is open."""


class _DyingNotifier(Notifier):
    def send(self, subject: str, text: str, html: str, recipients: Sequence[str], *,
             attachments: Sequence[Attachment] = (), cc: Sequence[str] = ()) -> Delivery:
        raise _Killed


def test_a_report_interrupted_while_sending_shows_as_undelivered(hostile: Cli) -> None:
    from vulnmark.config.load import Config
    from vulnmark.config.presets import preset
    from vulnmark.control.daily import DailyJob
    from vulnmark.store import Store

    with Store.open(hostile.db_url) as store, pytest.raises(_Killed):
        DailyJob(store, Config(preset("etsi-319-401")), notifier=_DyingNotifier(),
                 recipients=["mso@ca.example"]).run(NOW_DT)
    assert runs(hostile)[0]["delivery"] == "pending"
    nxt = hostile.ok("report", "daily", now="2026-11-28T07:00:00Z").stdout
    assert "Undelivered reports: none" not in nxt


def test_a_day_without_a_report_run_is_shown(vm: Cli) -> None:
    vm.ok("report", "daily", now="2026-11-24T07:00:00Z")
    vm.ok("report", "daily", now="2026-11-25T07:00:00Z")
    text = vm.ok("report", "daily", now="2026-11-27T07:00:00Z").stdout
    assert "2026-11-26" in text
    data = json.loads(vm.ok("report", "daily", "--format", "json",
                            now="2026-11-27T08:00:00Z").stdout)
    # previews (no --send) do not cover their day either: only a delivered report does
    assert data["health"]["missed_days"] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert data["health"]["ok"] is False


def test_a_mistyped_db_is_refused_not_reported_as_empty(vm: Cli, tmp_path: Path) -> None:
    # An empty report would look like a clean control: a --db pointing at nothing is an error.
    result = vm("--db", f"sqlite:///{tmp_path / 'typo.db'}", "report", "daily")
    assert result.exit_code == 2
    assert "no store at" in result.stderr and "typo.db" in result.stderr
    assert not (tmp_path / "typo.db").exists()
