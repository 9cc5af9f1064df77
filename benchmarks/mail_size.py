"""Benchmark: the size of the daily email at 1,000, 26,000 and 1,000,000 tickets.

Findings are made from the real Apache Jira issues in ``../shared/data/jira_apache_issues``
(titles, description snippets, reporters), cycled to the size, at the rate the check finds
them there (195 suspected of 1,299 tickets) plus one needs-classification and one deadline
finding per 100 tickets: the worst case, every finding listed (``suspected_scope = "all"``).
For each size it prints the HTML part of the email (target ≤ 100 KB, where Gmail clips at
about 102 KB), the text part, the findings listed per section, the attachments (the full
report as HTML and CSV, zipped above 1 MB) and the time to build them.

Usage: ``python benchmarks/mail_size.py [--sizes 1000,26000,1000000]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vulnmark.config.presets import preset
from vulnmark.model import Evidence, Finding, TicketKey
from vulnmark.report.mail import BUDGET, attachments, mail_bodies
from vulnmark.report.model import ControlHealth, DailyReport

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "jira_apache_issues"
NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def apache() -> list[dict[str, str]]:
    out = []
    for page in sorted(DATA.glob("search_page_*.json")):
        for issue in json.loads(page.read_text(encoding="utf-8"))["issues"]:
            f = issue["fields"]
            out.append({"key": issue["key"], "title": f.get("summary") or "",
                        "text": (f.get("description") or f.get("summary") or "")[:400],
                        "reporter": (f.get("reporter") or {}).get("displayName") or "-"})
    return out


def report(tickets: int, issues: list[dict[str, str]]) -> DailyReport:
    findings: list[Finding] = []
    suspected = tickets * 195 // 1299
    for i in range(suspected + 2 * (tickets // 100)):
        src = issues[i % len(issues)]
        kind = ("suspected" if i < suspected else
                "unclassified" if i < suspected + tickets // 100 else "overdue")
        findings.append(Finding(
            ticket=TicketKey(f"{src['key']}-{i}"), kind=kind,  # type: ignore[arg-type]
            title=src["title"], classification="CRITICAL" if kind == "overdue" else None,
            evidence=(Evidence("description", src["text"]),), reporter=src["reporter"],
            due_at=NOW - timedelta(hours=i % 300) if kind == "overdue" else None,
            created=NOW - timedelta(days=i % 4000)))
    health = ControlHealth(runs=(), missed_days=(), last_delivery=None, undelivered=(),
                           notes=("Evidence log verified: 1234 records, head 0123456789abcdef",))
    return DailyReport.from_policy(preset("etsi-319-401"), generated_at=NOW, tickets=tickets,
                                   vulnerabilities=tickets // 50, by_class={},
                                   findings=tuple(findings), health=health)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,26000,1000000")
    sizes = [int(x) for x in ap.parse_args().sizes.split(",")]
    if not DATA.is_dir():
        raise SystemExit(f"needs {DATA}")
    issues = apache()
    print(f"{'tickets':>9} {'findings':>9} {'HTML part':>10} {'text part':>10} {'listed':>7} "
          f"{'attachments':>24} {'build s':>8}  target HTML <= {BUDGET / 1000:.0f} KB")
    for n in sizes:
        r = report(n, issues)
        t0 = time.perf_counter()
        mail = mail_bodies(r)
        files = attachments(r)
        took = time.perf_counter() - t0
        html = len(mail.html.encode())
        shown = ", ".join(f"{a.filename.rsplit('.', 1)[1]} {len(a.content) / 1e6:.1f} MB"
                          for a in files)
        print(f"{n:>9,} {len(r.findings):>9,} {html / 1000:>8.1f}KB "
              f"{len(mail.text.encode()) / 1000:>8.1f}KB {mail.items:>7} {shown:>24} "
              f"{took:>8.1f}  {'met' if html <= BUDGET else 'NOT met'}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
