"""Golden report bodies: the demo report and the canned report in all five formats, byte for byte.

Pinned before the package was re-cut by pipeline stage (issue 12), so that moving modules cannot
change a report: the HTML rows and the JSON findings are built on fast paths, and only a byte
comparison notices when one of them drifts.

Two values are not pinned, because they are hashes of something else that may legitimately
change: the policy digest (what it covers is the policy's business) and the evidence chain head
printed under Control health (it hashes the policy digest among others). Both are replaced by a
placeholder before the comparison, and the test checks that they were there to replace.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vulnmark.config.load import Config
from vulnmark.config.presets import preset
from vulnmark.control.daily import DailyJob
from vulnmark.evidence.events import TicketsImported
from vulnmark.report import DailyReport, ReportFormat
from vulnmark.report.mail import mail_bodies
from vulnmark.sources.demo import sample_tickets
from vulnmark.store import Store

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
SUFFIX = {"text": "txt", "html": "html", "md": "md", "json": "json", "csv": "csv"}
HEAD = re.compile(r"head [0-9a-f]{16}\b")


def _normalised(body: str, report: DailyReport) -> str:
    digest = report.policy_digest
    body = body.replace(digest, "<policy-digest>").replace(digest[:12], "<policy-digest>")
    return HEAD.sub("head <evidence-head>", body)


def _bodies(report: DailyReport) -> dict[str, str]:
    bodies = {fmt.value: fmt.to_format().format(report) for fmt in ReportFormat}
    for fmt, body in bodies.items():  # what the placeholders stand for is really there
        assert fmt == "csv" or report.policy_digest[:12] in body, fmt
    return bodies


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DailyReport:
    """The report `vulnmark demo` prints, at a fixed clock."""
    path = tmp_path_factory.mktemp("golden") / "demo.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upsert_tickets(sample_tickets(NOW), actor="demo", at=NOW,
                             event=TicketsImported("demo samples"))
        run = DailyJob(store, Config(preset("etsi-319-401"))).run(NOW)
    assert any(HEAD.search(n) for n in run.report.health.notes)
    return run.report


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_demo_report_is_byte_identical(demo: DailyReport, fmt: str) -> None:
    expected = (GOLDEN / f"demo.{SUFFIX[fmt]}").read_bytes().decode("utf-8")
    assert _normalised(_bodies(demo)[fmt], demo) == expected


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_canned_report_is_byte_identical(report: DailyReport, fmt: str) -> None:
    """The canned report of conftest.py: ten kinds, hostile text, a failed delivery."""
    expected = (GOLDEN / f"canned.{SUFFIX[fmt]}").read_bytes().decode("utf-8")
    assert _normalised(_bodies(report)[fmt], report) == expected


def test_stored_bodies_are_the_formatters_output(tmp_path: Path) -> None:
    """The daily job stores text, HTML and JSON exactly as the formats render them, and the
    email's two parts as the mail renders them."""
    with Store.open(f"sqlite:///{tmp_path / 'x.db'}") as store:
        store.upsert_tickets(sample_tickets(NOW), actor="demo", at=NOW)
        run = DailyJob(store, Config(preset("etsi-319-401"))).run(NOW)
    mail = mail_bodies(run.report, 25)
    assert run.bodies == {**{k: v for k, v in _bodies(run.report).items()
                             if k in ("text", "html", "json")},
                          "mail_text": mail.text, "mail_html": mail.html}
