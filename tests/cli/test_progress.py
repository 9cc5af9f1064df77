"""Progress of ``sync``: a count-and-rate line on a terminal, nothing under cron."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx

from vulnmark.cli.progress import ProgressLine, tty_progress
from vulnmark.sources.jira.settings import JiraSettings
from vulnmark.sources.jira.sync import run_sync
from vulnmark.store import Store
from vulnmark.testing import JiraEmulator


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_without_a_terminal() -> None:
    assert tty_progress(io.StringIO()) is None


def test_counts_and_rate_on_a_terminal(tmp_path: Path) -> None:
    stream = FakeTTY()
    progress = tty_progress(stream)
    assert isinstance(progress, ProgressLine)
    progress.interval = 0
    emu = JiraEmulator(cloud_page_cap=25)
    emu.generate(60)
    settings = JiraSettings(url="https://example.atlassian.net", jql="project = VULN",
                            flavour="cloud", email="a@example.org", token="t")
    with Store.open(f"sqlite:///{tmp_path / 'v.db'}") as store:
        run_sync(store, settings, progress=progress, transport=httpx.ASGITransport(app=emu))
    progress.close()
    out = stream.getvalue()
    assert progress.done == 60
    frames: list[Any] = [f for f in out.split("\r") if f]
    assert frames[0].startswith("Syncing Jira: 25 issues, ")
    assert "60 issues" in frames[-1] and "/s" in frames[-1] and out.endswith("\n")
