"""``vulnmark demo`` (what ``make demo`` runs): the story of the audit finding, end to end."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from vulnmark.cli import cli


def test_demo_prints_the_report_writes_escaped_html_and_touches_no_store(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    db = tmp_path / "untouched.db"
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "--now", "2026-11-27T07:00:00Z",
                                      "demo", "--html", str(html)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for kind in ("[unclassified]", "[conflicting]", "[unmarked]", "[suspected]",
                 "[noncanonical]", "[mismatch]", "[due_soon]"):
        assert kind in out, kind
    assert 'comment 2: "Discussed with the security team: this is rated HIGH."' in out
    assert "besorolás: magas" in out and "CVE-2021-44228" in out
    assert "Unicode NFD encoding" in out
    assert "chain intact" in out
    page = html.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert not db.exists()
