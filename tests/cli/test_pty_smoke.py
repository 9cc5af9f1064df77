"""Every command, run the way a person runs it: in a real process on a pseudo-terminal.

The other CLI tests capture output (click's runner, pipes), so code that only runs when
stdout/stderr is a terminal (progress bars, colour) is invisible to them: F2 of the reliability
report (`vulnmark check` crashed on every interactive terminal) shipped because of that. Here
every command's ``--help`` and a real invocation on a small store run with stdin, stdout and
stderr on a pty. A new command must be added to :data:`INVOCATIONS` (a test checks that each
leaf command of the click tree has one).
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

import core_support
from intake_support import cve, write_nvd
from vulnmark.cli import cli
from vulnmark.sources.demo import sample_tickets
from vulnmark.sources.files.jsonl import ticket_to_json
from vulnmark.testing import JiraEmulator
from vulnmark.testing.confluence_emulator import ConfluenceEmulator
from vulnmark.testing.server import serve_in_thread


@dataclass(frozen=True)
class Ran:
    code: int
    output: str


def run_on_pty(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 180) -> Ran:
    """Run ``argv`` with stdin/stdout/stderr on a new pseudo-terminal; return its exit code and
    everything it wrote (carriage returns and all)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                            close_fds=True, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
        else:
            proc.kill()
            pytest.fail(f"{argv} did not finish within {timeout} s")
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
    return Ran(code, b"".join(chunks).decode("utf-8", "replace"))


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def all_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, (*path, name))


TODAY = datetime.now(UTC).date().isoformat()

#: (command path, arguments, accepted exit codes, text the output must contain), in the order
#: a person would run them on a new store. Every leaf command appears at least once.
INVOCATIONS: list[tuple[tuple[str, ...], list[str], set[int], str]] = [
    (("init",), ["--preset", "etsi-319-401"], {0}, "vulnmark.toml"),
    (("import",), ["sample.jsonl"], {0}, "8 tickets"),
    (("policy", "show"), [], {0}, "CRITICAL"),
    (("policy", "page"), ["--lang", "hu"], {0}, "Sérülékenységi jegyek jelölése"),
    (("policy", "page"), ["--format", "html", "-o", "page.html"], {0}, "page.html"),
    (("policy", "publish"), [], {0}, "created page"),
    (("check",), [], {0}, "CA-101"),
    (("list",), [], {0}, "CA-102"),
    (("jql",), [], {0}, "labels"),
    (("ticket", "new"), ["--title", "Weak TLS ciphers on the OCSP responder",
                         "--label", "Vulnerability"], {0}, "VULN-1"),
    (("ticket", "label"), ["VULN-1", "HIGH"], {0}, "VULN-1"),
    (("ticket", "unlabel"), ["VULN-1", "HIGH"], {0}, "VULN-1"),
    (("ticket", "comment"), ["VULN-1", "Rated HIGH after review."], {0}, "VULN-1"),
    (("ticket", "show"), ["VULN-1"], {0}, "Weak TLS ciphers"),
    (("reclassify",), ["VULN-1", "MEDIUM", "--why", "re-scored after review"], {0}, "VULN-1"),
    (("outcome",), ["VULN-1", "--remediated"], {0}, "VULN-1"),
    (("ticket", "resolve"), ["VULN-1"], {0}, "VULN-1"),
    (("intake", "run"), ["--from", "nvd.json"], {0}, "opened VULN-2"),
    (("intake", "test"), ["CVE-2026-0001", "--from", "nvd.json"], {0}, "matches"),
    (("intake", "status"), [], {0}, "CVE-2026-0001"),
    (("assess",), ["VULN-2", "--affected", "--basis", "runs on the OCSP hosts"], {0},
     "affected"),
    (("backfill",), [], {0}, "CA-101"),
    (("import",), ["--accept-source-labels"], {0}, "now have their source's labels"),
    (("dismiss",), ["CA-101", "--kind", "suspected", "--reason", "not_a_vulnerability",
                    "--why", "a package name, not a finding"], {0}, "dismissed"),
    (("dismiss",), ["--list"], {0}, "CA-101"),
    (("undismiss",), ["CA-101"], {0}, "no longer dismissed"),
    (("incident", "new"), ["--title", "Findings in 2026 Audit", "--ca-owner", "Example CA"],
     {0}, "1"),
    (("incident", "action", "add"), ["1", "--title", "JIRA AUTOMATIC REPORT", "--kind",
                                     "Detect", "--due", TODAY], {0}, "Ongoing"),
    (("incident", "action", "set"), ["1", "1", "--status", "Complete", "--note", "Mailed."],
     {0}, "Complete"),
    (("incident", "finding", "add"), ["1", "--standard", "ETSI EN 319 401", "--clause",
                                      "7.9 REQ-7.9-10", "--severity", "minor", "--audit-start",
                                      TODAY, "--audit-end", TODAY], {0}, "REQ-7.9-10"),
    (("incident", "finding", "set"), ["1", "1", "--fulfilment-sent", TODAY], {0}, TODAY),
    (("incident", "timeline", "add"), ["1", "--at", f"{TODAY}T09:30Z", "Finding made."],
     {0}, "09:30"),
    (("incident", "update"), ["1", "--record"], {0}, "Action Items Status"),
    (("incident", "set"), ["1", "description", "A class only in a comment."], {0}, "set"),
    (("incident", "factor", "add"), ["1", "--title", "No machine-readable class"], {0}, "#1"),
    (("incident", "lesson", "add"), ["1", "--kind", "went-badly", "Watched fixing only."], {0},
     "didn't go well"),
    (("incident", "related", "add"), ["1", "--bug", "1863375", "--date", TODAY, "Same kind."],
     {0}, "1863375"),
    (("incident", "report"), ["1", "--template", "full"], {0}, "## Full Incident Report"),
    (("incident", "due"), [], {0}, "Next status update"),
    (("incident", "show"), ["1"], {0}, "JIRA AUTOMATIC REPORT"),
    (("incident", "list"), [], {0}, "Findings in 2026 Audit"),
    (("report", "daily"), [], {0}, "daily classification report"),
    (("report", "daily"), ["--send"], {0}, "report"),
    (("report", "remind"), ["--dry-run"], {0}, "reminder"),
    (("schedule",), ["--once"], {0}, "Z: "),
    (("report", "resend"), ["1"], {0, 2}, "run 1"),  # run 1 may be a check run (exit 2)
    (("watch",), ["--once", "--no-send"], {0}, "first tick"),
    (("runs",), [], {0}, "report"),
    (("metrics",), ["--from", TODAY, "--to", TODAY], {0}, "classified"),
    (("evidence", "export"), ["--from", TODAY, "--to", TODAY, "-o", "pack.zip"], {0},
     "pack.zip"),
    (("evidence", "verify"), [], {0}, "OK"),
    (("evidence", "verify"), ["--pack", "pack.zip"], {4}, "unsigned: integrity not proven"),
    (("evidence", "verify"), ["--tsa-cert", "no-such-tsa.pem"], {2}, "no-such-tsa.pem"),
    (("evidence", "keygen"), ["--output", "signing"], {0}, "key id"),
    (("sync",), [], {0}, "Synced"),
    (("demo",), ["--html", "demo.html"], {0}, "daily classification report"),
]


def test_every_leaf_command_has_an_invocation() -> None:
    covered = {path for path, *_ in INVOCATIONS}
    missing = sorted(" ".join(p) for p in set(leaf_commands(cli)) - covered)
    assert not missing, f"add a pty invocation for: {missing}"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    with core_support.smtp_sink() as sink:
        yield sink


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    lines = [json.dumps(ticket_to_json(t)) for t in sample_tickets(datetime.now(UTC))]
    (tmp_path / "sample.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_nvd(tmp_path / "nvd.json", [cve(1)])
    return tmp_path


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VULNMARK_", "JIRA_"))}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40",
               VULNMARK_DB=f"sqlite:///{workdir / 'vulnmark.db'}",
               VULNMARK_CONFIG=str(workdir / "vulnmark.toml"), **extra)
    return env


def _no_traceback(ran: Ran, what: str) -> None:
    assert "Traceback" not in ran.output, f"{what}:\n{ran.output}"


def test_f2_every_command_help_on_a_terminal(workdir: Path) -> None:
    """--help of every command and group, in one process per command (as typed)."""
    env = _env(workdir)
    for path in [(), *all_commands(cli)]:
        ran = run_on_pty([sys.executable, "-m", "vulnmark", *path, "--help"], env=env,
                         cwd=workdir)
        _no_traceback(ran, " ".join(path))
        assert ran.code == 0, (path, ran.output)
        assert "Usage:" in ran.output and "Example" in ran.output, (path, ran.output)


@pytest.mark.slow
def test_f2_every_command_runs_on_a_terminal(workdir: Path,
                                          smtp_sink: tuple[int, list[bytes]]) -> None:
    port, received = smtp_sink
    emu = JiraEmulator(auth={JiraEmulator.basic("pty@example.org", "pty-token")})
    emu.generate(30, project="SEC")
    wiki = ConfluenceEmulator(credentials={ConfluenceEmulator.basic("pty@example.org", "w")})
    with serve_in_thread(emu) as url, serve_in_thread(wiki) as wiki_url:
        env = _env(workdir, VULNMARK_SMTP_HOST="127.0.0.1", VULNMARK_SMTP_PORT=str(port),
                   JIRA_EMAIL="pty@example.org", JIRA_TOKEN="pty-token",
                   VULNMARK_CONFLUENCE_USER="pty@example.org", VULNMARK_CONFLUENCE_TOKEN="w")
        for path, args, codes, expect in INVOCATIONS:
            if path == ("import",):  # after init: recipients and a Jira site for sync
                (workdir / "vulnmark.toml").write_text(
                    'preset = "etsi-319-401"\nrecipients = ["mso@example.org"]\n'
                    f'[source.jira]\nurl = "{url}"\nflavour = "cloud"\n'
                    'jql = "project = SEC"\n'
                    f'[publish]\nurl = "{wiki_url}"\nflavour = "cloud"\nspace = "SEC"\n'
                    '[intake]\nvendors = ["OpenSSL"]\n'
                    # nothing listens there: schedule and watch report the failed intake
                    'nvd_url = "http://127.0.0.1:9/rest/json/cves/2.0"\n',
                    encoding="utf-8")
            ran = run_on_pty([sys.executable, "-m", "vulnmark", *path, *args], env=env,
                             cwd=workdir)
            what = " ".join([*path, *args])
            _no_traceback(ran, what)
            assert ran.code in codes, f"{what}: exit {ran.code}\n{ran.output}"
            assert expect in ran.output, f"{what}: {expect!r} not in\n{ran.output}"
    assert len(received) >= 1  # report daily --send delivered
