"""Reminders to ticket authors through the CLI and a real SMTP server (aiosmtpd on 127.0.0.1):
one email per author and day with the labels to add, the MSO copied after N days, an author
without an address listed in the MSO's report, every reminder in the evidence log."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core_support import Cli


@dataclass
class Sink:
    """Every accepted message with its envelope recipients."""

    got: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.got.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, addr: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.got if addr in rcpt]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, dict[str, str]]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, {"VULNMARK_SMTP_HOST": "127.0.0.1", "VULNMARK_SMTP_PORT": str(port)}
    controller.stop()


@pytest.fixture
def authors(vm: Cli, tmp_path: Path) -> tuple[Cli, Path]:
    config = tmp_path / "vulnmark.toml"
    config.write_text('recipients = ["mso@ca.example"]\n[reminders]\nenabled = true\n'
                      'escalate_after_days = 2\n[reminders.addresses]\n'
                      '"Ann Example" = "ann@ca.example"\n')
    at = "2026-11-20T06:00:00Z"
    vm.ok("ticket", "new", "--title", "Weak TLS ciphers on the OCSP responder", "--label",
          "Vulnerability", "--reporter", "Ann Example", now=at, config=config)
    vm.ok("ticket", "new", "--title", "CRL signing key in a world-readable file", "--label",
          "HIGH", "--reporter", "Bob <bob@ca.example>", now=at, config=config)
    vm.ok("ticket", "new", "--title", "Rated MEDIUM by the pentest: RA portal session fixation",
          "--label", "Vulnerability", "--reporter", "Carol Nomail", now=at, config=config)
    return vm, config


def test_one_reminder_per_author_and_day_then_escalation(
        authors: tuple[Cli, Path], sink: tuple[Sink, dict[str, str]]) -> None:
    vm, config = authors
    handler, env = sink
    day1 = "2026-11-20T07:00:00Z"
    vm.ok("report", "daily", "--send", now=day1, config=config, env=env)
    mso = handler.to("mso@ca.example")
    assert len(mso) == 1 and len(handler.got) == 3  # the report, Ann's and Bob's reminders
    report = next(p for p in mso[0].walk() if p.get_content_type() == "text/plain")
    assert "author not reachable for 1 reporter(s): Carol Nomail (VULN-3)" in str(
        report.get_content())
    (ann,) = handler.to("ann@ca.example")
    assert ann["Subject"] == "[vulnmark] 1 of your tickets needs a classification label"
    assert ann["Cc"] is None
    body = str(ann.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "VULN-1: Weak TLS ciphers" in body
    assert "add one classification label: CRITICAL / HIGH / MEDIUM / LOW / INFORMATIVE" in body
    (bob,) = handler.to("bob@ca.example")
    assert "add the vulnerability label Sérülékenység" in str(
        bob.get_body(("plain",)).get_content())  # type: ignore[union-attr]

    vm.ok("report", "daily", "--send", now="2026-11-20T15:00:00Z", config=config, env=env)
    assert len(handler.got) == 4  # the report only: the authors were reminded today

    vm.ok("report", "daily", "--send", now="2026-11-21T07:00:00Z", config=config, env=env)
    assert [m["Cc"] for m in handler.to("ann@ca.example")] == [None, None]

    vm.ok("report", "daily", "--send", now="2026-11-22T07:00:00Z", config=config, env=env)
    third = handler.to("ann@ca.example")[-1]
    assert third["Cc"] == "mso@ca.example"  # two days of reminders: the MSO is copied
    assert "security officer is copied" in str(
        third.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    rcpts = [rcpt for rcpt, m in handler.got if m is third][0]
    assert sorted(rcpts) == ["ann@ca.example", "mso@ca.example"]

    records = json.loads(vm.ok("runs", "--format", "json", config=config).output)
    assert records  # the reports were recorded
    verified = vm.ok("evidence", "verify", config=config).output
    assert "evidence log OK" in verified


def test_dry_run_shows_who_gets_what_and_sends_nothing(
        authors: tuple[Cli, Path], sink: tuple[Sink, dict[str, str]]) -> None:
    vm, config = authors
    handler, env = sink
    out = vm.ok("report", "remind", "--dry-run", now="2026-11-20T07:00:00Z", config=config,
                env=env).output
    assert "Ann Example: 1 ticket(s), to ann@ca.example" in out
    assert "Bob <bob@ca.example>: 1 ticket(s), to bob@ca.example" in out
    assert "Carol Nomail: 1 ticket(s), NOT REACHABLE" in out
    assert "VULN-3: add the classification label MEDIUM (suggested) or one of" in out
    assert handler.got == []
    sent = vm.ok("report", "remind", now="2026-11-20T07:00:00Z", config=config, env=env)
    assert "sent 2 reminder(s)" in sent.stderr
    assert len(handler.got) == 2
    again = vm.ok("report", "remind", "--dry-run", now="2026-11-20T09:00:00Z", config=config)
    assert "already reminded today" in again.output


def _jira_page(path: Path, issues: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]]
               ) -> Path:
    path.write_text(json.dumps({"issues": [
        {"key": key, "fields": {"summary": title, "created": "2026-11-19T08:00:00.000+0000",
                                "labels": ["Vulnerability"], "reporter": reporter,
                                "assignee": assignee}}
        for key, title, reporter, assignee in issues]}))
    return path


JIRA_ISSUES: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("CA-1", "OCSP responder accepts SHA-1",
     {"name": "ann", "displayName": "Ann Jira", "emailAddress": "ann@jira.example"},
     {"accountId": "557058:kim", "displayName": "Kim Lee", "emailAddress": "kim@jira.example"}),
    ("CA-2", "TSA clock drift",
     {"name": "ann", "displayName": "Ann Jira", "emailAddress": "ann@jira.example"}, None),
    ("CA-3", "RA portal CSRF",
     {"accountId": "557058:dan", "displayName": "Dan Hidden"},
     {"accountId": "557058:zed", "displayName": "Zed Hidden"}),
    ("CA-4", "HSM firmware advisory",
     {"accountId": "557058:eve", "displayName": "Eve Hidden"},
     {"accountId": "557058:kim", "displayName": "Kim Lee", "emailAddress": "kim@jira.example"}),
]


def test_reporters_are_reached_at_the_address_jira_shows(
        vm: Cli, tmp_path: Path, sink: tuple[Sink, dict[str, str]]) -> None:
    handler, env = sink
    config = tmp_path / "vulnmark.toml"
    config.write_text('recipients = ["mso@ca.example"]\n[reminders]\nenabled = true\n'
                      '[reminders.addresses]\n"557058:dan" = "dan@ca.example"\n')
    vm.ok("import", str(_jira_page(tmp_path / "page.json", JIRA_ISSUES)), config=config)
    out = vm.ok("report", "remind", "--dry-run", config=config).output
    assert "Ann Jira: 2 ticket(s), to ann@jira.example" in out  # no map entry needed
    assert "Dan Hidden: 1 ticket(s), to dan@ca.example" in out  # mapped by account id
    assert "Eve Hidden: 1 ticket(s), NOT REACHABLE" in out
    vm.ok("report", "daily", "--send", config=config, env=env)
    (ann,) = handler.to("ann@jira.example")
    body = str(ann.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "These tickets you reported need" in body and "CA-1:" in body and "CA-2:" in body
    assert len(handler.to("dan@ca.example")) == 1
    (report,) = handler.to("mso@ca.example")
    text = str(report.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "author not reachable for 1 reporter(s): Eve Hidden (CA-4)" in text


def test_to_assignee_reminds_the_assignee_and_an_unassigned_tickets_reporter(
        vm: Cli, tmp_path: Path, sink: tuple[Sink, dict[str, str]]) -> None:
    handler, env = sink
    config = tmp_path / "vulnmark.toml"
    config.write_text('recipients = ["mso@ca.example"]\n[reminders]\nenabled = true\n'
                      'to = "assignee"\n')
    vm.ok("import", str(_jira_page(tmp_path / "page.json", JIRA_ISSUES)), config=config)
    vm.ok("ticket", "new", "--key", "VULN-1", "--title", "Weak cipher", "--label",
          "Vulnerability", "--assignee", "Bob", "--assignee-email", "bob@ca.example",
          config=config)
    out = vm.ok("report", "remind", "--dry-run", config=config).output
    assert "Kim Lee (assignee): 2 ticket(s), to kim@jira.example" in out
    assert "  CA-1: " in out and "  CA-4: " in out
    assert "Ann Jira: 1 ticket(s), to ann@jira.example" in out  # CA-2 has no assignee
    assert "Bob (assignee): 1 ticket(s), to bob@ca.example" in out
    assert "Zed Hidden (assignee): 1 ticket(s), NOT REACHABLE" in out
    vm.ok("report", "daily", "--send", config=config, env=env)
    (kim,) = handler.to("kim@jira.example")
    body = str(kim.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "These tickets assigned to you need" in body
    assert {"CA-1:", "CA-4:"} <= set(body.split())
    assert len(handler.to("bob@ca.example")) == 1 and len(handler.to("ann@jira.example")) == 1
    (report,) = handler.to("mso@ca.example")
    text = str(report.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "author not reachable for 1 assignee(s): Zed Hidden (CA-3)" in text


def test_reminders_to_must_be_reporter_or_assignee(vm: Cli, tmp_path: Path) -> None:
    config = tmp_path / "vulnmark.toml"
    config.write_text('[reminders]\nenabled = true\nto = "owner"\n')
    r = vm("report", "remind", "--dry-run", config=config)
    assert r.exit_code == 2
    assert "reminders.to: 'owner': choose reporter or assignee" in r.stderr
