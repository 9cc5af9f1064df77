"""Thirty days of the daily control, driven through the CLI with --now.

November 2026 in Europe/Budapest, the schedule "0 7 * * *", `vulnmark schedule --once` every
morning at 07:05 against a real aiosmtpd server on 127.0.0.1. On the way: one missed day (the
10th), one refused delivery (the 15th), one overdue critical (VULN-1), one reclassification
(VULN-2, HIGH -> CRITICAL), one no-remediation outcome (VULN-3). Then the reports, the pack
and tampering with the live log are checked.
"""

from __future__ import annotations

import email
import json
import socket
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from core_support import Cli

BUDAPEST = ZoneInfo("Europe/Budapest")
MISSED, REFUSED = 10, 15
pytestmark = pytest.mark.slow


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = False

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return "550 5.7.1 Relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Envelope
    ) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append(email.message_from_bytes(raw))
        return f"250 2.0.0 OK queued as Q{len(self.messages):04d}"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))  # aiosmtpd's Controller does not take port=0
        port = int(s.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def at(day: int, hour: int, minute: int = 0) -> str:
    local = datetime(2026, 11, day, hour, minute, tzinfo=BUDAPEST)
    return local.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def test_thirty_days(vm: Cli, tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    cfg = tmp_path / "vulnmark.toml"
    cfg.write_text(f"""timezone = "Europe/Budapest"
recipients = ["mso@example.org"]
[smtp]
host = "127.0.0.1"
port = {port}
retries = 1
backoff = 0.0
timeout = 10
[schedule]
cron = "0 7 * * *"
""", encoding="utf-8")

    def run(*args: str, now: str) -> Any:
        return vm(*args, now=now, config=cfg)

    def ok(*args: str, now: str) -> Any:
        result = run(*args, now=now)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return result

    ok("ticket", "new", "--title", "OpenSSL flaw on the OCSP responder", "--label",
       "Vulnerability", "--label", "CRITICAL", "--by", "ann", now=at(1, 9))
    ok("ticket", "new", "--title", "Outdated nginx on the CRL host", "--label",
       "Vulnerability", "--label", "HIGH", "--by", "ann", now=at(1, 10))
    ok("ticket", "new", "--title", "libxml2 CVE in the RA portal", "--label",
       "Vulnerability", "--label", "CRITICAL", "--by", "ann", now=at(2, 11))
    reports: dict[int, dict[str, Any]] = {}
    for day in range(1, 31):
        if day == 3:
            ok("outcome", "VULN-3", "--no-remediation", "compensating_controls", "--basis",
               "the RA portal parser is disabled by configuration", "--by", "mso",
               now=at(3, 16))
        if day == 5:
            ok("reclassify", "VULN-2", "CRITICAL", "--why", "exploit published for nginx",
               "--by", "mso", now=at(5, 9))
        if day == MISSED:
            continue
        box.refuse = day == REFUSED
        result = run("schedule", "--once", now=at(day, 7, 5))
        if day == REFUSED:
            assert result.exit_code == 3 and "not delivered" in result.stderr
        else:
            assert result.exit_code == 0, (day, result.output, result.stderr)
            reports[day] = {"run": int(result.output.split("report run ")[1].split()[0])}
        # a second call the same morning finds the slot covered
        if day == 1:
            assert "nothing due" in ok("schedule", "--once", now=at(1, 8)).output

    reports[REFUSED] = {"run": reports[REFUSED - 1]["run"] + 1}
    assert len(reports) == 29 and len(box.messages) == 28
    subjects = [str(m["Subject"]) for m in box.messages]
    assert "1 missed run" in subjects[MISSED - 1]                  # the report of the 11th
    assert "1 undelivered report" in subjects[REFUSED - 2]        # the 16th (10th missing)

    def report(day: int) -> dict[str, Any]:
        with sqlite3.connect(tmp_path / "x.db") as conn:
            (body,) = conn.execute("SELECT body FROM reports WHERE run_id = ? AND format = "
                                   "'json'", (reports[day]["run"],)).fetchone()
        return dict(json.loads(body))

    def kinds(day: int) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for f in report(day)["findings"]:
            out.setdefault(f["ticket"], set()).add(f["kind"])
        return out

    assert kinds(2) == {}                      # VULN-1 due on the 3rd at 09:00: > 24 h away
    assert kinds(3) == {"VULN-1": {"due_soon"}}    # VULN-3 (due the 4th) gets its outcome
    assert kinds(4)["VULN-1"] == {"overdue"} and "VULN-3" not in kinds(4)
    # VULN-2 keeps its discovery time: as CRITICAL it was due on the 3rd, so it is overdue
    assert kinds(6)["VULN-2"] == {"overdue"}
    assert kinds(30) == {"VULN-1": {"overdue"}, "VULN-2": {"overdue"}}
    text_11 = json.dumps(report(11))
    assert "2026-11-10" in text_11

    ok("evidence", "keygen", "--output", "signing", now=at(30, 12))
    exported = vm("evidence", "export", "--from", "2026-11-01", "--to", "2026-11-30",
                  "--output", "nov.zip", now=at(30, 12), config=cfg,
                  env={"VULNMARK_SIGNING_KEY": "signing.key"})
    assert exported.exit_code == 0, exported.output + exported.stderr
    assert "pack OK, signed by key" in ok("evidence", "verify", "--pack", "nov.zip",
                                          "--public-key", "signing.pub", now=at(30, 12)).output
    assert run("evidence", "verify", "--pack", "nov.zip", now=at(30, 12)).exit_code == 4
    with zipfile.ZipFile(tmp_path / "nov.zip") as z:
        files = {n: z.read(n).decode() for n in z.namelist()}
    days = [line.split(",") for line in files["control_days.csv"].splitlines()[1:]]
    assert [d[1] for d in days if d[2] == "missed"] == ["2026-11-10"]
    assert [d[1] for d in days if d[2] == "failed"] == ["2026-11-15"]
    assert sum(d[2] == "delivered" for d in days) == 28
    deliveries = files["deliveries.csv"].splitlines()[1:]
    assert len(deliveries) == 29 and sum(",failed," in d for d in deliveries) == 1
    assert all("@" in d.split(",")[3] for d in deliveries if ",delivered," in d)  # Message-ID
    assert "VULN-2,HIGH,CRITICAL,mso,exploit published for nginx" in files[
        "reclassifications.csv"]
    assert "VULN-3,no_remediation,compensating_controls,mso" in files["outcomes.csv"]
    assert len([n for n in files if n.startswith("reports/") and n.endswith(".json")]) == 29
    last = json.loads(files[f"reports/run-{reports[30]['run']:06d}.json"])
    assert {f["ticket"] for f in last["findings"] if f["kind"] == "overdue"} == {
        "VULN-1", "VULN-2"}
    metrics = json.loads(files["metrics.json"])
    [crit] = [r for r in metrics["by_class"] if r["classification"] == "CRITICAL"]
    assert (crit["discovered"], crit["met"], crit["missed"]) == (3, 1, 2)
    assert "1 of 30 due runs were missed" in files["index.html"]

    # any row of the live log changed: verify names it; the next report says so
    with sqlite3.connect(tmp_path / "x.db") as conn:
        seq = conn.execute("SELECT seq FROM events WHERE kind = 'outcome'").fetchone()[0]
        conn.execute("UPDATE events SET payload = replace(payload, 'mso', 'eve') "
                     "WHERE seq = ?", (seq,))
    broken = run("evidence", "verify", now=at(30, 13))
    assert broken.exit_code == 1 and f"record {seq}" in broken.stderr
    assert "EVIDENCE LOG BROKEN" in run("report", "daily", now=at(30, 14)).output
