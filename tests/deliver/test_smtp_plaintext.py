"""F8 of the reliability report: the SMTP password never goes out in clear text by accident.

With ``tls = "none"`` (the default) and ``smtp.user`` set, vulnmark logged in with AUTH PLAIN
over the unencrypted connection, silently. Now such a login is refused unless the server is on
a loopback address or ``smtp.allow_plaintext_auth = true``; the report's health section says
which. The "remote" server of these tests is a real aiosmtpd on 127.0.0.1 reached under a
non-loopback name: ``socket.create_connection`` resolves that one name to 127.0.0.1 (as an
/etc/hosts line would) and records every connection attempt.
"""

from __future__ import annotations

import base64
import email
import email.policy
import smtplib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from smtp_helpers import PASSWORD, USER, Recorder, Server, authenticator

from core_support import Cli
from vulnmark.config.sections import SmtpSettings
from vulnmark.deliver import SmtpNotifier
from vulnmark.deliver.smtp import is_loopback, plaintext_login
from vulnmark.errors import NotifyError
from vulnmark.store import Store
from vulnmark.store import runs as store_runs

REMOTE = "mail.ca.example"


@pytest.fixture
def remote(smtp_server: Callable[..., Server],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, list[tuple[str, int]]]]:
    """A server that takes AUTH without TLS, reachable as ``mail.ca.example``."""
    server = smtp_server(Recorder(), authenticator=authenticator, auth_require_tls=False)
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def connect(address: tuple[str, int], *args: Any, **kw: Any) -> socket.socket:
        attempts.append(address)
        host, port = address
        return real(("127.0.0.1", port) if host == REMOTE else address, *args, **kw)

    monkeypatch.setattr(smtplib.socket, "create_connection", connect)
    yield server, attempts


def _settings(server: Server, **kw: Any) -> SmtpSettings:
    return SmtpSettings(**{"host": REMOTE, "port": server.port, "user": USER,
                           "sender": "vulnmark@ca.example", "timeout": 10, "retries": 1,
                           **kw})


def test_f8_loopback_is_what_it_says() -> None:
    for host in ("localhost", "LOCALHOST.", "127.0.0.1", "127.1.2.3", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("mail.ca.example", "localhost.evil.example", "10.0.0.1", "127.0.0.1.nip.io",
                 "0.0.0.0"):
        assert not is_loopback(host), host


def test_f8_login_without_tls_to_a_remote_server_is_refused_before_connecting(
        remote: tuple[Server, list[tuple[str, int]]]) -> None:
    server, attempts = remote
    notifier = SmtpNotifier(_settings(server), PASSWORD)
    assert plaintext_login(notifier.settings) == "refused"
    with pytest.raises(NotifyError, match="refusing to send the password.*without TLS"):
        notifier.send("s", "text", "<p>html</p>", ["mso@ca.example"])
    assert attempts == []  # not even a connection: nothing could be sniffed
    assert server.handler.envelopes == []
    (note,) = notifier.health_notes()
    assert note.startswith("SMTP LOGIN REFUSED") and "allow_plaintext_auth" in note


def test_f8_allow_plaintext_auth_logs_in_and_the_report_says_so(
        remote: tuple[Server, list[tuple[str, int]]]) -> None:
    server, attempts = remote
    notifier = SmtpNotifier(_settings(server, allow_plaintext_auth=True), PASSWORD)
    delivery = notifier.send("s", "text", "<p>html</p>", ["mso@ca.example"])
    assert delivery.server_reply.startswith("250") and attempts == [(REMOTE, server.port)]
    (note,) = notifier.health_notes()
    assert "without TLS" in note and "allow_plaintext_auth = true" in note


def test_f8_tls_or_no_login_needs_no_note(remote: tuple[Server, list[tuple[str, int]]]) -> None:
    server, _ = remote
    assert SmtpNotifier(_settings(server, tls="starttls"), PASSWORD).health_notes() == ()
    assert SmtpNotifier(_settings(server, user=None)).health_notes() == ()
    loop = SmtpNotifier(_settings(server, host="127.0.0.1"), PASSWORD)
    assert "loopback" in loop.health_notes()[0]


def test_f8_the_cli_refuses_the_clear_text_login_records_the_run_and_reports_it(
        vm: Cli, tmp_path: Path, remote: tuple[Server, list[tuple[str, int]]]) -> None:
    """The reproducer of the report: env settings, default tls = none, a user and password."""
    server, attempts = remote
    env = {"VULNMARK_SMTP_HOST": REMOTE, "VULNMARK_SMTP_PORT": str(server.port),
           "VULNMARK_SMTP_USER": "alice", "VULNMARK_SMTP_PASSWORD": "S3cr3t!"}
    out = tmp_path / "rep.txt"
    result = vm("report", "daily", "--send", "--to", "mso@example.org", "-o", str(out), env=env)
    assert result.exit_code == 2, result.output
    assert "without TLS" in result.stderr and "allow_plaintext_auth" in result.stderr
    assert "S3cr3t!" not in result.output + result.stderr
    assert attempts == [] and server.handler.envelopes == []
    with Store.open(vm.db_url) as store:
        (run,) = store_runs.list_runs(store, kind="report")
        with store.reading() as conn:
            bodies = {fmt: body for _id, fmt, body in store_runs.report_bodies(conn, [run.id])}
    assert run.delivery_status == "failed" and "without TLS" in (run.error or "")
    assert "SMTP LOGIN REFUSED" in bodies["text"]  # the kept report says why it was not sent
    # the next report lists the run as undelivered, with the reason
    nxt = vm.ok("report", "daily").stdout
    assert "Undelivered reports: 1" in nxt and "without TLS" in nxt

    allowed = tmp_path / "vulnmark.toml"
    allowed.write_text("[smtp]\nallow_plaintext_auth = true\nretries = 1\n", encoding="utf-8")
    env.update(VULNMARK_SMTP_USER=USER, VULNMARK_SMTP_PASSWORD=PASSWORD)
    sent = vm("report", "daily", "--send", "--to", "mso@example.org", config=allowed, env=env)
    assert sent.exit_code == 0, sent.output
    assert len(server.handler.envelopes) == 1
    raw = server.handler.envelopes[0].content
    assert isinstance(raw, bytes)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = [p.get_content() for p in message.walk() if p.get_content_type() == "text/plain"]
    assert "without TLS (smtp.allow_plaintext_auth = true)" in text[0]
    assert base64.b64encode(PASSWORD.encode()).decode() not in sent.output
