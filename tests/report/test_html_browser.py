"""The HTML a person reads, rendered by a real browser (Debian's ``chromium``, headless) at a
phone, a mail reading pane and a laptop width: the daily report, the email's HTML part and the
evidence pack's index page must not scroll sideways.

Chromium's headless window is at least 500 px wide, so each page is rendered in an iframe of
the width under test (``srcdoc``: same origin, so the page's own scroll width can be read).
Screenshots are kept as artefacts in ``build/screenshots/`` (CI keeps ``build/``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from canned_report import canned_findings, canned_health

from vulnmark.config.load import Config
from vulnmark.config.policy import Policy
from vulnmark.control.daily import DailyJob
from vulnmark.evidence import pack
from vulnmark.evidence.events import TicketsImported
from vulnmark.model import Evidence, Finding, TicketKey
from vulnmark.report import DailyReport, ReportFormat
from vulnmark.report.mail import mail_bodies
from vulnmark.sources.demo import sample_tickets
from vulnmark.store import Store

WIDTHS = (375, 800, 1280)
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
#: What the m1 report found overflowing: stack frames, URLs, configuration keys (175 chars).
UNBREAKABLE = ("at org.apache.hadoop.yarn.security.YarnAuthorizationProvider.getInstance("
               "YarnAuthorizationProvider.java:52)" * 2 + "/" + "hive.txn.manager" * 6)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium (Debian package `chromium`; .ci/run installs it)")
    return found


def _run(browser: str, *args: str) -> str:
    done = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--virtual-time-budget=3000", *args],
        capture_output=True, text=True, timeout=120, check=False)
    return done.stdout


def _frames(pages: dict[str, str], width: int) -> str:
    frames = "".join(
        f'<h3 style="font:12px sans-serif;margin:4px">{name} at {width} px</h3>'
        f'<iframe id="{name}" style="width:{width}px;height:1100px;border:1px solid #888" '
        f'srcdoc="{html.escape(body, quote=True)}"></iframe>' for name, body in pages.items())
    measure = ("<script>window.onload=function(){var out={};document.querySelectorAll('iframe')"
               ".forEach(function(f){var d=f.contentDocument.documentElement;"
               "out[f.id]=[d.scrollWidth,d.clientWidth];});"
               "document.title=JSON.stringify(out);};</script>")
    return ("<!DOCTYPE html><html><head><title>?</title></head>"
            f"<body>{frames}{measure}</body></html>")


def _report(policy: Policy) -> DailyReport:
    long = Finding(ticket=TicketKey("YARN-5642"), kind="suspected", title="Typos in 9 log "
                   "messages " + UNBREAKABLE, evidence=(Evidence("description", UNBREAKABLE),
                                                        Evidence("comment", UNBREAKABLE, 1)),
                   reporter="reporter with a rather long display name", created=NOW,
                   url="https://issues.apache.org/jira/browse/YARN-5642?" + "x" * 150)
    return DailyReport.from_policy(
        policy, generated_at=NOW, tickets=1299, vulnerabilities=12, by_class={"HIGH": 12},
        findings=(*canned_findings(), long), health=canned_health(),
        left_out=("152 older suspected tickets (resolved, unchanged since 2026-11-26 07:00): "
                  "run `vulnmark check --kind suspected --state resolved`",))


@pytest.fixture(scope="module")
def pack_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("pack")
    with Store.open(f"sqlite:///{tmp / 'p.db'}") as store:
        store.upsert_tickets(sample_tickets(NOW), actor="demo", at=NOW,
                             event=TicketsImported("demo samples"))
        config = Config.default()
        DailyJob(store, config).run(NOW)
        pack.export(store, config, datetime(2026, 11, 1, tzinfo=UTC),
                    datetime(2026, 11, 28, tzinfo=UTC), NOW, tmp / "pack")
    return (tmp / "pack" / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser() -> Iterator[str]:
    yield _chromium()


@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_scroll(browser: str, policy: Policy, pack_index: str, width: int,
                            tmp_path: Path) -> None:
    report = _report(policy)
    pages = {"report": ReportFormat.HTML.to_format().format(report),
             "mail": mail_bodies(report).html, "pack": pack_index}
    page = tmp_path / f"frames-{width}.html"
    page.write_text(_frames(pages, width), encoding="utf-8")
    window = f"--window-size={max(width + 40, 500)},{1200 * len(pages)}"
    dom = _run(browser, window, "--dump-dom", page.as_uri())
    found = re.search(r"<title>(\{.*?\})</title>", html.unescape(dom))
    assert found, dom[:500]
    measured = json.loads(found.group(1))
    SHOTS.mkdir(parents=True, exist_ok=True)
    _run(browser, window, f"--screenshot={SHOTS / f'report-mail-pack-{width}.png'}",
         page.as_uri())
    assert (SHOTS / f"report-mail-pack-{width}.png").stat().st_size > 1000
    for name, (scroll, client) in measured.items():
        assert scroll <= client, f"{name} at {width} px is {scroll} px wide (sideways scroll)"
