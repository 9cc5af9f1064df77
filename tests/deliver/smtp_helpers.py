"""Helpers for the SMTP tests: recording handler, authenticator, certificates, ports.

A plain module (not conftest.py) so test modules can import it by a unique name."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

USER = "mso-mailer"
PASSWORD = "s3cr3t-P@ss w0rd!"


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 (aiosmtpd's Controller does not take port=0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    """Stores every accepted envelope; answers 451 to the first N RCPT or DATA commands,
    or always with ``refuse`` ("451 ..." or "550 ...")."""

    def __init__(self, fail_rcpt: int = 0, fail_data: int = 0, refuse: str | None = None):
        self.envelopes: list[Envelope] = []
        self.fail_rcpt = fail_rcpt
        self.fail_data = fail_data
        self.refuse = refuse
        self.rcpt_calls = 0
        self.data_calls = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.rcpt_calls += 1
        if self.refuse:
            return self.refuse
        if self.fail_rcpt > 0:
            self.fail_rcpt -= 1
            return "451 4.3.0 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Envelope
    ) -> str:
        self.data_calls += 1
        if self.fail_data > 0:
            self.fail_data -= 1
            return "451 4.3.0 Temporary local problem"
        self.envelopes.append(envelope)
        return f"250 2.0.0 OK queued as Q{len(self.envelopes):04d}"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    host: str
    port: int
    handler: Recorder


@dataclass
class Tls:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A verifying context that trusts only the self-signed test certificate."""
        return ssl.create_default_context(cafile=str(self.cert))
