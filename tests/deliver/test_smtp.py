"""SmtpNotifier against real aiosmtpd servers on 127.0.0.1."""

from __future__ import annotations

import base64
import email
import email.policy
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from smtp_helpers import PASSWORD, USER, Recorder, Server, Tls, authenticator, free_port

from vulnmark.config.presets import preset
from vulnmark.config.sections import SmtpSettings
from vulnmark.deliver import Delivery, Notifier, SmtpNotifier, smtp_settings_from_env
from vulnmark.errors import DeliveryFailed, NotifyError
from vulnmark.model import Evidence, Finding, TicketKey
from vulnmark.report import ControlHealth, DailyReport, ReportFormat, subject

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


def _report() -> DailyReport:
    finding = Finding(
        TicketKey("SEC-1"), "unclassified", f"Login form {XSS}", labels=("Sérülékenység",),
        suggested="HIGH", confidence=0.9, reporter=f"eve {XSS}", created=NOW,
        evidence=(Evidence("comment", f"rated HIGH {XSS}", 0),),
    )
    health = ControlHealth(runs=(), missed_days=(), last_delivery=None, undelivered=())
    policy = replace(preset("etsi-319-401"), timezone="Europe/Budapest")
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=3, vulnerabilities=1,
        by_class={"unclassified": 1}, findings=(finding,), health=health,
    )


def _bodies() -> tuple[str, str, str]:
    report = _report()
    return (subject(report), ReportFormat.TEXT.to_format().format(report),
            ReportFormat.HTML.to_format().format(report))


def _settings(server: Server, **kw: object) -> SmtpSettings:
    base = SmtpSettings(host=server.host, port=server.port, sender="vulnmark@ca.example",
                        timeout=10, retries=3, backoff=2.0)
    return replace(base, **kw)  # type: ignore[arg-type]


def _notifier(settings: SmtpSettings, sleeps: list[float] | None = None,
              **kw: object) -> SmtpNotifier:
    sleeps = [] if sleeps is None else sleeps
    return SmtpNotifier(settings, sleep=sleeps.append, now=lambda: NOW,
                        local_hostname="localhost", **kw)  # type: ignore[arg-type]


def _received(server: Server) -> EmailMessage:
    assert len(server.handler.envelopes) == 1
    raw = server.handler.envelopes[0].original_content or server.handler.envelopes[0].content
    assert isinstance(raw, bytes)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_smtp_notifier_is_a_notifier() -> None:
    assert issubclass(SmtpNotifier, Notifier)
    assert issubclass(DeliveryFailed, NotifyError)


def test_delivers_multipart_alternative(smtp_server: Callable[..., Server]) -> None:
    server = smtp_server()
    subj, text, html = _bodies()
    recipients = ["mso@ca.example", "Deputy MSO <deputy@ca.example>"]
    delivery = _notifier(_settings(server)).send(subj, text, html, recipients)

    assert isinstance(delivery, Delivery)
    assert delivery.attempts == 1
    assert delivery.recipients == ("mso@ca.example", "deputy@ca.example")
    assert delivery.server_reply == "250 2.0.0 OK queued as Q0001"
    assert "250" in delivery.server_reply
    assert delivery.sent_at == NOW

    env = server.handler.envelopes[0]
    assert env.mail_from == "vulnmark@ca.example"
    assert env.rcpt_tos == ["mso@ca.example", "deputy@ca.example"]
    msg = _received(server)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert msg["From"] == "vulnmark@ca.example"
    assert msg["To"] == "mso@ca.example, Deputy MSO <deputy@ca.example>"
    assert msg["Subject"] == subj
    assert msg["Message-ID"] == delivery.message_id
    assert delivery.message_id.endswith("@ca.example>")
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Auto-Submitted"] == "auto-generated"

    plain = parts[0].get_content()
    html_part = parts[1].get_content()
    assert "SEC-1" in plain and "Sérülékenység" in plain  # UTF-8 survives the trip
    assert "<script" not in html_part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part
    assert html_part.splitlines() == html.splitlines()


@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_transient_4xx_is_retried_with_backoff(
    smtp_server: Callable[..., Server], where: str
) -> None:
    failures = 2
    handler = Recorder(**{f"fail_{where}": failures})  # type: ignore[arg-type]
    server = smtp_server(handler)
    sleeps: list[float] = []
    delivery = _notifier(_settings(server, retries=4), sleeps).send(
        *_bodies(), ["mso@ca.example"]
    )
    assert delivery.attempts == failures + 1
    assert sleeps == [2.0, 4.0]
    assert len(handler.envelopes) == 1  # nothing was delivered by the failed attempts
    assert _received(server)["Message-ID"] == delivery.message_id


def test_partial_recipient_refusal_sends_nothing_then_retries(
    smtp_server: Callable[..., Server]
) -> None:
    handler = Recorder(fail_rcpt=1)  # first recipient of the first attempt is greylisted
    server = smtp_server(handler)
    delivery = _notifier(_settings(server)).send(
        *_bodies(), ["mso@ca.example", "deputy@ca.example"]
    )
    assert delivery.attempts == 2
    assert len(handler.envelopes) == 1
    assert handler.envelopes[0].rcpt_tos == ["mso@ca.example", "deputy@ca.example"]


def test_always_refusing_server_fails_after_all_retries(
    smtp_server: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server(Recorder(refuse="451 4.7.1 Try again later"))
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as info:
        _notifier(_settings(server, retries=3, backoff=0.5), sleeps).send(
            *_bodies(), ["mso@ca.example"]
        )
    assert info.value.attempts == 3
    assert info.value.permanent is False
    assert "451 4.7.1 Try again later" in info.value.last_reply
    assert "after 3 attempt(s)" in str(info.value)
    assert sleeps == [0.5, 1.0]
    assert server.handler.rcpt_calls == 3
    assert "giving up" in caplog.text


def test_permanent_5xx_fails_without_retry(smtp_server: Callable[..., Server]) -> None:
    server = smtp_server(Recorder(refuse="550 5.1.1 No such user"))
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as info:
        _notifier(_settings(server, retries=5), sleeps).send(*_bodies(), ["nobody@ca.example"])
    assert info.value.attempts == 1
    assert info.value.permanent is True
    assert "550 5.1.1 No such user" in info.value.last_reply
    assert sleeps == []


def test_connection_refused_is_retried() -> None:
    port = free_port()  # nothing listens here
    settings = SmtpSettings(host="127.0.0.1", port=port, retries=2, backoff=1.0, timeout=5)
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as info:
        _notifier(settings, sleeps).send(*_bodies(), ["mso@ca.example"])
    assert info.value.attempts == 2
    assert "ConnectionRefusedError" in info.value.last_reply
    assert sleeps == [1.0]


def test_retries_zero_still_makes_one_attempt(smtp_server: Callable[..., Server]) -> None:
    server = smtp_server()
    delivery = _notifier(_settings(server, retries=0)).send(*_bodies(), ["mso@ca.example"])
    assert delivery.attempts == 1


def _assert_no_password(text: str) -> None:
    assert PASSWORD not in text
    assert base64.b64encode(PASSWORD.encode()).decode() not in text
    assert base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode() not in text


def test_starttls_with_auth(
    smtp_server: Callable[..., Server], tls: Tls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_server(
        tls_context=tls.server_context(), require_starttls=True,
        authenticator=authenticator, auth_required=True,
    )
    settings = _settings(server, tls="starttls", user=USER)
    notifier = _notifier(settings, password=PASSWORD, ssl_context=tls.client_context())
    delivery = notifier.send(*_bodies(), ["mso@ca.example"])
    assert delivery.server_reply.startswith("250")
    assert _received(server)["Message-ID"] == delivery.message_id
    assert PASSWORD not in repr(notifier)
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        if record.name.startswith("vulnmark"):
            _assert_no_password(record.getMessage())


def test_wrong_password_fails_once_without_leaking(
    smtp_server: Callable[..., Server], tls: Tls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_server(
        tls_context=tls.server_context(), require_starttls=True,
        authenticator=authenticator, auth_required=True,
    )
    wrong = PASSWORD + "-wrong"
    settings = _settings(server, tls="starttls", user=USER)
    with pytest.raises(DeliveryFailed) as info:
        _notifier(settings, password=wrong, ssl_context=tls.client_context()).send(
            *_bodies(), ["mso@ca.example"]
        )
    assert info.value.attempts == 1 and info.value.permanent
    assert info.value.last_reply.startswith("535")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    for text in (str(info.value), info.value.last_reply, repr(info.value)):
        assert wrong not in text
        assert base64.b64encode(wrong.encode()).decode() not in text
    for record in caplog.records:
        assert wrong not in record.getMessage()
    assert server.handler.envelopes == []


def test_implicit_tls(smtp_server: Callable[..., Server], tls: Tls) -> None:
    server = smtp_server(ssl_context=tls.server_context())
    delivery = _notifier(_settings(server, tls="ssl"), ssl_context=tls.client_context()).send(
        *_bodies(), ["mso@ca.example"]
    )
    assert delivery.server_reply.startswith("250")
    assert _received(server)["Auto-Submitted"] == "auto-generated"


def test_untrusted_certificate_is_a_permanent_failure(
    smtp_server: Callable[..., Server], tls: Tls
) -> None:
    server = smtp_server(tls_context=tls.server_context(), require_starttls=True)
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as info:  # default context: system CAs only
        _notifier(_settings(server, tls="starttls"), sleeps).send(*_bodies(), ["mso@ca.example"])
    assert info.value.attempts == 1 and info.value.permanent
    assert "certificate verification failed" in info.value.last_reply
    assert sleeps == []


def test_starttls_required_by_server_but_not_configured(
    smtp_server: Callable[..., Server], tls: Tls
) -> None:
    server = smtp_server(tls_context=tls.server_context(), require_starttls=True)
    with pytest.raises(DeliveryFailed) as info:
        _notifier(_settings(server, retries=2)).send(*_bodies(), ["mso@ca.example"])
    assert info.value.attempts == 1  # 530 Must issue a STARTTLS command first
    assert info.value.last_reply.startswith("530")


def test_input_errors() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port())
    notifier = _notifier(settings)
    with pytest.raises(NotifyError, match="no recipients"):
        notifier.send("s", "t", "<p>h</p>", [])
    with pytest.raises(NotifyError, match="line break"):
        notifier.send("s", "t", "<p>h</p>", ["mso@ca.example\r\nBcc: spy@evil.example"])
    with pytest.raises(NotifyError, match="not an email address"):
        notifier.send("s", "t", "<p>h</p>", ["not an address"])
    with pytest.raises(NotifyError, match="VULNMARK_SMTP_PASSWORD"):
        SmtpNotifier(replace(settings, user="u"))
    msg = notifier.build_message("two\r\nBcc: spy@evil.example", "t", "<p>h</p>", ["a@b.example"])
    assert msg["Subject"] == "two Bcc: spy@evil.example"
    assert msg["Bcc"] is None


class TestSettingsFromEnv:
    def test_overrides(self) -> None:
        env = {
            "VULNMARK_SMTP_HOST": "mail.ca.example",
            "VULNMARK_SMTP_PORT": "587",
            "VULNMARK_SMTP_TLS": "STARTTLS",
            "VULNMARK_SMTP_USER": "reporter",
            "VULNMARK_REPORT_FROM": "vulnmark <vulnmark@ca.example>",
            "VULNMARK_SMTP_PASSWORD": "not a setting",
        }
        s = smtp_settings_from_env(SmtpSettings(), env)
        assert (s.host, s.port, s.tls, s.user, s.sender) == (
            "mail.ca.example", 587, "starttls", "reporter", "vulnmark <vulnmark@ca.example>",
        )
        assert "not a setting" not in repr(s)

    def test_missing_variables_keep_base(self) -> None:
        base = SmtpSettings(host="h", port=2525, user="u")
        assert smtp_settings_from_env(base, {}) == base
        assert smtp_settings_from_env(base, {"VULNMARK_SMTP_USER": ""}).user is None

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("VULNMARK_SMTP_PORT", "smtp"),
            ("VULNMARK_SMTP_PORT", "0"),
            ("VULNMARK_SMTP_PORT", "70000"),
            ("VULNMARK_SMTP_TLS", "tls"),
            ("VULNMARK_SMTP_HOST", ""),
            ("VULNMARK_SMTP_HOST", "mail host"),
            ("VULNMARK_REPORT_FROM", "nobody"),
            ("VULNMARK_REPORT_FROM", "a@b.example\nBcc: c@d.example"),
        ],
    )
    def test_invalid_values_name_the_variable(self, name: str, value: str) -> None:
        with pytest.raises(NotifyError, match=name):
            smtp_settings_from_env(SmtpSettings(), {name: value})


# -- m6 / m7: a trickling server and settings that crashed the send ---------------------------

def _trickler() -> tuple[int, Callable[[], None]]:
    """A server on 127.0.0.1 that sends its greeting one byte at a time, forever: every read
    gets a byte inside any timeout, so only a deadline for the whole session ends it."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                while not stop.is_set():
                    try:
                        conn.sendall(b"2")
                    except OSError:
                        break
                    stop.wait(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join(5)
        listener.close()

    return listener.getsockname()[1], close


def test_m6_a_trickling_server_is_cut_off_at_the_session_deadline() -> None:
    import time

    port, close = _trickler()
    try:
        settings = SmtpSettings(host="127.0.0.1", port=port, retries=1, timeout=1, deadline=2)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as info:
            _notifier(settings).send(*_bodies(), ["mso@ca.example"])
        assert "smtp.deadline = 2 s" in info.value.last_reply
        assert time.monotonic() - started < 30  # without the deadline: never
    finally:
        close()


@pytest.mark.parametrize("who", ["password", "user"])
def test_m7_a_non_ascii_smtp_credential_is_refused_before_any_run(who: str) -> None:
    user, password = ("alice", "pässwörd-Ünïcode") if who == "password" else ("ålice", "pw")
    with pytest.raises(NotifyError, match="only printable ASCII"):
        SmtpNotifier(SmtpSettings(user=user), password)
