"""SMTP delivery with TLS, optional AUTH and retries with exponential backoff.

One delivery is one message (``multipart/alternative``: text/plain then text/html) built once,
so every attempt carries the same Message-ID. An attempt is all-or-nothing: if the server
refuses any recipient, the transaction is reset and nothing is sent in that attempt (a partial
delivery would leave the security officer without the report while the run looks delivered).

Retry policy: connection errors, timeouts, a dropped connection and 4xx replies are transient
and retried up to ``settings.retries`` attempts in total, sleeping ``backoff * 2**(n-1)``
seconds after the n-th failure. 5xx replies (a permanent refusal: bad sender, unknown
recipient, authentication failed), a certificate that fails verification and a server
without the needed extension (STARTTLS, AUTH) fail at once: retrying would only repeat the
refusal. Either way :class:`DeliveryFailed` says how many attempts were made and carries the last
reply. A connection that drops after the data was sent but before the reply may, on retry,
deliver a duplicate with the same Message-ID; that is preferred to losing the report.

The password is never logged and is removed (also in its base64 AUTH forms) from every reply,
log line and exception text; exceptions are not chained to smtplib errors that may quote it.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

from vulnmark.config.sections import SmtpSettings
from vulnmark.deliver.interface import Attachment, Delivery, Notifier
from vulnmark.errors import DeliveryFailed, NotifyError

logger = logging.getLogger(__name__)

TLS_MODES = ("none", "starttls", "ssl")
#: Message-ID domain when the sender address has none.
FALLBACK_DOMAIN = "vulnmark.invalid"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _addr(value: str, what: str) -> str:
    """The addr-spec of ``value`` ("Name <a@b>" or "a@b"); NotifyError if it is not one."""
    if any(c in value for c in "\r\n\0"):
        raise NotifyError(f"{what} {value!r} contains a line break")
    parsed = getaddresses([value])
    addr = parsed[0][1] if len(parsed) == 1 else ""
    if not addr or "@" not in addr or any(c.isspace() for c in addr):
        raise NotifyError(f"{what} {value!r} is not an email address")
    return addr


class _Redactor:
    """Removes the password, and its base64 AUTH PLAIN/LOGIN forms, from text."""

    def __init__(self, user: str | None, password: str | None):
        secrets: list[str] = []
        if password:
            secrets.append(password)
            secrets.append(base64.b64encode(password.encode()).decode())
            plain = f"\0{user or ''}\0{password}".encode()
            secrets.append(base64.b64encode(plain).decode())
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _describe(exc: Exception) -> tuple[str, bool]:
    """(reply or error text, permanent?) for an exception of one attempt."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        items = exc.recipients.items()
        text = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in items)
        return text, any(500 <= code < 600 for _, (code, _msg) in items)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return f"{code} {_text(exc.smtp_error)}", 500 <= code < 600
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"connection closed: {exc}", False
    if isinstance(exc, smtplib.SMTPException):  # no STARTTLS/AUTH support, no auth mechanism
        return f"{type(exc).__name__}: {exc}", True
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message or exc}", True
    return f"{type(exc).__name__}: {exc}", False


class SmtpNotifier(Notifier):
    """Delivers through the SMTP server of :class:`~vulnmark.config.sections.SmtpSettings`.

    ``password`` comes from ``VULNMARK_SMTP_PASSWORD`` (read by the caller) and is used only
    when ``settings.user`` is set. ``sleep`` and ``now`` are injectable for tests;
    ``ssl_context`` replaces the default verifying context (e.g. to trust a test CA).
    """

    def __init__(
        self,
        settings: SmtpSettings,
        password: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utcnow,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ):
        if settings.tls not in TLS_MODES:
            raise NotifyError(f"SMTP tls must be one of {', '.join(TLS_MODES)}: {settings.tls!r}")
        if settings.user and not password:
            raise NotifyError(
                f"SMTP user {settings.user!r} is set but no password was given "
                "(set VULNMARK_SMTP_PASSWORD)"
            )
        for what, value in (("SMTP user", settings.user), ("VULNMARK_SMTP_PASSWORD", password)):
            if settings.user and value and not _sendable(value):
                # smtplib sends AUTH as ASCII: anything else crashed the send (m7)
                raise NotifyError(f"{what} holds characters SMTP AUTH cannot send (only "
                                  "printable ASCII): change the account's password, or set "
                                  "it without accented or other non-ASCII letters")
        self.settings = settings
        self._password = password
        self._redact = _Redactor(settings.user, password)
        self._sleep = sleep
        self._now = now
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._sender = _addr(settings.sender, "sender")

    def __repr__(self) -> str:  # never show the password
        s = self.settings
        return f"SmtpNotifier({s.host}:{s.port}, tls={s.tls}, user={s.user!r})"

    @property
    def max_attempts(self) -> int:
        return max(1, self.settings.retries)

    def build_message(
        self, subject: str, text: str, html: str, recipients: Sequence[str], *,
        attachments: Sequence[Attachment] = (), cc: Sequence[str] = (),
    ) -> EmailMessage:
        """The MIME message: multipart/alternative with a text/plain and a text/html part
        (inside multipart/mixed with the attachments, if any)."""
        for r in (*recipients, *cc):
            _addr(r, "recipient")
        domain = self._sender.rpartition("@")[2] or FALLBACK_DOMAIN
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(recipients)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = " ".join(subject.split())
        msg["Date"] = format_datetime(self._now().astimezone(UTC))
        msg["Message-ID"] = make_msgid(domain=domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Mailer"] = "vulnmark"
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        for a in attachments:
            maintype, _, subtype = a.mime.partition("/")
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype,
                               filename=a.filename)
        return msg

    def send(self, subject: str, text: str, html: str, recipients: Sequence[str], *,
             attachments: Sequence[Attachment] = (), cc: Sequence[str] = ()) -> Delivery:
        if not recipients:
            raise NotifyError("no recipients: set recipients in the policy or pass --to")
        msg = self.build_message(subject, text, html, recipients, attachments=attachments,
                                 cc=cc)
        envelope = [parseaddr(r)[1] for r in (*recipients, *cc)]
        # Headers up to RFC 5322's 998 octets: Python folds some long subjects before their
        # first word, which readers then show with a leading space. Bodies are already QP.
        data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", max_line_length=998))
        message_id = str(msg["Message-ID"])
        s = self.settings
        last = "no attempt made"
        attempt = 0
        for attempt in range(1, self.max_attempts + 1):
            try:
                reply = self._redact(self._attempt(data, envelope))
            except (smtplib.SMTPException, OSError) as e:
                text_, permanent = _describe(e)
                last = self._redact(text_)
                if permanent:
                    logger.error(
                        "SMTP %s:%d refused the report (attempt %d, permanent): %s",
                        s.host, s.port, attempt, last,
                    )
                    raise DeliveryFailed(
                        f"SMTP {s.host}:{s.port} refused the report: {last}",
                        attempts=attempt, last_reply=last, permanent=True,
                    ) from None
                if attempt < self.max_attempts:
                    delay = s.backoff * 2 ** (attempt - 1)
                    logger.warning(
                        "SMTP %s:%d attempt %d/%d failed: %s; retrying in %.1f s",
                        s.host, s.port, attempt, self.max_attempts, last, delay,
                    )
                    self._sleep(delay)
                else:
                    logger.error(
                        "SMTP %s:%d attempt %d/%d failed: %s; giving up",
                        s.host, s.port, attempt, self.max_attempts, last,
                    )
                continue
            sent_at = self._now()
            logger.info(
                "report %s delivered to %d recipient(s) via %s:%d after %d attempt(s): %s",
                message_id, len(envelope), s.host, s.port, attempt, reply,
            )
            return Delivery(message_id, tuple(envelope), reply, attempt, sent_at)
        raise DeliveryFailed(
            f"SMTP {s.host}:{s.port}: report not delivered after {attempt} attempt(s): {last}",
            attempts=attempt, last_reply=last,
        )

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _attempt(self, data: bytes, recipients: list[str]) -> str:
        """One SMTP session; returns the reply to the data ("250 ...") or raises.

        ``timeout`` bounds each network read; ``deadline`` bounds the whole session: a server
        that trickles a byte just inside the timeout is cut off when it passes (m6)."""
        s = self.settings
        client: smtplib.SMTP
        if s.tls == "ssl":
            client = smtplib.SMTP_SSL(local_hostname=self._local_hostname, timeout=s.timeout,
                                      context=self._context())
        else:
            client = smtplib.SMTP(local_hostname=self._local_hostname, timeout=s.timeout)
        watchdog = _Deadline(client, s.deadline)
        try:
            return self._session(client, data, recipients)
        except (smtplib.SMTPException, OSError) as e:
            if watchdog.expired:
                raise TimeoutError(f"the session took longer than smtp.deadline = "
                                   f"{s.deadline:g} s (the server answered too slowly)") from e
            raise
        finally:
            try:
                client.quit()  # the watchdog still runs: a QUIT trickled back is cut off too
            except (smtplib.SMTPException, OSError):
                client.close()
            watchdog.cancel()

    def _session(self, client: smtplib.SMTP, data: bytes, recipients: list[str]) -> str:
        s = self.settings
        # what __init__ would set: TLS checks the certificate against it
        client._host = s.host  # type: ignore[attr-defined]
        client.connect(s.host, s.port)
        client.ehlo_or_helo_if_needed()
        if s.tls == "starttls":
            client.starttls(context=self._context())
            client.ehlo()
        if s.user:
            client.login(s.user, self._password or "")
        code, resp = client.mail(self._sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, resp, self._sender)
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in recipients:
            code, resp = client.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, resp)
        if refused:
            try:
                client.rset()
            except (smtplib.SMTPException, OSError):
                pass  # the session ends below anyway; report the refusal, not this
            raise smtplib.SMTPRecipientsRefused(refused)
        code, resp = client.data(data)
        if code != 250:
            raise smtplib.SMTPDataError(code, resp)
        return f"{code} {_text(resp)}"


def _sendable(text: str) -> bool:
    return text.isascii() and text.isprintable()


class _Deadline:
    """Shuts an SMTP client's socket down when ``seconds`` have passed: a blocked read then
    fails at once instead of waiting for the next trickled byte."""

    def __init__(self, client: smtplib.SMTP, seconds: float) -> None:
        self.expired = False
        self._client = client
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        sock = getattr(self._client, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


def smtp_settings_from_env(base: SmtpSettings, env: Mapping[str, str]) -> SmtpSettings:
    """``base`` overridden by VULNMARK_SMTP_HOST, _PORT, _TLS, _USER and VULNMARK_REPORT_FROM.

    An empty VULNMARK_SMTP_USER turns login off. The password is not a setting: the caller
    reads VULNMARK_SMTP_PASSWORD and passes it to :class:`SmtpNotifier`.
    """
    changes: dict[str, object] = {}
    if (host := env.get("VULNMARK_SMTP_HOST")) is not None:
        host = host.strip()
        if not host or any(c.isspace() for c in host):
            raise NotifyError(f"VULNMARK_SMTP_HOST must be a host name, got {host!r}")
        changes["host"] = host
    if (port := env.get("VULNMARK_SMTP_PORT")) is not None:
        try:
            number = int(port.strip())
        except ValueError:
            number = 0
        if not 1 <= number <= 65535:
            raise NotifyError(f"VULNMARK_SMTP_PORT must be a port number 1-65535, got {port!r}")
        changes["port"] = number
    if (tls := env.get("VULNMARK_SMTP_TLS")) is not None:
        mode = tls.strip().lower()
        if mode not in TLS_MODES:
            raise NotifyError(
                f"VULNMARK_SMTP_TLS must be one of {', '.join(TLS_MODES)}, got {tls!r}"
            )
        changes["tls"] = mode
    if (user := env.get("VULNMARK_SMTP_USER")) is not None:
        changes["user"] = user.strip() or None
    if (sender := env.get("VULNMARK_REPORT_FROM")) is not None:
        try:
            _addr(sender.strip(), "sender")
        except NotifyError:
            raise NotifyError(
                f"VULNMARK_REPORT_FROM must be an email address, got {sender!r}"
            ) from None
        changes["sender"] = sender.strip()
    return replace(base, **changes)  # type: ignore[arg-type]
