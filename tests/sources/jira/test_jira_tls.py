"""TLS: verification is always on; a private CA is trusted only through ``ca_bundle``."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from vulnmark.sources.jira.settings import JiraSettings, JiraUnavailable
from vulnmark.sources.jira.sync import run_sync
from vulnmark.store import Store
from vulnmark.testing import JiraEmulator
from vulnmark.testing.server import serve_in_thread

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def make_ca_and_cert(d: Path) -> tuple[Path, Path, Path]:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=vulnmark test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return d / "ca.pem", d / "srv.pem", d / "srv.key"


def test_private_ca_needs_ca_bundle(tmp_path: Path) -> None:
    ca, cert, key = make_ca_and_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    emu = JiraEmulator()
    emu.generate(5)
    with serve_in_thread(emu, ssl_context=ctx) as url, Store.open("sqlite://") as store:
        assert url.startswith("https://127.0.0.1:")
        base: dict[str, Any] = {"url": url, "jql": "project = VULN", "flavour": "cloud",
                                "email": "a@example.org", "token": "t"}
        with pytest.raises(JiraUnavailable, match="certificate verification failed.*ca_bundle"):
            run_sync(store, JiraSettings(**base))
        assert emu.request_count == 0  # refused before any request reached the server
        r = run_sync(store, JiraSettings(**base, ca_bundle=str(ca)))
        assert r.issues == 5
